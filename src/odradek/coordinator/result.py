"""What a coordinator shard returns for every operation: records to append, then responses to send.

A `CoordinatorResult` carries

- ``records``: the state changes, in Kafka's own formats for the coordinator's internal topic, that the
  runtime appends (as one batch) before anything is answered;
- ``response``: the answer to the request itself, or None when the request is *deferred* (a JoinGroup
  parked until the rebalance completes, a follower's SyncGroup waiting for the leader);
- ``completions``: answers to earlier deferred requests that this operation (or timer) completed;
- ``producer_id``/``producer_epoch``: set when the records belong to a producer's transaction
  (TxnOffsetCommit): the runtime then appends them as that producer's transactional batch;
- ``effects``: work to start once the records are committed, handed to the coordinator's service
  (the transaction coordinator's markers to write after a PrepareCommit/PrepareAbort record).

Deferred requests are named by a `WaiterId` the runtime gives the shard with the request; the shard
keeps it in its state and later emits ``Completion(waiter, response)``. Completions are delivered
once the records of the result carrying them are committed, like responses. Both coordinators (group
and transaction) return this one type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, NewType, TypeVar

WaiterId = NewType("WaiterId", int)
"""Names a parked request inside a shard; allocated by the runtime."""

R = TypeVar("R")


@dataclass(slots=True)
class CoordinatorRecord:
    """One record of a coordinator topic: a typed key and value (None = tombstone). Never changed
    once built (not frozen only because frozen dataclasses are slow to build: one per commit)."""

    key: object
    value: object | None


@dataclass(frozen=True, slots=True)
class Completion:
    waiter: WaiterId
    response: object


@dataclass(slots=True)
class CoordinatorResult(Generic[R]):
    records: list[Any] = field(default_factory=list)
    """The shard's own record type (`CoordinatorRecord` for groups, `TxnLogRecord` for transactions);
    the shard's `encode` turns each into key and value bytes."""
    response: R | None = None
    completions: list[Completion] = field(default_factory=list)
    producer_id: int = -1
    """>= 0: the records are one transactional batch of this producer (TxnOffsetCommit)."""
    producer_epoch: int = -1
    effects: list[Any] = field(default_factory=list)


class ResultBuilder:
    """Accumulates the records and completions of one operation while the shard runs it."""

    __slots__ = ("completions", "producer_epoch", "producer_id", "records")

    def __init__(self) -> None:
        self.records: list[CoordinatorRecord] = []
        self.completions: list[Completion] = []
        self.producer_id = -1
        self.producer_epoch = -1

    def add(self, record: CoordinatorRecord) -> None:
        self.records.append(record)

    def complete(self, waiter: WaiterId, response: object) -> None:
        self.completions.append(Completion(waiter, response))

    def build(self, response: R | None = None) -> CoordinatorResult[R]:
        return CoordinatorResult(
            self.records, response, self.completions, self.producer_id, self.producer_epoch
        )
