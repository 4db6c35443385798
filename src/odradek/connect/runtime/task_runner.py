"""A task's life cycle (shared by the source and sink runners).

A runner runs its task in a thread of its own (`start()`, `odradek.task.isolation=thread`) or in
the main thread of a task process (`run()`, called by `task_child.py`; the worker holds a
`task_process.ProcessTaskRunner`, which has the same interface as this class). Every call into
connector code (`poll`, `put`, `flush`, `commit`...) goes through `call(name, fn)`, which records
in a `BusyCell` when it started: the herder's watchdog reads `busy_for_ms` and fails a task whose
call outlives `odradek.task.hung.timeout.ms`. A task process is then killed; a thread cannot be,
so it is abandoned (its results are discarded by the `cancelled` flag). A new runner starts after
the back-off.

States reported to the listener: RUNNING, PAUSED, FAILED (with the trace), UNASSIGNED (stopped).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from odradek.connect.runtime.status_records import State

log = logging.getLogger("odradek.connect.task")
T = TypeVar("T")


class ConnectorTaskId(NamedTuple):
    connector: str
    task: int

    def __str__(self) -> str:
        return f"{self.connector}-{self.task}"


StateListener = Callable[["TaskRunner", State, str | None], None]


class BusyCell:
    """Which connector call a task is in, and since when (monotonic seconds; read by the
    watchdog). `task_process.SharedBusyCell` keeps the same in memory shared with the worker."""

    def __init__(self) -> None:
        self._started: float | None = None
        self._name = ""

    def enter(self, name: str) -> None:
        self._name = name
        self._started = time.monotonic()

    def leave(self) -> None:
        self._started = None

    def read(self) -> tuple[str, float] | None:
        started = self._started
        return None if started is None else (self._name, started)


class TaskRunner(ABC):
    def __init__(self, task_id: ConnectorTaskId, listener: StateListener) -> None:
        self.id = task_id
        self.listener = listener
        self.stopping = threading.Event()
        self.cancelled = threading.Event()
        self.paused = threading.Event()
        self._thread: threading.Thread | None = None
        self.busy: BusyCell = BusyCell()
        self.failed_trace: str | None = None
        self.started_at = time.monotonic()

    # -- life cycle (worker side) ---------------------------------------------------------------

    def start(self, paused: bool = False) -> None:
        if paused:
            self.paused.set()
        self._thread = threading.Thread(target=self._main, name=f"task-{self.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()

    def join(self, timeout_s: float) -> bool:
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def cancel(self) -> None:
        """Abandon the thread (hung or not stopping): nothing it does from now on counts."""
        self.cancelled.set()
        self.stopping.set()

    def pause(self) -> None:
        self.paused.set()
        self._report(State.PAUSED, None)

    def resume(self) -> None:
        self.paused.clear()
        self._report(State.RUNNING, None)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def busy_for_ms(self) -> tuple[str, float] | None:
        found = self.busy.read()
        if found is None:
            return None
        return found[0], (time.monotonic() - found[1]) * 1000

    # -- task side -------------------------------------------------------------------------------

    def call(self, name: str, fn: Callable[[], T]) -> T:
        busy = self.busy
        busy.enter(name)
        try:
            return fn()
        finally:
            busy.leave()

    def _report(self, state: State, trace: str | None) -> None:
        if self.cancelled.is_set():
            return
        try:
            self.listener(self, state, trace)
        except Exception:
            log.exception("status listener failed for %s", self.id)

    def run(self) -> None:
        """The task's whole life in the calling thread (a task process's main thread)."""
        self._main()

    def _main(self) -> None:
        try:
            self.initialize()
            self._report(State.PAUSED if self.paused.is_set() else State.RUNNING, None)
            self.execute()
        except BaseException as exc:
            if not self.cancelled.is_set() and not (self.stopping.is_set() and isinstance(exc, StopTask)):
                self.failed_trace = "".join(traceback.format_exception(exc))
                log.error(
                    "Task %s threw an uncaught and unrecoverable exception: %s",
                    self.id,
                    exc,
                    exc_info=not isinstance(exc, StopTask),
                )
                self._report(State.FAILED, self.failed_trace)
        finally:
            try:
                self.close()
            except Exception:
                log.exception("closing task %s failed", self.id)
            if self.failed_trace is None and not self.cancelled.is_set():
                self._report(State.UNASSIGNED, None)

    @abstractmethod
    def initialize(self) -> None:
        """Build converters, transforms, clients; start the task (in the task's thread)."""

    @abstractmethod
    def execute(self) -> None:
        """The main loop, until `stopping` is set."""

    @abstractmethod
    def close(self) -> None:
        """Stop the task and release clients (always called)."""

    def wait_while_paused(self) -> bool:
        """Block while paused; False when the task should stop."""
        while self.paused.is_set() and not self.stopping.is_set():
            time.sleep(0.05)
        return not self.stopping.is_set()


class StopTask(Exception):
    """Raised inside a task to unwind it when it was asked to stop."""
