"""`MemoryCoordinatorLog`: a `CoordinatorLog` in memory, for coordinator tests without a broker.

Each partition is a list of `(offset, LogRecord | TransactionMarker)`. The high watermark follows
every append at once, inside the append as a single-node partition's does (`auto_commit`), or stays
where it is until the test moves it (`commit(partition, offset)`), as a leader waiting for its
followers would; watchers hear every move. `failures` are error codes the next appends raise (one
each, nothing written), `not_writable` makes `writable` refuse, and `durable_gate`, when set, holds
every append's fsync until the test sets it.

    log = MemoryCoordinatorLog(auto_commit=False)
    service = GroupCoordinatorService.create(clock, log, topics, config)
    await service.load(0, 0, log.entries(0))
    pending = asyncio.create_task(service.offset_commit(ctx, request))   # appended, waits
    log.commit(0)                                                          # now answered
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from odradek.coordinator.log import Appended, CoordinatorLogError
from odradek.coordinator.shard import KeyValue, LogEntry, LogRecord, TransactionMarker
from odradek.model.errors import ErrorCode


class MemoryCoordinatorLog:
    def __init__(self, auto_commit: bool = True) -> None:
        self.auto_commit = auto_commit
        self.logs: dict[int, list[tuple[int, LogEntry]]] = {}
        self.ends: dict[int, int] = {}
        self.high_watermarks: dict[int, int] = {}
        self.failures: list[ErrorCode] = []
        self.not_writable: ErrorCode | None = None
        self.durable_gate: asyncio.Event | None = None
        self._listeners: dict[int, list[Callable[[int], None]]] = {}

    # --- CoordinatorLog -----------------------------------------------------------------------
    def writable(self, partition: int) -> ErrorCode:
        return self.not_writable or ErrorCode.NO_ERROR

    def append(
        self, partition: int, records: list[KeyValue], producer: tuple[int, int] | None = None
    ) -> Appended:
        self._check()
        producer_id = producer[0] if producer is not None else -1
        return self._write(partition, [LogRecord(key, value, producer_id) for key, value in records])

    def append_marker(
        self, partition: int, producer_id: int, producer_epoch: int, committed: bool, coordinator_epoch: int
    ) -> Appended:
        self._check()
        return self._write(partition, [TransactionMarker(producer_id, committed)])

    def high_watermark(self, partition: int) -> int:
        return self.high_watermarks.get(partition, 0)

    def watch(self, partition: int, listener: Callable[[int], None]) -> Callable[[], None]:
        self._listeners.setdefault(partition, []).append(listener)
        return lambda: self._listeners[partition].remove(listener)

    # --- what tests do --------------------------------------------------------------------------
    def commit(self, partition: int, offset: int | None = None) -> None:
        """Move the high watermark (to the log end by default); watchers hear it."""
        self.high_watermarks[partition] = self.ends.get(partition, 0) if offset is None else offset
        for listener in list(self._listeners.get(partition, ())):
            listener(self.high_watermarks[partition])

    def entries(self, partition: int) -> list[tuple[int, LogEntry]]:
        """What loading the partition replays."""
        return list(self.logs.get(partition, ()))

    def key_values(self, partition: int) -> list[KeyValue]:
        """The records written to the partition (markers left out), as key and value bytes."""
        return [(e.key, e.value) for _, e in self.logs.get(partition, ()) if isinstance(e, LogRecord)]

    def log_end(self, partition: int) -> int:
        return self.ends.get(partition, 0)

    # --- internals ------------------------------------------------------------------------------
    def _check(self) -> None:
        if self.failures:
            raise CoordinatorLogError(self.failures.pop(0))

    def _write(self, partition: int, entries: list[LogEntry]) -> Appended:
        log = self.logs.setdefault(partition, [])
        offset = self.ends.get(partition, 0)
        for entry in entries:
            log.append((offset, entry))
            offset += 1
        self.ends[partition] = offset
        if self.auto_commit:
            self.commit(partition)
        gate = self.durable_gate
        durable = None if gate is None else asyncio.ensure_future(_fsynced(gate))
        return Appended(offset, durable, self.high_watermark(partition))


async def _fsynced(gate: asyncio.Event) -> None:
    await gate.wait()
