"""The interface between a coordinator shard (pure) and the runtime that drives it (asyncio).

A shard owns the state of one partition of a coordinator topic (``__consumer_offsets`` for groups,
``__transaction_state`` for transactions). The runtime builds it for a partition and a coordinator
epoch (the partition's leader epoch) with the partition's `SnapshotRegistry`, replays the partition's
log into it (`LogRecord`s, and the `TransactionMarker`s of transactions that wrote to it), calls
`on_loaded`, and from then on runs operations on it one at a time. Operations apply their records to
the state as they emit them; the runtime appends the records, and answers once they are committed.
Timers are the shard's own (`odradek.coordinator.timer`); the runtime only asks when the next one is
due and calls `expire_timers` then.

`revert_on_failure` is the shard's answer to "an append failed": True when all the state its records
touch lives in timeline collections (`timeline.py`), so undoing the operation's changes is exact (the
transaction shard); False when some state changes outside them (classic groups' rebalances), so the
runtime unloads the partition instead and the broker loads it again from the log (the group shard).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from odradek.coordinator.result import CoordinatorResult

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
    revert_on_failure: ClassVar[bool]

    def encode(self, record: Any) -> KeyValue: ...

    def replay(self, entry: LogEntry) -> None: ...

    def on_loaded(self, now_ms: int) -> CoordinatorResult[None]: ...

    def next_deadline(self) -> int | None: ...

    def deadline_bound(self) -> int | None:
        """No later than `next_deadline` (None: no timers), and cheaper: asked after every write."""
        ...

    def expire_timers(self, now_ms: int) -> CoordinatorResult[None]: ...
