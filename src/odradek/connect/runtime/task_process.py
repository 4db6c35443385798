"""A task in a child process of its own (`odradek.task.isolation=process`, the default): the worker
side, `ProcessTaskRunner`, with the interface the herder uses for thread runners too.

Why a process: source and sink tasks then run on different cores (no shared GIL), a task that
crashes the interpreter (a C extension, `os._exit`, out of memory) takes only itself down, and a
task hung past `odradek.task.hung.timeout.ms` is killed for real, instead of being abandoned in a
thread that keeps its memory, sockets and CPU.

Processes come from a fork server (multiprocessing's `forkserver` context) that imported the
runtime, the built-in plugins and confluent-kafka once, so a task starts in a few tens of
milliseconds, from a clean single-threaded process (never a fork of the threaded worker).

Between worker and task: a duplex pipe of small pickled tuples, and a shared busy cell.

    task → worker  ("state", State value, trace | None)       RUNNING/FAILED/UNASSIGNED
                   ("topic", name)                              KIP-558 active topic
                   ("offsets.get", id, connector, partitions)   reads from the worker's offset store
                   ("offsets.put", id, connector, offsets)      writes to it (answered when stored)
    worker → task  ("stop",) ("pause",) ("resume",)
                   ("kill",)   hung: leave the consumer group if possible, then exit at once
                   ("reply", id, result, error | None)

The busy cell (`SharedBusyCell`: a double and a name in shared memory) says which connector call
the task is in and since when (CLOCK_MONOTONIC is one clock for all processes), so the watchdog
reads it without a message per call. A task whose pipe closes (the worker died) stops at once
without committing anything, as if it had been killed with its worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import threading
from dataclasses import dataclass, field
from multiprocessing.sharedctypes import RawArray
from typing import Any

from odradek.connect.runtime.status_records import State
from odradek.connect.runtime.task_runner import BusyCell, ConnectorTaskId, StateListener
from odradek.connect.runtime.task_setup import TaskSetup

log = logging.getLogger("odradek.connect.task")
NAME_BYTES = 48
KILL_GRACE_S = 2.0
_context_lock = threading.Lock()
_contexts: list[Any] = []


def task_context() -> Any:
    """The forkserver context, its server preloaded with the task runtime (started on first use)."""
    with _context_lock:
        if not _contexts:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["odradek.connect.runtime.task_child"])
            _contexts.append(context)
        return _contexts[0]


class SharedBusyCell(BusyCell):
    """A `BusyCell` in shared memory: written by the task process, read by the worker."""

    def __init__(self, started: Any = None, name: Any = None) -> None:
        self.started = started if started is not None else RawArray("d", 1)
        self.name = name if name is not None else RawArray("c", NAME_BYTES)

    def enter(self, name: str) -> None:
        self.name.value = name.encode()[: NAME_BYTES - 1]
        self.started[0] = _monotonic()

    def leave(self) -> None:
        self.started[0] = 0.0

    def read(self) -> tuple[str, float] | None:
        started = self.started[0]
        if not started:
            return None
        return self.name.value.decode(errors="replace"), started


def _monotonic() -> float:
    import time

    return time.monotonic()


@dataclass
class TaskSpec:
    """What a task process is built from (picklable: `TaskSetup` without the worker's objects)."""

    task_id: ConnectorTaskId
    kind: str  # "source" | "sink"
    setup: TaskSetup
    plugin_path: list[str]
    paused: bool
    log_level: int
    extra: dict[str, Any] = field(default_factory=dict)


class ProcessTaskRunner:
    """The worker's handle on a task process (the same interface as `TaskRunner`)."""

    def __init__(
        self,
        task_id: ConnectorTaskId,
        kind: str,
        setup: TaskSetup,
        plugin_path: list[str],
        listener: StateListener,
    ) -> None:
        self.id = task_id
        self.kind = kind
        self.setup = setup
        self.plugin_path = plugin_path
        self.listener = listener
        self.paused = threading.Event()
        self.cancelled = threading.Event()
        self.busy = SharedBusyCell()
        self.failed_trace: str | None = None
        self._final: State | None = None
        self._process: Any = None
        self._conn: multiprocessing.connection.Connection | None = None
        self._send_lock = threading.Lock()
        self._reader: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------------

    def start(self, paused: bool = False) -> None:
        from odradek.connect.runtime import task_child

        if paused:
            self.paused.set()
        context = task_context()
        ours, theirs = context.Pipe(duplex=True)
        setup = self.setup
        spec = TaskSpec(
            self.id,
            self.kind,
            TaskSetup(
                connector_config=setup.connector_config,
                task_config=setup.task_config,
                worker_props=dict(setup.worker_props),
                plugins=None,  # type: ignore[arg-type]  # rebuilt in the task process
                offset_store=None,
                producer_config=setup.producer_config,
                consumer_config=setup.consumer_config,
                admin_config=setup.admin_config,
                offset_flush_interval_ms=setup.offset_flush_interval_ms,
                offset_flush_timeout_ms=setup.offset_flush_timeout_ms,
                exactly_once=setup.exactly_once,
                transactional_id=setup.transactional_id,
                offsets_topic=setup.offsets_topic,
                topic_creation_enabled=setup.topic_creation_enabled,
                on_topic=_no_topic,
                extra=dict(setup.extra),
            ),
            self.plugin_path,
            paused,
            logging.getLogger("odradek").getEffectiveLevel(),
        )
        self._process = context.Process(
            target=task_child.main,
            args=(theirs, spec, self.busy.started, self.busy.name),
            name=f"odradek-task-{self.id}",
            daemon=True,
        )
        self._process.start()
        theirs.close()
        self._conn = ours
        self._reader = threading.Thread(target=self._read, name=f"task-pipe-{self.id}", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def stop(self) -> None:
        self._send(("stop",))

    def join(self, timeout_s: float) -> bool:
        if self._process is None:
            return True
        self._process.join(timeout_s)
        if self._process.is_alive():
            return False
        if self._reader is not None:
            self._reader.join(timeout_s)  # its last words are read before we say it stopped
        return True

    def cancel(self) -> None:
        """Hung or not stopping: kill it (after it had a moment to leave its consumer group)."""
        self.cancelled.set()
        self._send(("kill",))
        process = self._process
        if process is None:
            return

        def reap() -> None:
            process.join(KILL_GRACE_S)
            if process.is_alive():
                log.warning("task %s did not exit after kill: SIGKILL", self.id)
                process.kill()
                process.join(5)

        threading.Thread(target=reap, name=f"reap-{self.id}", daemon=True).start()

    def pause(self) -> None:
        self.paused.set()
        self._send(("pause",))
        self._report(State.PAUSED, None)

    def resume(self) -> None:
        self.paused.clear()
        self._send(("resume",))
        self._report(State.RUNNING, None)

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def busy_for_ms(self) -> tuple[str, float] | None:
        found = self.busy.read()
        if found is None:
            return None
        return found[0], (_monotonic() - found[1]) * 1000

    # -- the pipe --------------------------------------------------------------------------------

    def _send(self, message: tuple[Any, ...]) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            with self._send_lock:
                conn.send(message)
        except (OSError, ValueError):
            pass  # the task is gone: the reader reports it

    def _report(self, state: State, trace: str | None) -> None:
        if self.cancelled.is_set():
            return
        try:
            self.listener(self, state, trace)  # type: ignore[arg-type]
        except Exception:
            log.exception("status listener failed for %s", self.id)

    def _read(self) -> None:
        conn = self._conn
        assert conn is not None
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            try:
                self._handle(message)
            except Exception:
                log.exception("task %s: handling %r failed", self.id, message[:1])
        conn.close()
        process = self._process
        process.join(5)
        if self._final is None and not self.cancelled.is_set():
            self.failed_trace = (
                f"odradek.connect.runtime.TaskProcessExited: the process of task {self.id} "
                f"(pid {process.pid}) exited with code {process.exitcode} without stopping cleanly"
            )
            log.error("%s", self.failed_trace)
            self._report(State.FAILED, self.failed_trace)

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "state":
            state = State(message[1])
            if state in (State.FAILED, State.UNASSIGNED):
                self._final = state
            if state is State.FAILED:
                self.failed_trace = message[2]
            self._report(state, message[2])
        elif kind == "topic":
            self.setup.on_topic(message[1])
        elif kind in ("offsets.get", "offsets.put", "offsets.mirror"):
            request_id, connector, payload = message[1], message[2], message[3]
            store = self.setup.offset_store
            try:
                if store is None:
                    raise RuntimeError("this worker has no offset store")
                result: Any = None
                if kind == "offsets.get":
                    result = store.get(connector, payload)
                elif kind == "offsets.put":
                    store.write(connector, payload)
                else:
                    store.mirror(connector, payload)
            except Exception as exc:
                self._send(("reply", request_id, None, f"{type(exc).__name__}: {exc}"))
                return
            self._send(("reply", request_id, result, None))


def _no_topic(_topic: str) -> None:
    return None
