"""`CoordinatorLog`: the port through which the runtime writes a coordinator topic and hears its commits.

The broker implements it over its replication partitions (`broker/coordinator_log.py`); tests use an
in-memory log whose high watermark they move by hand. For one partition of the coordinator topic:

    writable(p)           NO_ERROR when an append may be tried now; else the error (not the leader, too
                          few in-sync replicas), checked before an operation runs so that a refused
                          write changes nothing
    append(p, records, producer)
                          write the records as one batch (a transactional one of `producer` =
                          (producer id, epoch) when given) as the partition's leader, synchronously;
                          returns `Appended(end_offset, durable, high_watermark)`; raises
                          `CoordinatorLogError(code)` when nothing was written
    append_marker(p, producer_id, producer_epoch, committed, coordinator_epoch)
                          write a transaction's COMMIT/ABORT marker the same way
    high_watermark(p)     everything below it is committed
    watch(p, listener)    call `listener(high_watermark)` each time it moves; returns the function that
                          stops watching (the runtime watches from the first write that must wait)

`Appended.durable` is an awaitable when the topic asks for an fsync before answering
(`flush.messages`), else None.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NamedTuple, Protocol

from odradek.coordinator.shard import KeyValue
from odradek.model.errors import ErrorCode


class CoordinatorLogError(Exception):
    def __init__(self, code: ErrorCode, message: str = "") -> None:
        super().__init__(message or code.name)
        self.code = code


class Appended(NamedTuple):
    end_offset: int
    """The last written offset + 1: committed once the high watermark reaches it."""
    durable: Awaitable[None] | None = None
    high_watermark: int = 0
    """The partition's high watermark right after the append (with one replica: `end_offset`)."""


class CoordinatorLog(Protocol):
    def writable(self, partition: int) -> ErrorCode: ...

    def append(
        self, partition: int, records: list[KeyValue], producer: tuple[int, int] | None = None
    ) -> Appended: ...

    def append_marker(
        self, partition: int, producer_id: int, producer_epoch: int, committed: bool, coordinator_epoch: int
    ) -> Appended: ...

    def high_watermark(self, partition: int) -> int: ...

    def watch(self, partition: int, listener: Callable[[int], None]) -> Callable[[], None]: ...
