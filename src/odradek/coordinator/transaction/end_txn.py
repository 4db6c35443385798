"""EndTxn: commit or abort a transaction (also used by the coordinator itself to abort on timeout or
when a new producer fences an open transaction). Pure: returns an error or the PrepareCommit /
PrepareAbort transit to record.

Transaction version 1 (EndTxn v0-v4): the epoch must match exactly; a retry after success finds the
transaction Complete* and gets NONE; the epoch never changes.

Transaction version 2 (EndTxn v5+, KIP-890 part 2): every transaction ends with the epoch bumped, and
the response carries the producer id and epoch for the next one. A retry is recognised by the request
carrying the epoch just below the current one (or the last epoch of the previous producer id, when
the bump exhausted the epochs and a new producer id was allocated). A client unsure whether its
transaction exists may abort from Empty/Complete*, which writes an empty abort::

                    Abort, retry   Abort, current   Commit, retry   Commit, current
    Empty           PRODUCER_FENCED  bump           PRODUCER_FENCED  INVALID_TXN_STATE
    CompleteAbort   NONE             bump           INVALID_TXN_STATE INVALID_TXN_STATE
    CompleteCommit  INVALID_TXN_STATE bump          NONE             INVALID_TXN_STATE
"""

from __future__ import annotations

from dataclasses import dataclass

from odradek.coordinator.transaction.metadata import (
    MAX_EPOCH,
    NO_PRODUCER_EPOCH,
    NO_PRODUCER_ID,
    TV_0,
    TransactionMetadata,
    TxnTransit,
    supports_epoch_bump,
)
from odradek.coordinator.transaction.producer_ids import ProducerIdGenerator
from odradek.coordinator.transaction.states import TransactionState as S
from odradek.model.errors import ErrorCode

_PREPARE = {True: S.PREPARE_COMMIT, False: S.PREPARE_ABORT}


@dataclass(frozen=True, slots=True)
class EndTxnOutcome:
    error: ErrorCode
    transit: TxnTransit | None = None
    """To record; the response (NONE + `producer_id`/`producer_epoch`) is due once it is durable."""
    producer_id: int = NO_PRODUCER_ID
    producer_epoch: int = NO_PRODUCER_EPOCH


def _done(md: TransactionMetadata, bumped: bool) -> EndTxnOutcome:
    if bumped:
        return EndTxnOutcome(ErrorCode.NO_ERROR, None, md.producer_id, md.producer_epoch)
    return EndTxnOutcome(ErrorCode.NO_ERROR)


def _invalid_state() -> EndTxnOutcome:
    return EndTxnOutcome(ErrorCode.INVALID_TXN_STATE)


def end_transaction(
    md: TransactionMetadata,
    producer_id: int,
    producer_epoch: int,
    committed: bool,
    *,
    from_client: bool,
    transaction_version: int,
    ids: ProducerIdGenerator,
    now_ms: int,
) -> EndTxnOutcome:
    if supports_epoch_bump(transaction_version):
        return _end_v2(
            md, producer_id, producer_epoch, committed, from_client, transaction_version, ids, now_ms
        )
    return _end_v1(md, producer_id, producer_epoch, committed, from_client, now_ms)


def fence_and_abort(
    md: TransactionMetadata, *, transaction_version: int, ids: ProducerIdGenerator, now_ms: int
) -> EndTxnOutcome:
    """Fence the producer of an Ongoing transaction and abort it as the coordinator (Kafka's
    `prepareFenceProducerEpoch` then an abort): a new producer took over (InitProducerId) or the
    transaction timed out. The epoch is bumped in memory (PrepareEpochFence) unless exhausted; when no
    abort can be prepared, the fence is dropped again."""
    epoch = md.producer_epoch if md.producer_epoch == MAX_EPOCH else md.producer_epoch + 1
    fence = md.prepare(S.PREPARE_EPOCH_FENCE, producer_epoch=epoch)
    outcome = end_transaction(
        md,
        md.producer_id,
        fence.producer_epoch,
        False,
        from_client=False,
        transaction_version=transaction_version,
        ids=ids,
        now_ms=now_ms,
    )
    if outcome.transit is None:
        md.pending_state = None
    return outcome


def _state_answer(md: TransactionMetadata, committed: bool, retry_ok: bool) -> EndTxnOutcome | None:
    """The answer when the transaction is not Ongoing (None: go on and prepare)."""
    state = md.state
    if state is S.COMPLETE_COMMIT:
        return _done(md, False) if committed and retry_ok else _invalid_state()
    if state is S.COMPLETE_ABORT:
        return _done(md, False) if not committed and retry_ok else _invalid_state()
    if state is S.PREPARE_COMMIT:
        return EndTxnOutcome(ErrorCode.CONCURRENT_TRANSACTIONS) if committed else _invalid_state()
    if state is S.PREPARE_ABORT:
        return EndTxnOutcome(ErrorCode.CONCURRENT_TRANSACTIONS) if not committed else _invalid_state()
    if state is S.EMPTY:
        return _invalid_state()
    if state is not S.ONGOING:
        raise RuntimeError(f"{md.transactional_id} found in state {state}, which is never current")
    return None


def _end_v1(
    md: TransactionMetadata, producer_id: int, epoch: int, committed: bool, from_client: bool, now_ms: int
) -> EndTxnOutcome:
    fencing = md.pending_state is S.PREPARE_EPOCH_FENCE
    if md.producer_id != producer_id:
        return EndTxnOutcome(ErrorCode.INVALID_PRODUCER_ID_MAPPING)
    if (from_client and epoch != md.producer_epoch) or epoch < md.producer_epoch:
        return EndTxnOutcome(ErrorCode.PRODUCER_FENCED)
    if md.pending and not fencing:
        return EndTxnOutcome(ErrorCode.CONCURRENT_TRANSACTIONS)
    answer = _state_answer(md, committed, retry_ok=True)
    if answer is not None:
        return answer
    changes: dict[str, int] = {}
    if fencing and not committed:
        md.pending_state = None
        changes = {"producer_epoch": epoch, "last_producer_epoch": NO_PRODUCER_EPOCH}
    transit = md.prepare(
        _PREPARE[committed],
        next_producer_id=NO_PRODUCER_ID,
        txn_last_update_timestamp=now_ms,
        client_transaction_version=TV_0,
        **changes,
    )
    return EndTxnOutcome(ErrorCode.NO_ERROR, transit)


def _end_v2(
    md: TransactionMetadata,
    producer_id: int,
    epoch: int,
    committed: bool,
    from_client: bool,
    transaction_version: int,
    ids: ProducerIdGenerator,
    now_ms: int,
) -> EndTxnOutcome:
    fencing = md.pending_state is S.PREPARE_EPOCH_FENCE
    retry_on_overflow = (
        not fencing
        and md.prev_producer_id == producer_id
        and epoch == MAX_EPOCH - 1
        and md.producer_epoch == 0
    )
    retry_on_bump = not fencing and md.producer_epoch == epoch + 1
    if fencing:
        valid_epoch = (not from_client or epoch == md.producer_epoch) and epoch >= md.producer_epoch
    elif md.state.is_prepare:
        valid_epoch = retry_on_bump
    elif md.state.is_complete:
        valid_epoch = retry_on_bump or retry_on_overflow or epoch == md.producer_epoch
    else:
        valid_epoch = epoch == md.producer_epoch
    is_retry = retry_on_bump or retry_on_overflow

    if md.producer_id != producer_id and not retry_on_overflow:
        return EndTxnOutcome(ErrorCode.INVALID_PRODUCER_ID_MAPPING)
    if not valid_epoch:
        return EndTxnOutcome(ErrorCode.PRODUCER_FENCED)
    if md.pending and not fencing:
        return EndTxnOutcome(ErrorCode.CONCURRENT_TRANSACTIONS)

    state = md.state
    if state is S.ONGOING:
        return _prepare_v2(md, committed, epoch, fencing, False, transaction_version, ids, now_ms)
    if state is S.COMPLETE_COMMIT and not committed and not is_retry:
        return _prepare_v2(md, False, epoch, fencing, True, transaction_version, ids, now_ms)
    if state is S.COMPLETE_ABORT and not committed and not is_retry:
        return _prepare_v2(md, False, epoch, fencing, True, transaction_version, ids, now_ms)
    if state is S.EMPTY and not committed:
        return _prepare_v2(md, False, epoch, fencing, True, transaction_version, ids, now_ms)
    answer = _state_answer(md, committed, retry_ok=is_retry)
    if answer is not None and answer.error is ErrorCode.NO_ERROR:
        return _done(md, True)
    return answer or _invalid_state()


def _prepare_v2(
    md: TransactionMetadata,
    committed: bool,
    epoch: int,
    fencing: bool,
    no_partition_added: bool,
    transaction_version: int,
    ids: ProducerIdGenerator,
    now_ms: int,
) -> EndTxnOutcome:
    next_producer_id = NO_PRODUCER_ID
    if not fencing and md.epoch_exhausted:
        allocated = ids.next_id()
        if allocated is None:
            return EndTxnOutcome(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
        next_producer_id = allocated
    base_epoch = md.producer_epoch
    if fencing and not committed:
        md.pending_state = None
        base_epoch = epoch  # the fence's epoch, bumped once more below
    # an abort already at the maximum epoch (a fence of an exhausted producer) goes through unbumped
    bumped = base_epoch if base_epoch == MAX_EPOCH and not committed else base_epoch + 1
    transit = md.prepare(
        _PREPARE[committed],
        producer_epoch=bumped,
        last_producer_epoch=base_epoch,
        next_producer_id=next_producer_id,
        txn_start_timestamp=now_ms if no_partition_added else md.txn_start_timestamp,
        txn_last_update_timestamp=now_ms,
        client_transaction_version=transaction_version,
    )
    if next_producer_id != NO_PRODUCER_ID:
        return EndTxnOutcome(ErrorCode.NO_ERROR, transit, next_producer_id, 0)
    return EndTxnOutcome(ErrorCode.NO_ERROR, transit, md.producer_id, bumped)
