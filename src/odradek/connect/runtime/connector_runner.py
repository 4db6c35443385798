"""A connector instance on the worker that owns it: started, asked for task configs, stopped.
Calls into the connector run on a thread of the runner's own with a deadline, so a connector
that hangs in `start()` or `task_configs()` fails instead of blocking the herder."""

from __future__ import annotations

import concurrent.futures
import logging
import traceback
from collections.abc import Callable, Mapping
from typing import TypeVar

from odradek.connect.api.connector import Connector
from odradek.connect.api.context import ConnectorContext
from odradek.connect.api.errors import ConnectException

log = logging.getLogger("odradek.connect.connector")
T = TypeVar("T")


class _Context(ConnectorContext):
    def __init__(self, runner: ConnectorRunner) -> None:
        self.runner = runner

    def request_task_reconfiguration(self) -> None:
        self.runner.reconfigure_requested = True
        self.runner.wake()

    def raise_error(self, exc: Exception) -> None:
        self.runner.failed_trace = "".join(traceback.format_exception(exc))
        self.runner.wake()


class ConnectorRunner:
    def __init__(
        self,
        name: str,
        connector: Connector,
        config: Mapping[str, str],
        resolved: Mapping[str, str],
        wake: Callable[[], None],
        deadline_s: float,
    ) -> None:
        self.name = name
        self.connector = connector
        self.config = dict(config)  # as stored (placeholders): what changes are detected against
        self.resolved = dict(resolved)  # placeholders resolved: what the connector sees
        self.wake = wake
        self.deadline_s = deadline_s
        self.reconfigure_requested = True
        self.failed_trace: str | None = None
        self.started = False
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"connector-{name}")

    def _call(self, fn: Callable[[], T]) -> T:
        future = self._executor.submit(fn)
        try:
            return future.result(self.deadline_s)
        except concurrent.futures.TimeoutError as exc:
            raise ConnectException(
                f"Connector {self.name} did not return within {self.deadline_s:.0f} s (hung)"
            ) from exc

    def start(self) -> None:
        self.connector.initialize(_Context(self))
        self._call(lambda: self.connector.start(self.resolved))
        self.started = True

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        configs = self._call(lambda: self.connector.task_configs(max_tasks))
        return [dict(c) for c in configs]

    def stop(self) -> None:
        if self.started:
            try:
                self._call(self.connector.stop)
            except Exception:
                log.exception("stopping connector %s failed", self.name)
        self.started = False
        self._executor.shutdown(wait=False, cancel_futures=True)
