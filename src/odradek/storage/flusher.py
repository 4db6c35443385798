"""Group commit: fsync partition logs off the event loop, one fsync for many waiting producers.

The only asyncio code of the storage package. `LogFlusher` owns one task (`start()`/`stop()`) that
runs rounds. A round takes every pending `wait_durable` request plus the logs that are due by
themselves, and calls `PartitionLog.flush` for each of them in one `asyncio.to_thread` call; when
it returns, every waiter whose offset is below its log's new recovery point is released. Waiters
that arrive during a round are served by the next one, so however many producers wait on a
partition, a round costs one flush per partition: fsyncs per second are bounded by the disk's
latency, not by the request rate.

A log is due by itself when:
* `flush.ms` elapsed since its last flush and it holds unflushed messages (checked every
  `check_interval_ms`);
* it holds at least `flush.messages` unflushed messages;
* a rolled segment is not fsynced yet (Kafka fsyncs a segment once it is rolled).

Only logs that may be due are looked at (`LogSource.flush_candidates`: rolled since their last
flush, or with `flush.ms`/`flush.messages` set), so a check costs nothing per idle partition.

The broker awaits `after_append` (or `wait_durable`) before acknowledging a produce only for topics
whose `flush.messages` is set; `after_append` follows Kafka: wait only once `flush.messages` unflushed
messages have accumulated.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from odradek.model.clock import Clock
from odradek.model.topic_partition import TopicPartition
from odradek.storage.errors import LogClosedError, StorageError
from odradek.storage.partition_log import TRANSIENT_ERRNOS, PartitionLog

_log = logging.getLogger(__name__)

Flushes = list[tuple[TopicPartition, PartitionLog, int]]
ToThread = Callable[
    [Callable[[Flushes], dict[TopicPartition, BaseException]], Flushes],
    Awaitable[dict[TopicPartition, BaseException]],
]


class LogSource(Protocol):
    def get(self, tp: TopicPartition) -> PartitionLog | None: ...

    def flush_candidates(self) -> list[PartitionLog]: ...

    def flush_not_needed(self, log: PartitionLog) -> None: ...


def _flush_logs(flushes: Flushes) -> dict[TopicPartition, BaseException]:
    """Runs in the worker thread."""
    errors: dict[TopicPartition, BaseException] = {}
    for tp, log, target in flushes:
        try:
            log.flush(target)
        except OSError as exc:
            errors[tp] = exc
    return errors


class LogFlusher:
    def __init__(
        self,
        logs: LogSource,
        clock: Clock,
        *,
        check_interval_ms: int = 1000,
        to_thread: ToThread = asyncio.to_thread,
    ) -> None:
        self._logs = logs
        self._clock = clock
        self._check_interval_s = check_interval_ms / 1000
        self._to_thread = to_thread
        self._waiters: dict[TopicPartition, list[tuple[int, asyncio.Future[None]]]] = {}
        self._last_flush_ms: dict[TopicPartition, int] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.rounds = 0  # flush rounds run (a metric, and what tests count)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="log-flusher")

    async def stop(self) -> None:
        """Serve the pending waiters, then end the task."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def wait_durable(self, tp: TopicPartition, offset: int) -> None:
        """Return once `offset` of `tp` is fsynced (below the log's recovery point)."""
        log = self._logs.get(tp)
        if log is None or log.closed:
            raise LogClosedError(f"no open log for {tp}")
        if log.recovery_point > offset:
            return
        if self._stopping or self._task is None:
            raise LogClosedError("the log flusher is not running")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(tp, []).append((offset, future))
        self._wake.set()
        await future

    async def after_append(self, tp: TopicPartition, last_offset: int) -> None:
        """`flush.messages`: wait for fsync once that many messages are unflushed, else return."""
        log = self._logs.get(tp)
        if log is not None and log.unflushed_messages >= log.config.flush_messages:
            await self.wait_durable(tp, last_offset)

    def due(self, now_ms: int) -> dict[TopicPartition, int]:
        """Logs to flush without a waiter, and up to which offset. Only the log source's candidates
        are looked at (rolled logs, logs with `flush.ms`/`flush.messages`), never every log."""
        targets: dict[TopicPartition, int] = {}
        for log in self._logs.flush_candidates():
            tp = log.tp
            if log.closed:
                self._logs.flush_not_needed(log)
                continue
            last = self._last_flush_ms.setdefault(tp, now_ms)
            unflushed = log.unflushed_messages
            if unflushed > 0 and (
                now_ms - last >= log.config.flush_ms or unflushed >= log.config.flush_messages
            ):
                targets[tp] = log.log_end_offset
            elif log.recovery_point < log.active_segment.base_offset:
                targets[tp] = log.active_segment.base_offset
            else:
                self._logs.flush_not_needed(log)
        return targets

    async def _run(self) -> None:
        while True:
            if not self._waiters and not self._stopping:
                try:
                    async with asyncio.timeout(self._check_interval_s):
                        await self._wake.wait()
                except TimeoutError:
                    pass
            self._wake.clear()
            try:
                await self.run_round()
            except Exception:
                _log.exception("log flush round failed")
                self._fail_waiters(StorageError("log flush round failed"))
            if self._stopping and not self._waiters:
                return

    def _fail_waiters(self, exc: StorageError) -> None:
        waiters, self._waiters = self._waiters, {}
        for entries in waiters.values():
            for _, future in entries:
                if not future.done():
                    future.set_exception(exc)

    async def run_round(self) -> None:
        """One group commit: flush every waited-on and due log, release whom it covers."""
        now_ms = self._clock.now_ms()
        waiters, self._waiters = self._waiters, {}
        targets = self.due(now_ms)
        for tp, entries in waiters.items():
            targets[tp] = max(targets.get(tp, 0), max(offset for offset, _ in entries) + 1)
        flushes = [
            (tp, log, target) for tp, target in targets.items() if (log := self._logs.get(tp)) is not None
        ]
        if not flushes:
            self._release(waiters, {})
            return
        self.rounds += 1
        errors = await self._to_thread(_flush_logs, flushes)
        for tp, log, _ in flushes:
            error = errors.get(tp)
            if error is None:
                self._last_flush_ms[tp] = now_ms
            elif isinstance(error, OSError) and error.errno not in TRANSIENT_ERRNOS and log.on_io_error:
                log.on_io_error(log, error)  # a failing fsync: the directory goes offline (on the loop)
        self._release(waiters, errors)

    def _release(
        self,
        waiters: dict[TopicPartition, list[tuple[int, asyncio.Future[None]]]],
        errors: dict[TopicPartition, BaseException],
    ) -> None:
        for tp, entries in waiters.items():
            log = self._logs.get(tp)
            error = errors.get(tp)
            for offset, future in entries:
                if future.done():
                    continue
                if log is None or log.closed:
                    future.set_exception(LogClosedError(f"log of {tp} closed while waiting for fsync"))
                elif error is not None:
                    future.set_exception(StorageError(f"fsync of {tp} failed: {error}"))
                elif log.recovery_point > offset:
                    future.set_result(None)
                elif offset >= log.log_end_offset:
                    future.set_exception(StorageError(f"offset {offset} of {tp} was truncated before fsync"))
                else:
                    self._waiters.setdefault(tp, []).append((offset, future))
                    self._wake.set()
