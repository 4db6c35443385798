from __future__ import annotations

from pathlib import Path

import pytest
from storage_helpers import NOW, append, batch, new_log, reopen

from odradek.protocol.primitives import ProtocolError
from odradek.protocol.records import _CRC, CRC_OFFSET, crc_of, iter_records, read_header
from odradek.storage.leader_epoch_cache import EpochEntry, LeaderEpochCache, decode, encode


def test_offset_for_timestamp_finds_the_first_record_at_or_after(tmp_path: Path) -> None:
    log = new_log(tmp_path, segment_bytes=1500, index_interval_bytes=100)
    # 50 batches of 4 records; record k (offset k) has timestamp NOW + 10 * k.
    for b in range(50):
        append(log, batch(4, ts=NOW + 40 * b, ts_step=10), epoch=b // 10)
    assert len(log.segments) > 3
    assert log.offset_for_timestamp(NOW) == (0, NOW, 0)
    assert log.offset_for_timestamp(NOW - 5) == (0, NOW, 0)
    assert log.offset_for_timestamp(NOW + 10 * 77) == (77, NOW + 770, 1)
    assert log.offset_for_timestamp(NOW + 10 * 77 - 3) == (77, NOW + 770, 1)
    assert log.offset_for_timestamp(NOW + 10 * 199) == (199, NOW + 1990, 4)
    assert log.offset_for_timestamp(NOW + 10 * 199 + 1) is None
    # Every timestamp, against a linear oracle.
    for target in range(NOW - 1, NOW + 2000, 7):
        expected = next(((k, NOW + 10 * k, k // 40) for k in range(200) if NOW + 10 * k >= target), None)
        assert log.offset_for_timestamp(target) == expected


def test_offset_for_timestamp_with_out_of_order_timestamps(tmp_path: Path) -> None:
    log = new_log(tmp_path, index_interval_bytes=1)
    append(log, batch(timestamps=[NOW + 50, NOW + 10, NOW + 30]))  # offsets 0-2
    append(log, batch(timestamps=[NOW + 20, NOW + 60]))  # offsets 3-4
    assert log.offset_for_timestamp(NOW + 15) == (0, NOW + 50, 0)
    assert log.offset_for_timestamp(NOW + 55) == (4, NOW + 60, 0)


def test_offset_for_timestamp_skips_records_below_log_start(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    append(log, batch(5, ts=NOW))
    log.high_watermark = 5
    log.delete_records_before(3, NOW)
    assert log.offset_for_timestamp(NOW) == (3, NOW + 3, 0)


def test_max_timestamp_entry_is_the_first_record_with_the_largest_timestamp(tmp_path: Path) -> None:
    log = new_log(tmp_path, segment_bytes=600)
    assert log.max_timestamp_entry() is None
    for b in range(20):
        append(log, batch(timestamps=[NOW + b, NOW + 100 + b, NOW + b]), epoch=3)
    append(log, batch(timestamps=[NOW + 5, NOW + 119, NOW + 119]), epoch=4)  # ties: not larger
    assert len(log.segments) > 2
    assert log.max_timestamp_entry() == (3 * 19 + 1, NOW + 119, 3)
    append(log, batch(timestamps=[NOW, NOW + 500]), epoch=5)
    assert log.max_timestamp_entry() == (64, NOW + 500, 5)


def test_largest_timestamp_survives_clean_and_unclean_restart(tmp_path: Path) -> None:
    log = new_log(tmp_path, segment_bytes=600, index_interval_bytes=200)
    for b in range(30):
        append(log, batch(2, ts=NOW + 1000 - 10 * b if b % 3 else NOW + b))
    expected = [s.max_timestamp_and_offset() for s in log.segments]
    log.flush()
    for clean in (True, False):
        log = reopen(log, clean=clean, recovery_point=log.recovery_point)
        assert [s.max_timestamp_and_offset() for s in log.segments] == expected


def test_leader_epoch_cache_records_epoch_changes_on_append(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    append(log, batch(2), epoch=0)
    append(log, batch(2), epoch=0)
    append(log, batch(3), epoch=2)
    append(log, batch(1), epoch=5)
    assert log.leader_epoch_cache.entries == [EpochEntry(0, 0), EpochEntry(2, 4), EpochEntry(5, 7)]
    assert log.end_offset_for_epoch(0) == (0, 4)
    assert log.end_offset_for_epoch(1) == (0, 4)
    assert log.end_offset_for_epoch(2) == (2, 7)
    assert log.end_offset_for_epoch(5) == (5, 8)
    assert log.end_offset_for_epoch(6) == (-1, -1)
    assert log.end_offset_for_epoch(-1) == (-1, -1)
    assert [log.epoch_for_offset(o) for o in (0, 3, 4, 7, 100)] == [0, 0, 2, 5, 5]
    text = (log.directory / "leader-epoch-checkpoint").read_text()
    assert text == "0\n3\n0 0\n2 4\n5 7\n"
    log = reopen(log, clean=True)
    assert log.leader_epoch_cache.entries == [EpochEntry(0, 0), EpochEntry(2, 4), EpochEntry(5, 7)]


def test_epoch_cache_is_rebuilt_from_batches_when_the_file_is_lost(tmp_path: Path) -> None:
    log = new_log(tmp_path, segment_bytes=300)
    for epoch in (1, 1, 3, 3, 3, 4):
        append(log, batch(2, value_size=50), epoch=epoch)
    log.close()
    (log.directory / "leader-epoch-checkpoint").write_text("garbage")
    log = reopen(log, clean=True)
    assert log.leader_epoch_cache.entries == [EpochEntry(1, 0), EpochEntry(3, 4), EpochEntry(4, 10)]


def test_epoch_cache_semantics(tmp_path: Path) -> None:
    cache = LeaderEpochCache(tmp_path / "leader-epoch-checkpoint")
    assert cache.end_offset_for(3, 10) == (-1, -1)
    assert cache.assign(2, 10)
    assert not cache.assign(2, 12)  # same epoch, later offset: nothing to do
    assert cache.assign(4, 20)
    assert cache.assign(6, 30)
    assert cache.end_offset_for(1, 99) == (1, 10)  # older than every entry
    assert cache.end_offset_for(3, 99) == (2, 20)
    assert cache.end_offset_for(6, 99) == (6, 99)
    # A new entry contradicting later ones (divergence) drops them.
    assert cache.assign(5, 25)
    assert cache.entries == [EpochEntry(2, 10), EpochEntry(4, 20), EpochEntry(5, 25)]
    cache.truncate_from_end(20)
    assert cache.entries == [EpochEntry(2, 10)]
    cache.assign(3, 15)
    cache.truncate_from_start(17)
    assert cache.entries == [EpochEntry(3, 17)]
    cache.truncate_from_start(5)
    assert cache.entries == [EpochEntry(3, 17)]
    assert decode(encode(cache.entries).decode()) == cache.entries


def test_truncation_cuts_the_epoch_cache(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    append(log, batch(3), epoch=1)
    append(log, batch(3), epoch=2)
    append(log, batch(3), epoch=3)
    log.truncate_to(4, NOW)  # offset 4 is inside the batch 3..5
    assert log.log_end_offset == 3
    assert log.leader_epoch_cache.entries == [EpochEntry(1, 0)]


def _unparsable_records(raw: bytes) -> bytes:
    """The batch with its first record's length replaced by an over-long varint, CRC still valid
    (Produce checks the CRC, not the record bodies)."""
    buf = bytearray(raw)
    buf[61:67] = b"\xff" * 6
    _CRC.pack_into(buf, CRC_OFFSET, crc_of(buf, 0, len(buf)))
    return bytes(buf)


def test_timestamp_lookups_answer_at_batch_level_when_records_do_not_parse(tmp_path: Path) -> None:
    log = new_log(tmp_path, index_interval_bytes=1)
    append(log, batch(3, ts=NOW))  # offsets 0-2
    append(log, _unparsable_records(batch(3, ts=NOW + 100, ts_step=10)))  # offsets 3-5, max NOW + 120
    with pytest.raises(ProtocolError):
        list(iter_records(_unparsable_records(batch(3)), 0, read_header(_unparsable_records(batch(3)))))
    assert log.offset_for_timestamp(NOW + 1) == (1, NOW + 1, 0)  # a readable batch: per record
    assert log.offset_for_timestamp(NOW + 105) == (3, NOW + 120, 0)  # the batch's base offset and max
    assert log.max_timestamp_entry() == (5, NOW + 120, 0)
