"""The task process's side (see `task_process.py` for the protocol): rebuild the task's setup, run
the source or sink runner in the main thread, serve the worker's messages in a second thread.

Imported by the fork server before any task starts, so its imports (the runners, converters,
transforms, built-in connectors, confluent-kafka) and the built-in plugin table are paid for
once, not per task.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import multiprocessing.connection
import os
import signal
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from odradek.connect.api.errors import ConnectException
from odradek.connect.runtime.offset_store import OffsetStore
from odradek.connect.runtime.plugins import Plugins
from odradek.connect.runtime.sink_task_runner import SinkTaskRunner
from odradek.connect.runtime.source_task_runner import SourceTaskRunner
from odradek.connect.runtime.status_records import State
from odradek.connect.runtime.task_process import SharedBusyCell, TaskSpec
from odradek.connect.runtime.task_runner import TaskRunner

log = logging.getLogger("odradek.connect.task")
RPC_TIMEOUT_S = 60.0
ORPHAN_EXIT_S = 3.0

_BUILTIN_PLUGINS = Plugins()  # built in the fork server: every task process inherits it


class Channel:
    """The task's end of the pipe: one writer lock, request/reply by id."""

    def __init__(self, conn: multiprocessing.connection.Connection) -> None:
        self.conn = conn
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._waiting: dict[int, list[Any]] = {}

    def send(self, message: tuple[Any, ...]) -> None:
        with self._lock:
            self.conn.send(message)

    def request(self, kind: str, *args: Any) -> Any:
        request_id = next(self._ids)
        slot: list[Any] = [threading.Event(), None, None]
        self._waiting[request_id] = slot
        try:
            self.send((kind, request_id, *args))
            if not slot[0].wait(RPC_TIMEOUT_S):
                raise ConnectException(f"the worker did not answer {kind} within {RPC_TIMEOUT_S:.0f} s")
        except OSError as exc:
            raise ConnectException(f"the worker is gone: {exc}") from exc
        finally:
            self._waiting.pop(request_id, None)
        if slot[2] is not None:
            raise ConnectException(slot[2])
        return slot[1]

    def reply(self, request_id: int, result: Any, error: str | None) -> None:
        slot = self._waiting.get(request_id)
        if slot is not None:
            slot[1], slot[2] = result, error
            slot[0].set()

    def fail_all(self, error: str) -> None:
        for slot in list(self._waiting.values()):
            slot[2] = error
            slot[0].set()


class RemoteOffsetStore(OffsetStore):
    """The worker's offset store, over the pipe."""

    def __init__(self, channel: Channel) -> None:
        super().__init__()
        self.channel = channel

    def get(
        self, connector: str, partitions: Iterable[Mapping[str, Any]]
    ) -> dict[str, dict[str, Any] | None]:
        result: dict[str, dict[str, Any] | None] = self.channel.request(
            "offsets.get", connector, [dict(p) for p in partitions]
        )
        return result

    def write(
        self, connector: str, offsets: Mapping[str, tuple[dict[str, Any], dict[str, Any] | None]]
    ) -> None:
        self.channel.request("offsets.put", connector, dict(offsets))

    def mirror(
        self, connector: str, offsets: Mapping[str, tuple[dict[str, Any], dict[str, Any] | None]]
    ) -> None:
        self.channel.request("offsets.mirror", connector, dict(offsets))


def main(
    conn: multiprocessing.connection.Connection, spec: TaskSpec, busy_started: Any, busy_name: Any
) -> None:
    # Ctrl-C reaches the whole process group: the worker decides when its tasks stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(
        level=spec.log_level,
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s [task {spec.task_id}] %(name)s: %(message)s",
    )
    channel = Channel(conn)
    plugins = Plugins(spec.plugin_path) if any(p.strip() for p in spec.plugin_path) else _BUILTIN_PLUGINS
    setup = dataclasses.replace(
        spec.setup,
        plugins=plugins,
        offset_store=RemoteOffsetStore(channel),
        on_topic=lambda topic: _send_quietly(channel, ("topic", topic)),
    )

    def listener(_runner: TaskRunner, state: State, trace: str | None) -> None:
        _send_quietly(channel, ("state", state.value, trace))

    runner: TaskRunner
    if spec.kind == "sink":
        runner = SinkTaskRunner(spec.task_id, setup, listener)
    else:
        runner = SourceTaskRunner(spec.task_id, setup, listener)
    runner.busy = SharedBusyCell(busy_started, busy_name)
    if spec.paused:
        runner.paused.set()
    threading.Thread(target=_serve, args=(channel, runner), name="task-control", daemon=True).start()
    profile_dir = os.environ.get("ODRADEK_TASK_PROFILE")  # a cProfile of each task, for developers
    try:
        if profile_dir:
            import cProfile

            cProfile.runctx(
                "runner.run()",
                globals(),
                {"runner": runner},
                f"{profile_dir}/{spec.task_id}.{os.getpid()}.prof",
            )
        else:
            runner.run()
    finally:
        with contextlib.suppress(OSError):
            conn.close()


def _send_quietly(channel: Channel, message: tuple[Any, ...]) -> None:
    with contextlib.suppress(OSError, ValueError):  # the worker is gone; the control thread stops the task
        channel.send(message)


def _serve(channel: Channel, runner: TaskRunner) -> None:
    while True:
        try:
            message = channel.conn.recv()
        except (EOFError, OSError):
            break
        kind = message[0]
        if kind == "reply":
            channel.reply(message[1], message[2], message[3])
        elif kind == "stop":
            runner.stop()
        elif kind == "pause":
            runner.paused.set()
        elif kind == "resume":
            runner.paused.clear()
        elif kind == "kill":
            _exit_now(runner, 1)
    # the worker is gone (killed, or it closed the pipe): stop at once, commit nothing
    channel.fail_all("the worker is gone")
    runner.cancel()
    timer = threading.Timer(ORPHAN_EXIT_S, os._exit, args=(0,))
    timer.daemon = True
    timer.start()


def _exit_now(runner: TaskRunner, code: int) -> None:
    """Killed by the watchdog: a sink's consumer leaves its group first (its partitions move to the
    next task at once instead of after the session timeout), then the process exits."""
    runner.cancelled.set()
    consumer = getattr(runner, "consumer", None)
    if consumer is not None:
        try:
            consumer.close()
        except Exception as exc:
            log.info("closing the consumer of a killed task: %s", exc)
    os._exit(code)
