from __future__ import annotations

from pathlib import Path

import pytest
from storage_helpers import NOW, append, batch, headers_of, new_log, read_all

from odradek.protocol.records import crc_of, iter_records, validate_batches
from odradek.storage.errors import MessageTooLargeError, OffsetOutOfRangeError, RecordListTooLargeError
from odradek.storage.layout import LOG_SUFFIX, segment_path


def fill(log, n: int, records_per_batch: int = 3, value_size: int = 40) -> list[tuple[int, bytes]]:
    """Append `n` batches; returns (first offset, restamped bytes) of each."""
    out = []
    for i in range(n):
        info, raw = append(log, batch(1 + i % records_per_batch, NOW + i, value_size + i % 7))
        out.append((info.first_offset, raw))
    return out


def test_append_assigns_consecutive_offsets_and_restamps_in_place(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    info1, raw1 = append(log, batch(3), epoch=7)
    info2, raw2 = append(log, batch(2), epoch=7)
    assert (info1.first_offset, info1.last_offset) == (0, 2)
    assert (info2.first_offset, info2.last_offset) == (3, 4)
    assert info1.log_append_time == -1
    assert info2.log_start_offset == 0
    h1, h2 = headers_of(raw1)[0], headers_of(raw2)[0]
    assert (h1.base_offset, h1.partition_leader_epoch) == (0, 7)
    assert (h2.base_offset, h2.partition_leader_epoch) == (3, 7)
    assert crc_of(raw2, 0, len(raw2)) == h2.crc
    assert log.log_end_offset == 5
    assert read_all(log) == raw1 + raw2


def test_several_batches_in_one_append_are_one_write(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    raw = batch(2) + batch(3) + batch(1)
    info, written = append(log, raw)
    assert (info.first_offset, info.last_offset) == (0, 5)
    assert [h.base_offset for h in headers_of(written)] == [0, 2, 5]
    assert segment_path(log.directory, 0, LOG_SUFFIX).read_bytes() == written
    validate_batches(written)  # every CRC still valid


def test_round_trip_across_many_segment_rolls(tmp_path: Path) -> None:
    log = new_log(tmp_path, segment_bytes=2000, index_interval_bytes=300)
    appended = fill(log, 200)
    assert len(log.segments) > 10
    assert [s.base_offset for s in log.segments] == sorted(s.base_offset for s in log.segments)
    assert read_all(log) == b"".join(raw for _, raw in appended)
    for first, raw in appended:
        assert log.read(first, 1, log.log_end_offset).chunks == [raw]
    for segment in log.segments[:-1]:
        assert segment.size <= 2000
    # Every segment starts where the previous one ended.
    bases = [s.base_offset for s in log.segments]
    firsts = [first for first, _ in appended]
    assert set(bases) <= set(firsts)


def test_read_from_the_middle_of_a_batch_returns_that_whole_batch(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    _, raw1 = append(log, batch(5))
    _, raw2 = append(log, batch(5))
    assert log.read(3, 10_000, 10).chunks == [raw1 + raw2]
    assert log.read(7, 10_000, 10).chunks == [raw2]


def test_read_max_bytes_cuts_at_batch_boundaries(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    raws = [append(log, batch(1, value_size=100))[1] for _ in range(10)]
    size = len(raws[0])
    result = log.read(0, 3 * size + size // 2, 10)
    assert result.chunks == [b"".join(raws[:3])]
    assert result.size == 3 * size
    assert (result.high_watermark, result.log_start_offset, result.log_end_offset) == (0, 0, 10)


def test_first_batch_is_returned_even_when_larger_than_max_bytes(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    _, big = append(log, batch(1, value_size=5000))
    append(log, batch(1))
    assert log.read(0, 100, 2, min_one_batch=True).chunks == [big]
    assert log.read(0, 100, 2, min_one_batch=False).chunks == []


def test_read_never_returns_batches_at_or_after_max_offset(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    _, raw1 = append(log, batch(2))
    append(log, batch(2))  # offsets 2..3
    append(log, batch(2))  # offsets 4..5
    assert log.read(0, 10_000, 2).chunks == [raw1]
    assert log.read(0, 10_000, 3).chunks == [raw1]  # batch 2..3 contains the limit
    assert log.read(2, 10_000, 2).chunks == []
    assert log.read(0, 10_000, 0).chunks == []


def test_read_out_of_range(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    append(log, batch(3))
    assert log.read(3, 100, 3).chunks == []  # at the log end: empty, not an error
    with pytest.raises(OffsetOutOfRangeError):
        log.read(4, 100, 3)
    with pytest.raises(OffsetOutOfRangeError):
        log.read(-1, 100, 3)
    log.high_watermark = 3
    log.delete_records_before(2, NOW)
    with pytest.raises(OffsetOutOfRangeError) as excinfo:
        log.read(1, 100, 3)
    assert excinfo.value.error_code == 1


def test_reads_span_segments_and_respect_limits(tmp_path: Path) -> None:
    log = new_log(tmp_path, segment_bytes=500)
    raws = [append(log, batch(1, value_size=150))[1] for _ in range(9)]
    assert len(log.segments) >= 3
    size = len(raws[0])
    result = log.read(1, 5 * size, 9)
    assert b"".join(result.chunks) == b"".join(raws[1:6])
    assert len(result.chunks) > 1  # one chunk per segment touched
    assert b"".join(log.read(0, 1 << 20, 7).chunks) == b"".join(raws[:7])


def test_tail_reads_after_the_recent_window_and_after_reopen(tmp_path: Path) -> None:
    log = new_log(tmp_path, index_interval_bytes=200)
    raws = [append(log, batch(1, value_size=20))[1] for _ in range(3000)]  # beyond the recent window
    for offset in (0, 1, 500, 1023, 1024, 2047, 2048, 2999):
        assert log.read(offset, 1, 3000).chunks == [raws[offset]]
    assert b"".join(log.read(2990, 1 << 20, 3000).chunks) == b"".join(raws[2990:])
    segment = log.active_segment
    cut = segment.whole_batches_end(0, 10 * len(raws[0]) + 5)
    assert cut == 10 * len(raws[0])


def test_log_append_time_stamps_batches_and_keeps_crc_valid(tmp_path: Path) -> None:
    log = new_log(tmp_path, message_timestamp_type="LogAppendTime")
    info, raw = append(log, batch(3, ts=5), now_ms=NOW + 42)
    assert info.log_append_time == NOW + 42
    header = headers_of(raw)[0]
    assert header.log_append_time and header.max_timestamp == NOW + 42
    validate_batches(raw)
    assert [r.timestamp for r in iter_records(raw, 0, header)] == [NOW + 42] * 3


def test_size_limits(tmp_path: Path) -> None:
    log = new_log(tmp_path, max_message_bytes=500, segment_bytes=1000)
    with pytest.raises(MessageTooLargeError):
        append(log, batch(1, value_size=600))
    with pytest.raises(RecordListTooLargeError):
        append(log, batch(1, value_size=400) * 3)
    assert log.log_end_offset == 0
    assert log.size_in_bytes == 0


def test_roll_by_time_counts_from_the_first_batch_timestamp(tmp_path: Path) -> None:
    log = new_log(tmp_path, segment_ms=1000)
    append(log, batch(1, ts=NOW))
    append(log, batch(1, ts=NOW + 1000))
    assert len(log.segments) == 1
    append(log, batch(1, ts=NOW + 1001))
    assert [s.base_offset for s in log.segments] == [0, 2]


def test_roll_when_the_index_is_full(tmp_path: Path) -> None:
    log = new_log(tmp_path, segment_index_bytes=24, index_interval_bytes=1)  # 3 offset / 2 time entries
    for i in range(6):
        append(log, batch(1, ts=NOW + i))
    assert len(log.segments) > 1
    assert all(s.offset_index.entries <= 3 and s.time_index.entries <= 2 for s in log.segments)


def test_explicit_roll_and_empty_roll_is_a_no_op(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    assert log.roll(NOW) is log.active_segment
    append(log, batch(2))
    log.roll(NOW)
    assert [s.base_offset for s in log.segments] == [0, 2]
    assert log.roll(NOW) is log.active_segment
    assert len(log.segments) == 2


def test_update_config_applies_to_the_next_append(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    append(log, batch(1, value_size=300))
    log.update_config(log.config.__class__(segment_bytes=500))
    append(log, batch(1, value_size=300))
    assert len(log.segments) == 2


def test_index_entries_are_spaced_by_index_interval_bytes(tmp_path: Path) -> None:
    log = new_log(tmp_path, index_interval_bytes=1000)
    raws = [append(log, batch(1, value_size=200))[1] for _ in range(40)]
    size = len(raws[0])
    index = log.active_segment.offset_index
    # An entry goes in once more than 1000 bytes were appended since the last one.
    per_entry = 1000 // size + 1
    expected = [(k * per_entry, k * per_entry * size) for k in range(1, 40) if k * per_entry < 40]
    assert [(index.base_offset + r, p) for r, p in zip(index._rel, index._pos, strict=True)] == expected
    assert index.floor_position(per_entry) == per_entry * size
    assert index.floor_position(per_entry - 1) == 0
    assert log.active_segment.size == 40 * size


def test_a_followers_read_hands_out_file_regions_only_for_big_spans(tmp_path: Path) -> None:
    """`regions=True` (a follower's fetch, sent with sendfile) reads a small span instead: one
    batch of a follower keeping up is cheaper to read than to send as a region of its own."""
    from odradek.protocol.file_region import FileRegion
    from odradek.storage.partition_log import REGION_MIN_BYTES

    log = new_log(tmp_path)
    _, small = append(log, batch(1, NOW, 100))
    read = log.read(0, 1 << 20, log.log_end_offset, True, regions=True)
    assert read.chunks == [small]
    _, big = append(log, batch(1, NOW, REGION_MIN_BYTES))
    read = log.read(0, 1 << 20, log.log_end_offset, True, regions=True)
    [region] = read.chunks
    assert isinstance(region, FileRegion) and region.read() == small + big
    region.close()


@pytest.mark.parametrize("entry_due", [False, True])
def test_a_failed_write_leaves_the_indexes_and_the_segment_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry_due: bool
) -> None:
    """The index entries are counted for the undo only when the append can add one: both ways, a
    write that fails (a full disk) takes back everything the append changed."""
    import errno

    from odradek.storage import segment as segment_module
    from odradek.storage.errors import StorageError

    log = new_log(tmp_path, index_interval_bytes=1000)
    raws = [append(log, batch(1, value_size=200))[1] for _ in range(4 if entry_due else 1)]
    segment = log.active_segment
    oi, ti = segment.offset_index, segment.time_index
    before = (list(oi._rel), list(oi._pos), ti.entries, segment.size, segment._bytes_since_index_entry)
    next_is_indexed = segment._bytes_since_index_entry > 1000
    assert next_is_indexed is entry_due

    def full(*_: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(segment_module.os, "pwrite", full)
    with pytest.raises(StorageError):
        append(log, batch(1, value_size=200))
    monkeypatch.undo()
    assert (
        list(oi._rel),
        list(oi._pos),
        ti.entries,
        segment.size,
        segment._bytes_since_index_entry,
    ) == before
    assert read_all(log) == b"".join(raws)
    info, raw = append(log, batch(1, value_size=200))  # and the next append goes where it should
    assert info.first_offset == len(raws) and read_all(log) == b"".join([*raws, raw])
