"""ProducerStateManager: every verdict with exact sequences, markers, LSO, expiry."""

from __future__ import annotations

from producer_helpers import TS, Log, batch, marker_batch

from odradek.model.errors import ErrorCode
from odradek.protocol.records import CONTROL_ABORT
from odradek.storage.producer_state import (
    MAX_SEQUENCE,
    AppendOrigin,
    BatchMetadata,
    CompletedTxn,
    EndTxnMarker,
    ProducerStateManager,
    VerdictKind,
)


def test_unknown_producer_may_start_at_any_sequence():
    log = Log()
    assert log.produce(batch(1, 0, 0))[0].kind is VerdictKind.ACCEPT
    # KIP-360: a producer the partition does not know (state expired or deleted) is accepted as is
    assert log.produce(batch(2, 3, 17))[0].kind is VerdictKind.ACCEPT
    assert log.state.last_entry(2).last_seq == 17  # type: ignore[union-attr]


def test_in_sequence_gap_and_backwards():
    log = Log()
    log.produce(batch(1, 0, 0, 3))  # seqs 0..2, offsets 0..2
    verdict, first = log.produce(batch(1, 0, 3, 2))
    assert verdict.accepted and first == 3
    gap, _ = log.produce(batch(1, 0, 6))
    assert gap.kind is VerdictKind.REJECT and gap.error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    back, _ = log.produce(batch(1, 0, 4))  # overlaps the last batch but is not a duplicate of it
    assert back.error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert log.state.last_entry(1).last_seq == 4  # type: ignore[union-attr]


def test_duplicates_of_each_of_the_last_five_batches_return_their_original_offsets():
    log = Log()
    seq = 0
    written = []
    for i in range(6):  # six batches of i+1 records
        n = i + 1
        _, first = log.produce(batch(1, 0, seq, n, ts=TS + i))
        written.append((seq, n, first))
        seq += n
    for seq0, n, first in written[1:]:
        verdict = log.state.check_and_prepare([batch(1, 0, seq0, n)])
        assert verdict.kind is VerdictKind.DUPLICATE
        assert verdict.duplicate is not None
        assert (verdict.duplicate.first_offset, verdict.duplicate.last_offset) == (first, first + n - 1)
    seq0, n, first = written[0]  # the 6th most recent is forgotten: an ordinary out-of-order batch
    assert (seq0, n, first) == (0, 1, 0)
    oldest = log.state.check_and_prepare([batch(1, 0, 0, 1)])
    assert oldest.kind is VerdictKind.REJECT and oldest.error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert written[5] == (15, 6, 15)
    dup = log.state.check_and_prepare([batch(1, 0, 15, 6)]).duplicate
    assert dup == BatchMetadata(last_seq=20, last_offset=20, offset_delta=5, timestamp=TS + 5)


def test_duplicate_needs_the_same_epoch_and_exact_range():
    log = Log()
    log.produce(batch(1, 0, 0, 2))
    assert log.state.check_and_prepare([batch(1, 0, 0, 1)]).error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert log.state.check_and_prepare([batch(1, 1, 0, 2)]).kind is VerdictKind.ACCEPT  # new epoch from 0


def test_epoch_fencing_and_bump_resets_sequences():
    log = Log()
    log.produce(batch(1, 5, 0, 4))
    old = log.state.check_and_prepare([batch(1, 4, 4)])
    assert old.kind is VerdictKind.REJECT and old.error is ErrorCode.INVALID_PRODUCER_EPOCH
    not_zero = log.state.check_and_prepare([batch(1, 6, 4)])
    assert not_zero.error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    verdict, first = log.produce(batch(1, 6, 0, 2))
    assert verdict.accepted and first == 4
    entry = log.state.last_entry(1)
    assert entry is not None and entry.producer_epoch == 6
    assert list(entry.batches) == [BatchMetadata(1, 5, 1, TS)]
    # the old epoch's batches are gone: its retry is fenced, not a duplicate
    assert log.state.check_and_prepare([batch(1, 5, 0, 4)]).error is ErrorCode.INVALID_PRODUCER_EPOCH


def test_sequence_wraps_around_at_int_max():
    log = Log()
    log.produce(batch(1, 0, MAX_SEQUENCE - 1, 1))
    assert log.produce(batch(1, 0, MAX_SEQUENCE, 1))[0].accepted
    assert log.produce(batch(1, 0, 0, 1))[0].accepted  # MAX + 1 -> 0
    log2 = Log()
    log2.produce(batch(7, 0, MAX_SEQUENCE - 1, 3))  # MAX-1, MAX, 0
    entry = log2.state.last_entry(7)
    assert entry is not None and entry.last_seq == 0 and entry.batches[0].first_seq == MAX_SEQUENCE - 1
    assert log2.state.check_and_prepare([batch(7, 0, MAX_SEQUENCE - 1, 3)]).kind is VerdictKind.DUPLICATE
    assert log2.state.check_and_prepare([batch(7, 0, 2)]).error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert log2.produce(batch(7, 0, 1))[0].accepted


def test_each_batch_of_a_request_is_checked_against_the_earlier_ones():
    log = Log()
    verdict, first = log.produce(batch(1, 0, 0, 2), batch(1, 0, 2, 3), batch(2, 0, 0))
    assert verdict.accepted and first == 0 and log.leo == 6
    bad = log.state.check_and_prepare([batch(1, 0, 5), batch(1, 0, 7)])
    assert bad.error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert log.state.last_entry(1).last_seq == 4  # type: ignore[union-attr]  # nothing staged leaked
    mixed = log.state.check_and_prepare([batch(3, 0, 0, txn=True), batch(3, 0, 1)])
    assert mixed.error is ErrorCode.INVALID_TXN_STATE


def test_non_transactional_batch_during_a_transaction_is_invalid_txn_state():
    log = Log()
    log.produce(batch(1, 0, 0, txn=True))
    verdict = log.state.check_and_prepare([batch(1, 0, 1)])
    assert verdict.kind is VerdictKind.REJECT and verdict.error is ErrorCode.INVALID_TXN_STATE
    assert log.state.check_and_prepare([batch(1, 0, 1, txn=True)]).accepted


def test_coordinator_origin_checks_epochs_only():
    log = Log()
    log.produce(batch(9, 2, -1, txn=True), origin=AppendOrigin.COORDINATOR)
    assert log.state.check_and_prepare([batch(9, 2, -1, txn=True)], AppendOrigin.COORDINATOR).accepted
    fenced = log.state.check_and_prepare([batch(9, 1, -1, txn=True)], AppendOrigin.COORDINATOR)
    assert fenced.error is ErrorCode.INVALID_PRODUCER_EPOCH
    assert log.state.check_and_prepare([batch(9, 1, 99)], AppendOrigin.REPLICATION).accepted


def test_markers_are_checked_for_producer_and_coordinator_epochs():
    log = Log()
    log.produce(batch(1, 3, 0, txn=True))
    log.marker(1, 3, commit=True, coordinator_epoch=7)
    stale = log.state.check_marker(1, 2, EndTxnMarker(CONTROL_ABORT, 7))
    assert stale.error is ErrorCode.INVALID_PRODUCER_EPOCH
    zombie = log.state.check_marker(1, 3, EndTxnMarker(CONTROL_ABORT, 6))
    assert zombie.error is ErrorCode.TRANSACTION_COORDINATOR_FENCED
    assert log.state.check_marker(1, 4, EndTxnMarker(CONTROL_ABORT, 7)).accepted
    assert log.state.check_marker(42, 0, EndTxnMarker(CONTROL_ABORT, 0)).accepted


def test_marker_ends_the_transaction_and_a_bumped_marker_resets_sequences():
    log = Log()
    log.produce(batch(1, 0, 0, 2, txn=True))  # 0..1
    log.produce(batch(1, 0, 2, 1, txn=True))  # 2
    done = log.marker(1, 0, commit=False, coordinator_epoch=1)  # 3
    assert done == CompletedTxn(1, 0, 3, is_aborted=True, last_stable_offset=4)
    entry = log.state.last_entry(1)
    assert entry is not None and not entry.has_ongoing_txn and entry.coordinator_epoch == 1
    assert log.produce(batch(1, 0, 3))[0].accepted  # same epoch continues its sequence
    # KIP-890: the coordinator ends the next transaction with the epoch bumped
    log.produce(batch(1, 0, 4, txn=True))  # 5
    assert log.marker(1, 1, commit=True, coordinator_epoch=1) == CompletedTxn(1, 5, 6, False, 7)
    assert log.state.check_and_prepare([batch(1, 1, 5)]).error is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert log.state.check_and_prepare([batch(1, 0, 5)]).error is ErrorCode.INVALID_PRODUCER_EPOCH
    assert log.produce(batch(1, 1, 0))[0].accepted


def test_marker_without_a_transaction_completes_nothing():
    log = Log()
    log.produce(batch(1, 0, 0))
    assert log.marker(1, 0, commit=False, coordinator_epoch=2) is None
    assert log.state.last_entry(1).coordinator_epoch == 2  # type: ignore[union-attr]
    empty = log.state.on_append(marker_batch(1, 0), 10, None)  # compacted control batch
    assert empty is None and log.state.map_end_offset == 11


def test_last_stable_offset_with_interleaved_transactions():
    log = Log()
    log.produce(batch(1, 0, 0))  # 0 idempotent
    log.produce(batch(2, 0, 0, 2, txn=True))  # 1..2
    log.produce(batch(3, 0, 0, txn=True))  # 3
    log.produce(batch(2, 0, 2, txn=True))  # 4
    assert log.state.ongoing_transactions() == [(1, 2), (3, 3)]
    assert log.state.last_stable_offset(high_watermark=5) == 1
    assert log.state.last_stable_offset(high_watermark=1) == 1
    assert log.state.last_stable_offset(high_watermark=0) == 0
    # producer 2 aborts while producer 3 is still open: the index entry's LSO is 3
    assert log.marker(2, 0, commit=False) == CompletedTxn(2, 1, 5, True, 3)
    assert log.state.last_stable_offset(high_watermark=6) == 3
    # producer 3 commits (marker at 6); until the high watermark passes it, its data is unstable
    assert log.marker(3, 0, commit=True) == CompletedTxn(3, 3, 6, False, 7)
    assert log.state.first_unstable_offset(high_watermark=6) == 3
    assert log.state.last_stable_offset(high_watermark=6) == 3
    assert log.state.last_stable_offset(high_watermark=7) == 7
    log.state.on_high_watermark_updated(7)
    assert log.state.first_unstable_offset() is None


def test_log_append_time_is_the_producers_timestamp():
    state = ProducerStateManager()
    state.on_append(batch(1, 0, 0, ts=5), 0, log_append_time=TS)
    assert state.last_entry(1).last_timestamp == TS  # type: ignore[union-attr]


def test_expiry_forgets_idle_producers_but_not_open_transactions():
    state = ProducerStateManager(producer_id_expiration_ms=1000)
    state.on_append(batch(1, 0, 0, ts=100), 0)
    state.on_append(batch(2, 0, 0, ts=100, txn=True), 1)
    state.on_append(batch(3, 0, 0, ts=600), 2)
    assert state.remove_expired_producers(1099) == []
    assert state.remove_expired_producers(1100) == [1]
    assert sorted(state.producers) == [2, 3]
    assert state.remove_expired_producers(10_000) == [3]
    assert state.has_ongoing_transaction(2)


def test_needs_verification_only_for_the_first_transactional_write():
    state = ProducerStateManager()
    assert state.needs_verification(batch(1, 0, 0, txn=True))
    assert not state.needs_verification(batch(1, 0, 0))
    state.on_append(batch(1, 0, 0, txn=True), 0)
    assert not state.needs_verification(batch(1, 0, 1, txn=True))


def test_truncate_fully():
    log = Log()
    log.produce(batch(1, 0, 0, txn=True))
    log.state.truncate_fully_and_start_at(50)
    assert log.state.producers == {} and log.state.ongoing_transactions() == []
    assert log.state.map_end_offset == 50 and log.state.last_stable_offset(60) == 60
