"""The interface between a coordinator shard (pure) and the runtime that drives it (asyncio).

A shard owns the state of one partition of a coordinator topic (``__consumer_offsets`` for groups).
The runtime builds it empty, replays the partition's log into it (`LogRecord`s and the
`TransactionMarker`s of transactions that wrote to it), calls `on_loaded`, and from then on runs
operations on it one at a time, appending the records of every `CoordinatorResult` before answering.
Timers are the shard's own (`odradek.coordinator.timer`); the runtime only asks when the next one is
due and calls `expire_timers` then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from odradek.coordinator.result import CoordinatorRecord, CoordinatorResult

KeyValue = tuple[bytes, bytes | None]
"""A record as written to the log: key bytes and value bytes (None = tombstone)."""


@dataclass(frozen=True, slots=True)
class LogRecord:
    key: bytes
    value: bytes | None
    producer_id: int = -1
    """The producer id of a transactional batch; such records count only once their commit marker is read."""


@dataclass(frozen=True, slots=True)
class TransactionMarker:
    producer_id: int
    committed: bool


LogEntry = LogRecord | TransactionMarker


class CoordinatorShard(Protocol):
    def encode(self, record: CoordinatorRecord) -> KeyValue: ...

    def replay(self, entry: LogEntry) -> None: ...

    def on_loaded(self, now_ms: int) -> None: ...

    def next_deadline(self) -> int | None: ...

    def expire_timers(self, now_ms: int) -> CoordinatorResult[None]: ...
