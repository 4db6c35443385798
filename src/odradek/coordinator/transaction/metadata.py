"""One transactional id's state (`TransactionMetadata`) and a planned change of it (`TxnTransit`).

A transit is exactly what one `__transaction_state` record holds (plus `last_producer_epoch`, which
Kafka keeps in memory only). The shard plans a transit, marks the metadata `pending_state` so that
concurrent requests back off with CONCURRENT_TRANSACTIONS, returns it as a record, and applies it
(`complete`) once the record is durable; replaying records on load applies the same transits.

Epochs are int16: `MAX_EPOCH` (32767) is never handed to a client, so that the coordinator can
always fence; an epoch >= 32766 is "exhausted" and the next bump moves to a new producer id.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from odradek.coordinator.transaction.states import TransactionState, can_transition
from odradek.model.topic_partition import TopicPartition

NO_PRODUCER_ID = -1
NO_PRODUCER_EPOCH = -1
MAX_EPOCH = 0x7FFF

TV_0 = 0
TV_2 = 2


def epoch_exhausted(epoch: int) -> bool:
    return epoch >= MAX_EPOCH - 1


def supports_epoch_bump(transaction_version: int) -> bool:
    """KIP-890 part 2: transaction version 2 clients get a new epoch at the end of every transaction."""
    return transaction_version >= TV_2


class IllegalTransitionError(RuntimeError):
    """A transition the state table forbids: a bug in the shard, never a client's fault."""


@dataclass(frozen=True, slots=True)
class TxnTransit:
    producer_id: int
    prev_producer_id: int
    next_producer_id: int
    producer_epoch: int
    last_producer_epoch: int
    txn_timeout_ms: int
    state: TransactionState
    partitions: frozenset[TopicPartition]
    txn_start_timestamp: int
    txn_last_update_timestamp: int
    client_transaction_version: int


@dataclass(slots=True)
class TransactionMetadata:
    transactional_id: str
    producer_id: int
    prev_producer_id: int = NO_PRODUCER_ID
    next_producer_id: int = NO_PRODUCER_ID
    producer_epoch: int = NO_PRODUCER_EPOCH
    last_producer_epoch: int = NO_PRODUCER_EPOCH
    txn_timeout_ms: int = 60_000
    state: TransactionState = TransactionState.EMPTY
    partitions: frozenset[TopicPartition] = frozenset()
    txn_start_timestamp: int = -1
    txn_last_update_timestamp: int = -1
    client_transaction_version: int = TV_0
    pending_state: TransactionState | None = field(default=None, compare=False)
    pending_complete: TxnTransit | None = field(default=None, compare=False)
    """While markers are written: the Complete* transit to record once they all are."""

    @classmethod
    def from_transit(cls, transactional_id: str, transit: TxnTransit) -> TransactionMetadata:
        metadata = cls(transactional_id, transit.producer_id)
        metadata.complete(transit, check=False)
        return metadata

    @property
    def epoch_exhausted(self) -> bool:
        return epoch_exhausted(self.producer_epoch)

    @property
    def pending(self) -> bool:
        return self.pending_state is not None

    def snapshot(self) -> TxnTransit:
        """The current state as a transit (what a record of it would hold)."""
        return TxnTransit(
            self.producer_id,
            self.prev_producer_id,
            self.next_producer_id,
            self.producer_epoch,
            self.last_producer_epoch,
            self.txn_timeout_ms,
            self.state,
            self.partitions,
            self.txn_start_timestamp,
            self.txn_last_update_timestamp,
            self.client_transaction_version,
        )

    def prepare(self, state: TransactionState, **changes: Any) -> TxnTransit:
        """Plan a transition to `state` (Kafka's `prepareTransitionTo`) and mark it pending.

        Unnamed fields keep their current values, except `prev_producer_id`, which always records
        the producer id this transition starts from.
        """
        if self.pending_state is not None:
            raise IllegalTransitionError(
                f"{self.transactional_id}: {state} while {self.pending_state} is pending"
            )
        if not can_transition(self.state, state):
            raise IllegalTransitionError(
                f"{self.transactional_id}: {self.state} -> {state} is not a transition"
            )
        changes.setdefault("prev_producer_id", self.producer_id)
        transit = replace(self.snapshot(), state=state, **changes)
        if transit.producer_id < 0 or (state is not TransactionState.DEAD and transit.producer_epoch < 0):
            raise IllegalTransitionError(f"{self.transactional_id}: illegal producer id/epoch in {transit}")
        self.pending_state = state
        return transit

    def complete(self, transit: TxnTransit, check: bool = True) -> None:
        """Apply a transit whose record is durable (or being replayed, `check=False`)."""
        if check and self.pending_state is not transit.state:
            raise IllegalTransitionError(
                f"{self.transactional_id}: completing {transit.state} while {self.pending_state} is pending"
            )
        self.producer_id = transit.producer_id
        self.prev_producer_id = transit.prev_producer_id
        self.next_producer_id = transit.next_producer_id
        self.producer_epoch = transit.producer_epoch
        self.last_producer_epoch = transit.last_producer_epoch
        self.txn_timeout_ms = transit.txn_timeout_ms
        self.state = transit.state
        self.partitions = transit.partitions
        self.txn_start_timestamp = transit.txn_start_timestamp
        self.txn_last_update_timestamp = transit.txn_last_update_timestamp
        self.client_transaction_version = transit.client_transaction_version
        self.pending_state = None
