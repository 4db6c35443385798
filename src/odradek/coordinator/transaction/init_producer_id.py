"""InitProducerId for a transactional id: a new epoch (or producer id) for the producer that owns it.

* Empty / Complete*: bump the epoch (a new producer) and forget the last epoch, or, when the request
  names its current producer id and epoch (v3+, a producer recovering from an error), bump and
  remember the last epoch so a retry of this call returns the same epoch instead of fencing. When the
  epoch is exhausted (>= 32766) the id moves to a new producer id at epoch 0.
* Ongoing: a new producer instance took over while a transaction was open. The open transaction is
  fenced: its epoch bumped (PrepareEpochFence, in memory) and it is aborted (PrepareAbort record);
  the caller gets CONCURRENT_TRANSACTIONS and retries, and once the abort is complete it gets a new
  epoch, bumped a second time, that the fenced producer never saw.
* PrepareCommit / PrepareAbort, or any pending change: CONCURRENT_TRANSACTIONS (retriable).
* The request's producer id must be the current one, the metadata must be brand new (epoch -1), or it
  must be the previous id with an exhausted epoch (a retry after the rotation); else PRODUCER_FENCED.
"""

from __future__ import annotations

from dataclasses import dataclass

from odradek.coordinator.transaction.end_txn import fence_and_abort
from odradek.coordinator.transaction.metadata import (
    NO_PRODUCER_EPOCH,
    TransactionMetadata,
    TxnTransit,
    epoch_exhausted,
)
from odradek.coordinator.transaction.producer_ids import ProducerIdGenerator
from odradek.coordinator.transaction.states import TransactionState as S
from odradek.model.errors import ErrorCode


@dataclass(frozen=True, slots=True)
class InitOutcome:
    error: ErrorCode
    transit: TxnTransit | None = None
    """To record. Its producer id/epoch answer the request once durable; for a fence (a PrepareAbort
    transit) the answer is CONCURRENT_TRANSACTIONS instead."""


def init_producer_id(
    md: TransactionMetadata,
    txn_timeout_ms: int,
    expected: tuple[int, int] | None,
    *,
    transaction_version: int,
    ids: ProducerIdGenerator,
    now_ms: int,
) -> InitOutcome:
    if md.pending:
        return InitOutcome(ErrorCode.CONCURRENT_TRANSACTIONS)
    if expected is not None and not _valid_producer_id(md, *expected):
        return InitOutcome(ErrorCode.PRODUCER_FENCED)
    state = md.state
    if state.is_prepare:
        return InitOutcome(ErrorCode.CONCURRENT_TRANSACTIONS)
    if state is S.ONGOING:
        outcome = fence_and_abort(md, transaction_version=transaction_version, ids=ids, now_ms=now_ms)
        if outcome.transit is None:
            return InitOutcome(outcome.error)
        return InitOutcome(ErrorCode.CONCURRENT_TRANSACTIONS, outcome.transit)
    if state not in (S.EMPTY, S.COMPLETE_ABORT, S.COMPLETE_COMMIT):
        raise RuntimeError(f"{md.transactional_id} found in state {state}, which is never current")
    resets = {"txn_timeout_ms": txn_timeout_ms, "partitions": frozenset(), "txn_start_timestamp": -1}
    if md.epoch_exhausted and (expected is None or expected[1] == md.producer_epoch):
        new_id = ids.next_id()
        if new_id is None:
            return InitOutcome(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
        last = md.producer_epoch if expected is not None else NO_PRODUCER_EPOCH
        transit = md.prepare(
            S.EMPTY,
            producer_id=new_id,
            producer_epoch=0,
            last_producer_epoch=last,
            txn_last_update_timestamp=now_ms,
            **resets,
        )
        return InitOutcome(ErrorCode.NO_ERROR, transit)
    if expected is None:
        epoch, last = md.producer_epoch + 1, NO_PRODUCER_EPOCH
    elif md.producer_epoch == NO_PRODUCER_EPOCH or expected[1] == md.producer_epoch:
        epoch, last = md.producer_epoch + 1, md.producer_epoch
    elif expected[1] == md.last_producer_epoch:
        epoch, last = md.producer_epoch, md.last_producer_epoch  # a retry of a call that succeeded
    else:
        return InitOutcome(ErrorCode.PRODUCER_FENCED)
    transit = md.prepare(
        S.EMPTY, producer_epoch=epoch, last_producer_epoch=last, txn_last_update_timestamp=now_ms, **resets
    )
    return InitOutcome(ErrorCode.NO_ERROR, transit)


def _valid_producer_id(md: TransactionMetadata, producer_id: int, producer_epoch: int) -> bool:
    return (
        md.producer_epoch == NO_PRODUCER_EPOCH
        or producer_id == md.producer_id
        or (producer_id == md.prev_producer_id and epoch_exhausted(producer_epoch))
    )
