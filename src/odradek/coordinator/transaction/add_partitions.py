"""AddPartitionsToTxn (and AddOffsetsToTxn, which adds the group's `__consumer_offsets` partition).

Clients use v0-v3 with one transaction. Brokers use v4+ with batches of transactions: `verify_only`
(KIP-890 part 1) asks whether partitions are already in the transaction before a partition leader
appends transactional data, and v5+ adds them on behalf of a transaction version 2 client, whose
producer never sends AddPartitionsToTxn itself (KIP-890 part 2).

Errors, in the order checked: INVALID_PRODUCER_ID_MAPPING (unknown transactional id or another
producer id), PRODUCER_FENCED (another epoch), CONCURRENT_TRANSACTIONS (a change is pending or the
transaction is completing). Adding partitions that are all in the Ongoing transaction already writes
nothing. Verification answers per partition: NONE if in the transaction, else TRANSACTION_ABORTABLE.
"""

from __future__ import annotations

from dataclasses import dataclass

from odradek.coordinator.transaction.metadata import TransactionMetadata, TxnTransit
from odradek.coordinator.transaction.states import TransactionState as S
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition


@dataclass(frozen=True, slots=True)
class AddOutcome:
    error: ErrorCode
    transit: TxnTransit | None = None


def _check(md: TransactionMetadata | None, producer_id: int, producer_epoch: int) -> ErrorCode | None:
    if md is None or md.producer_id != producer_id:
        return ErrorCode.INVALID_PRODUCER_ID_MAPPING
    if md.producer_epoch != producer_epoch:
        return ErrorCode.PRODUCER_FENCED
    return None


def add_partitions(
    md: TransactionMetadata | None,
    producer_id: int,
    producer_epoch: int,
    partitions: frozenset[TopicPartition],
    *,
    transaction_version: int,
    now_ms: int,
) -> AddOutcome:
    error = _check(md, producer_id, producer_epoch)
    if error is not None:
        return AddOutcome(error)
    assert md is not None
    if md.pending or md.state.is_prepare:
        return AddOutcome(ErrorCode.CONCURRENT_TRANSACTIONS)
    if md.state is S.ONGOING and partitions <= md.partitions:
        return AddOutcome(ErrorCode.NO_ERROR)
    starts = md.state in (S.EMPTY, S.COMPLETE_ABORT, S.COMPLETE_COMMIT)
    transit = md.prepare(
        S.ONGOING,
        partitions=md.partitions | partitions,
        txn_start_timestamp=now_ms if starts else md.txn_start_timestamp,
        txn_last_update_timestamp=now_ms,
        client_transaction_version=transaction_version,
    )
    return AddOutcome(ErrorCode.NO_ERROR, transit)


def verify_partitions(
    md: TransactionMetadata | None,
    producer_id: int,
    producer_epoch: int,
    partitions: frozenset[TopicPartition],
) -> dict[TopicPartition, ErrorCode]:
    error = _check(md, producer_id, producer_epoch)
    if error is None and md is not None and md.state.is_prepare:
        error = ErrorCode.CONCURRENT_TRANSACTIONS
    if error is not None or md is None:
        return dict.fromkeys(partitions, error or ErrorCode.INVALID_PRODUCER_ID_MAPPING)
    return {
        tp: ErrorCode.NO_ERROR if tp in md.partitions else ErrorCode.TRANSACTION_ABORTABLE
        for tp in partitions
    }
