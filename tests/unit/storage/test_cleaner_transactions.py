"""Compaction and transactions: aborted data is dropped (and never shadows a committed value),
markers stay, and nothing at or above the last stable offset is cleaned."""

from __future__ import annotations

from pathlib import Path

from cleaner_helpers import DAY, batch_headers, compacted_log, produce, records
from storage_helpers import NOW

from odradek.protocol.records import CONTROL_ABORT, CONTROL_COMMIT, BatchSpec
from odradek.storage.partition_log import PartitionLog
from odradek.storage.producer_state import EndTxnMarker


def txn(pid: int, seq: int) -> BatchSpec:
    return BatchSpec(producer_id=pid, producer_epoch=0, base_sequence=seq, is_transactional=True)


def end(log: PartitionLog, pid: int, commit: bool) -> None:
    log.append_marker(pid, 0, EndTxnMarker(CONTROL_COMMIT if commit else CONTROL_ABORT, 0), 0, NOW)
    log.high_watermark = log.log_end_offset


def test_aborted_records_go_markers_stay_and_committed_values_survive(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, segment_bytes=100_000)
    produce(log, [(b"a", b"1")])  # 0
    produce(log, [(b"a", b"aborted"), (b"c", b"aborted")], spec=txn(5, 0))  # 1-2
    end(log, 5, commit=False)  # 3
    produce(log, [(b"b", b"committed")], spec=txn(6, 0))  # 4
    end(log, 6, commit=True)  # 5
    produce(log, [(b"z", b"1")])  # 6
    log.roll(NOW)
    manager.run_cleaner(NOW + DAY)
    assert [(r.offset, r.key, r.value) for r in records(log) if r.key in (b"a", b"b", b"c", b"z")] == [
        (0, b"a", b"1"),
        (4, b"b", b"committed"),
        (6, b"z", b"1"),
    ]
    controls = [(h.base_offset, h.producer_id) for h in batch_headers(log) if h.is_control]
    assert controls == [(3, 5), (5, 6)]


def test_an_open_transaction_is_never_cleaned(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, segment_bytes=100_000)
    produce(log, [(b"a", b"1")])  # 0
    produce(log, [(b"a", b"open")], spec=txn(7, 0))  # 1: not decided yet
    produce(log, [(b"a", b"2")])  # 2
    log.roll(NOW)
    assert log.last_stable_offset == 1
    assert manager.run_cleaner(NOW + DAY) == []  # its only closed segment holds the LSO
    assert [(r.offset, r.value) for r in records(log)] == [(0, b"1"), (1, b"open"), (2, b"2")]
