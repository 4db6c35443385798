"""Producer state inside PartitionLog: idempotent appends, markers, `.txnindex`, LSO, snapshots, recovery."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from storage_helpers import NOW, new_log, reopen

from odradek.model.errors import ErrorCode
from odradek.protocol.records import CONTROL_ABORT, CONTROL_COMMIT, BatchSpec, build_batch, validate_batches
from odradek.storage.errors import ProducerStateError
from odradek.storage.partition_log import AppendInfo, PartitionLog
from odradek.storage.producer_snapshot import list_snapshots
from odradek.storage.producer_state import EndTxnMarker
from odradek.storage.txn_index import AbortedTxn

PID, OTHER = 1000, 2000


def produce(
    log: PartitionLog, pid: int, epoch: int, seq: int, count: int = 1, *, txn: bool = False, ts: int = NOW
) -> AppendInfo:
    spec = BatchSpec(producer_id=pid, producer_epoch=epoch, base_sequence=seq, is_transactional=txn)
    buf = bytearray(build_batch([(b"k", b"v%d" % i, [], ts + i) for i in range(count)], spec))
    info = log.append(buf, validate_batches(buf), 0, NOW)
    log.high_watermark = log.log_end_offset
    return info


def end_txn(log: PartitionLog, pid: int, epoch: int, commit: bool, coordinator_epoch: int = 0) -> AppendInfo:
    marker = EndTxnMarker(CONTROL_COMMIT if commit else CONTROL_ABORT, coordinator_epoch)
    info = log.append_marker(pid, epoch, marker, 0, NOW)
    log.high_watermark = log.log_end_offset
    return info


def test_a_retried_batch_is_answered_with_its_original_offsets(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    first = produce(log, PID, 0, 0, count=3)
    produce(log, PID, 0, 3, count=2)
    retry = produce(log, PID, 0, 0, count=3)
    assert (retry.duplicate, retry.first_offset, retry.last_offset) == (True, 0, 2)
    assert first.duplicate is False
    assert log.log_end_offset == 5


def test_sequence_gaps_and_old_epochs_are_refused_and_write_nothing(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    produce(log, PID, 1, 0, count=2)
    with pytest.raises(ProducerStateError) as gap:
        produce(log, PID, 1, 5)
    assert gap.value.error_code is ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    with pytest.raises(ProducerStateError) as old:
        produce(log, PID, 0, 2)
    assert old.value.error_code is ErrorCode.INVALID_PRODUCER_EPOCH
    assert log.log_end_offset == 2
    assert log.active_segment.size == sum(len(c) for c in log.read(0, 1 << 20, 2).chunks)


def test_an_open_transaction_holds_the_lso_and_an_abort_is_indexed(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    produce(log, OTHER, 0, 0)  # offset 0, plain idempotent
    produce(log, PID, 0, 0, count=2, txn=True)  # 1-2
    produce(log, OTHER, 0, 1)  # 3
    assert (log.high_watermark, log.last_stable_offset) == (4, 1)
    marker = end_txn(log, PID, 0, commit=False)  # 4
    assert marker.first_offset == 4
    assert log.last_stable_offset == 5
    assert log.active_segment.txn_index.entries == [AbortedTxn(PID, 1, 4, 5)]
    assert log.aborted_transactions(0, 5) == [AbortedTxn(PID, 1, 4, 5)]
    assert log.aborted_transactions(5, 6) == []
    produce(log, PID, 0, 2, txn=True)  # 5: a new transaction at the same epoch
    end_txn(log, PID, 0, commit=True)  # 6: commits are not indexed
    assert len(log.active_segment.txn_index.entries) == 1


def test_a_marker_below_the_producer_epoch_is_refused(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    produce(log, PID, 3, 0, txn=True)
    with pytest.raises(ProducerStateError) as fenced:
        end_txn(log, PID, 2, commit=True)
    assert fenced.value.error_code is ErrorCode.INVALID_PRODUCER_EPOCH
    assert log.log_end_offset == 1


def test_the_lso_waits_for_the_marker_to_be_below_the_high_watermark(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    produce(log, PID, 0, 0, txn=True)
    log.append_marker(PID, 0, EndTxnMarker(CONTROL_COMMIT, 0), 0, NOW)
    assert log.last_stable_offset == 0  # the high watermark (1) has not passed the marker yet
    log.high_watermark = 2
    assert log.last_stable_offset == 2


def test_the_high_watermark_moved_to_the_log_end_in_one_step_frees_the_lso_as_the_setter_does(
    tmp_path: Path,
) -> None:
    """`advance_high_watermark_to_end` (a leader alone, after each append) does what `high_watermark =
    log_end_offset` does: the same high watermark, and a committed marker below it frees the LSO."""
    logs = []
    for name in ("setter", "one-step"):
        (tmp_path / name).mkdir()
        log = new_log(tmp_path / name)
        produce(log, PID, 0, 0, txn=True)
        log.append_marker(PID, 0, EndTxnMarker(CONTROL_COMMIT, 0), 0, NOW)
        assert log.last_stable_offset == 0
        logs.append(log)
    logs[0].high_watermark = logs[0].log_end_offset
    logs[1].advance_high_watermark_to_end()
    assert [(log.high_watermark, log.last_stable_offset) for log in logs] == [(2, 2), (2, 2)]
    # ...and the producer state forgets the marker waiting for the high watermark, as the setter
    # has it do (else every later LSO question takes the slow path)
    assert [log.producer_state._unreplicated for log in logs] == [{}, {}]


def test_snapshots_at_roll_and_clean_close_restore_duplicates(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    produce(log, PID, 0, 0, count=2)
    log.roll(NOW)
    produce(log, PID, 0, 2)
    assert list_snapshots(log.directory) == [2]
    log.close(flush=True)  # a clean shutdown: snapshot at the log end
    log = reopen(log, clean=True, high_watermark=3)
    assert list_snapshots(log.directory) == [2, 3]
    assert log.producer_state.last_entry(PID) is not None
    retry = produce(log, PID, 0, 2)
    assert (retry.duplicate, retry.first_offset) == (True, 2)
    with pytest.raises(ProducerStateError):
        produce(log, PID, 0, 5)


def test_unclean_recovery_replays_batches_and_refills_the_txn_index(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    produce(log, PID, 0, 0, txn=True)  # 0
    log.roll(NOW)  # snapshot at 1: the transaction is open
    produce(log, PID, 0, 1, txn=True)  # 1
    end_txn(log, PID, 0, commit=False)  # 2: aborted (first offset 0, in the older segment)
    produce(log, OTHER, 5, 0, txn=True)  # 3: still open at the crash
    index = log.active_segment.txn_index.path
    log.flush()
    log.close()  # a crash: no snapshot at the log end, and the index is lost too
    os.unlink(index)
    log = PartitionLog.load(
        log.directory,
        log.tp,
        log.config,
        recovery_point=0,
        log_start_offset=0,
        high_watermark=4,
        clean=False,
        now_ms=NOW,
    )
    assert log.active_segment.txn_index.entries == [AbortedTxn(PID, 0, 2, 3)]
    assert log.last_stable_offset == 3
    assert log.producer_state.last_entry(OTHER) is not None
    assert log.aborted_transactions(0, 4) == [AbortedTxn(PID, 0, 2, 3)]


def test_truncation_reopens_a_transaction_whose_marker_it_removed(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    produce(log, PID, 0, 0, txn=True)  # 0
    end_txn(log, PID, 0, commit=False)  # 1
    produce(log, OTHER, 0, 0)  # 2
    log.truncate_to(1, NOW)
    assert log.log_end_offset == 1
    assert log.active_segment.txn_index.entries == []
    assert log.producer_state.has_ongoing_transaction(PID)
    assert log.producer_state.last_entry(OTHER) is None


def test_producers_expire_unless_a_transaction_is_open(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    produce(log, PID, 0, 0, ts=NOW)
    produce(log, OTHER, 0, 0, txn=True, ts=NOW)
    assert log.remove_expired_producers(NOW + 1000, expiration_ms=1000) == [PID]
    assert [e.producer_id for e in log.producer_state] == [OTHER]


def test_truncating_fully_forgets_producers_and_snapshots(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    produce(log, PID, 0, 0)
    log.roll(NOW)
    produce(log, PID, 0, 1)
    assert list_snapshots(log.directory) == [1]
    log.truncate_fully_and_start_at(100, NOW)
    assert list_snapshots(log.directory) == []
    assert list(log.producer_state) == []
    assert produce(log, PID, 0, 7).first_offset == 100  # an unknown producer starts over anywhere


def test_snapshots_of_earlier_clean_shutdowns_do_not_pile_up(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    for seq in range(3):
        produce(log, PID, 0, seq)
        log.close(flush=True)
        log = reopen(log, clean=True, high_watermark=seq + 1)
    log.roll(NOW)
    produce(log, PID, 0, 3)
    log.close(flush=True)
    log = reopen(log, clean=True, high_watermark=4)
    # 3: the roll's (a segment base); 4: the last clean shutdown's; 1 and 2 were strays
    assert list_snapshots(log.directory) == [3, 4]
