from __future__ import annotations

import os
from pathlib import Path

from storage_helpers import NOW, TP, append, batch, headers_of, new_log, read_all, reopen

from odradek.storage.layout import INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, segment_path
from odradek.storage.log_config import LogConfig
from odradek.storage.offset_index import ENTRY as OFFSET_ENTRY
from odradek.storage.partition_log import PartitionLog
from odradek.storage.time_index import ENTRY as TIME_ENTRY


def written_log(tmp_path: Path, batches: int = 60, **config: object) -> tuple[PartitionLog, list[bytes]]:
    log = new_log(tmp_path, segment_bytes=2000, index_interval_bytes=150, **config)
    raws = [append(log, batch(1 + i % 4, ts=NOW + i))[1] for i in range(batches)]
    return log, raws


def index_state(log: PartitionLog) -> list[tuple[list[int], list[int], list[int], list[int]]]:
    out = []
    for s in log.segments:
        oi, ti = s.offset_index, s.time_index
        out.append((list(oi._rel), list(oi._pos), list(ti._ts), list(ti._rel)))
    return out


def test_clean_reopen_keeps_everything_without_scanning(tmp_path: Path) -> None:
    log, raws = written_log(tmp_path)
    log.flush()
    leo, bases = log.log_end_offset, [s.base_offset for s in log.segments]
    indexes = index_state(log)
    log = reopen(log, clean=True, recovery_point=leo)
    assert (log.log_end_offset, log.recovery_point) == (leo, leo)
    assert [s.base_offset for s in log.segments] == bases
    # Closed segments' indexes are not even read until a lookup needs them.
    assert not log.segments[0]._offset_index.loaded
    assert read_all(log) == b"".join(raws)
    assert index_state(log)[:-1] == indexes[:-1]
    info, _ = append(log, batch(2))
    assert info.first_offset == leo


def test_unclean_reopen_rebuilds_identical_indexes(tmp_path: Path) -> None:
    log, raws = written_log(tmp_path)
    log.close()  # seals the active segment too
    indexes = index_state(log)
    for s in log.segments:
        for suffix in (INDEX_SUFFIX, TIME_INDEX_SUFFIX):
            segment_path(log.directory, s.base_offset, suffix).write_bytes(b"")
    log = reopen(log, clean=False, recovery_point=0)
    assert read_all(log) == b"".join(raws)
    # The rebuilt indexes equal what the appends and rolls wrote.
    assert index_state(log) == indexes


def test_torn_tail_is_cut_at_the_last_whole_batch(tmp_path: Path) -> None:
    log, raws = written_log(tmp_path)
    active = log.active_segment
    path = active.log_path
    size = active.size
    log.close()
    os.truncate(path, size - 5)
    log = reopen(log, clean=False)
    assert read_all(log) == b"".join(raws[:-1])
    assert log.log_end_offset == log.segments[-1].read_next_offset()
    assert path.stat().st_size == size - len(raws[-1])


def test_zero_filled_tail_is_cut(tmp_path: Path) -> None:
    log, raws = written_log(tmp_path)
    path = log.active_segment.log_path
    leo = log.log_end_offset
    log.close()
    with open(path, "ab") as f:
        f.write(bytes(4096))
    log = reopen(log, clean=False)
    assert log.log_end_offset == leo
    assert read_all(log) == b"".join(raws)


def test_corrupt_batch_in_an_older_segment_drops_everything_after_it(tmp_path: Path) -> None:
    log, raws = written_log(tmp_path)
    assert len(log.segments) > 3
    first_size = log.segments[0].size
    second = log.segments[1]
    path = second.log_path
    log.close()
    data = bytearray(path.read_bytes())
    data[30] ^= 0xFF  # inside the first batch's CRC-covered bytes
    path.write_bytes(bytes(data))
    log = reopen(log, clean=False, recovery_point=second.base_offset)
    assert [(s.base_offset, s.size) for s in log.segments] == [(0, first_size), (second.base_offset, 0)]
    assert read_all(log) == b"".join(raws)[:first_size]
    assert log.log_end_offset == second.base_offset
    assert sorted(os.listdir(log.directory)) == sorted(
        [
            *(
                f"{b:020d}{x}"
                for b in (0, second.base_offset)
                for x in (LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX)
            ),
            f"{second.base_offset:020d}.snapshot",  # producer state at the roll (at the new LEO: kept)
            "leader-epoch-checkpoint",
            "partition.metadata",
        ]
    )


def test_segments_below_the_recovery_point_are_trusted(tmp_path: Path) -> None:
    log, _raws = written_log(tmp_path)
    first = log.segments[0]
    path = first.log_path
    log.flush()
    leo = log.log_end_offset
    log.close()
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF  # silent corruption below the recovery point: not scanned
    path.write_bytes(bytes(data))
    log = reopen(log, clean=False, recovery_point=leo)
    assert log.log_end_offset == leo


def test_corrupt_index_files_are_rebuilt_after_a_clean_shutdown(tmp_path: Path) -> None:
    log, raws = written_log(tmp_path, batches=150)
    assert len(log.segments) > 5
    log.close()
    indexes = index_state(log)
    bases = [s.base_offset for s in log.segments]
    log.flush()
    leo = log.log_end_offset
    log.close()
    d = log.directory
    # Torn length, entry beyond the log, entries out of order, missing file.
    with open(segment_path(d, bases[0], INDEX_SUFFIX), "ab") as f:
        f.write(b"\x00\x00\x00")
    with open(segment_path(d, bases[1], INDEX_SUFFIX), "ab") as f:
        f.write(OFFSET_ENTRY.pack(1_000_000, 1_000_000))
    ti = segment_path(d, bases[2], TIME_INDEX_SUFFIX)
    ti.write_bytes(ti.read_bytes() + TIME_ENTRY.pack(0, 0))  # timestamp going backwards
    segment_path(d, bases[3], INDEX_SUFFIX).unlink()
    oi = segment_path(d, bases[-1], INDEX_SUFFIX)
    data = oi.read_bytes()
    assert len(data) >= 16
    oi.write_bytes(data[8:16] + data[:8] + data[16:])  # swapped: out of order
    log = reopen(log, clean=True, recovery_point=leo)
    assert read_all(log) == b"".join(raws)
    assert index_state(log) == indexes
    assert log.log_end_offset == leo


def test_leftovers_are_removed_on_load(tmp_path: Path) -> None:
    log, _ = written_log(tmp_path)
    d = log.directory
    log.close()
    (d / "00000000000000000000.log.deleted").write_bytes(b"x")
    (d / "recovery.tmp").write_bytes(b"x")
    (d / f"{99999:020d}{INDEX_SUFFIX}").write_bytes(b"")  # index without a log
    log = reopen(log, clean=True)
    names = set(os.listdir(d))
    assert "00000000000000000000.log.deleted" not in names
    assert "recovery.tmp" not in names
    assert f"{99999:020d}{INDEX_SUFFIX}" not in names


def test_empty_directory_loads_at_the_checkpointed_log_start(tmp_path: Path) -> None:
    d = tmp_path / "orders-0"
    d.mkdir()
    log = PartitionLog.load(
        d,
        TP,
        LogConfig(),
        recovery_point=0,
        log_start_offset=70,
        high_watermark=70,
        clean=False,
        now_ms=NOW,
    )
    assert (log.log_start_offset, log.log_end_offset, log.high_watermark) == (70, 70, 70)
    assert segment_path(d, 70, LOG_SUFFIX).exists()
    assert log.topic_id is None


def test_kill9_at_every_byte_of_the_active_segment(tmp_path: Path) -> None:
    """Simulated kill -9 mid-write: the active segment ends at any byte; whole batches survive."""
    log = new_log(tmp_path, segment_bytes=600, index_interval_bytes=100)
    raws = [append(log, batch(1 + i % 3, ts=NOW + i, value_size=20))[1] for i in range(10)]
    assert len(log.segments) == 2
    active = log.active_segment
    base, path = active.base_offset, active.log_path
    before = sum(len(r) for r in raws) - active.size
    full = path.read_bytes()
    log.close()
    bounds = []  # end position, in the active segment, of each batch it holds
    pos = 0
    for raw in raws:
        pos += len(raw)
        if pos > before:
            bounds.append(pos - before)
    next_offsets = [h.base_offset + h.last_offset_delta + 1 for h in headers_of(full)]
    assert len(next_offsets) == len(bounds)
    for cut in range(len(full) + 1):
        path.write_bytes(full[:cut])
        reopened = PartitionLog.load(
            log.directory,
            TP,
            log.config,
            recovery_point=base,
            log_start_offset=0,
            high_watermark=0,
            clean=False,
            now_ms=NOW,
        )
        whole = [i for i, end in enumerate(bounds) if end <= cut]
        expected_leo = next_offsets[whole[-1]] if whole else base
        assert reopened.log_end_offset == expected_leo, cut
        kept = bounds[whole[-1]] if whole else 0
        assert reopened.active_segment.size == kept
        assert b"".join(reopened.read(0, 1 << 20, expected_leo).chunks) == b"".join(raws)[: before + kept]
        reopened.close()


def test_torn_tail_is_cut_even_after_a_clean_shutdown(tmp_path: Path) -> None:
    log, raws = written_log(tmp_path)
    path = log.active_segment.log_path
    leo = log.log_end_offset
    log.close()
    with open(path, "ab") as f:
        f.write(raws[-1][:70])  # half a batch that a clean shutdown should never leave
    log = reopen(log, clean=True, recovery_point=leo)
    assert log.log_end_offset == leo
    assert path.stat().st_size == log.active_segment.size
    assert read_all(log) == b"".join(raws)


def test_appends_index_where_recovery_does_at_every_interval(tmp_path: Path) -> None:
    """`LogSegment.append` notes each batch for the indexes inline (most appends add no entry); the
    entries land exactly where recovery's `_index_batch` puts them, also when the bytes since the
    last entry are just below, at or just above `index.interval.bytes`, and with timestamps that
    go back and forth by one."""
    size = len(batch(2))
    steps = (0, 1, 1, 3, 2, 4, 5, 5, 9, 8, 10, 11)
    for interval in sorted({max(0, k * size + d) for k in range(4) for d in (-2, -1, 0, 1, 2)}):
        directory = tmp_path / f"i{interval}"
        directory.mkdir()
        log = new_log(directory, index_interval_bytes=interval)
        raws = [append(log, batch(2, ts=NOW + step))[1] for step in steps]
        log.close()
        indexes = index_state(log)
        assert indexes[0][0], "no index entry: the test says nothing"
        for s in log.segments:
            for suffix in (INDEX_SUFFIX, TIME_INDEX_SUFFIX):
                segment_path(log.directory, s.base_offset, suffix).unlink(missing_ok=True)
        log = reopen(log, clean=False, recovery_point=0)
        assert read_all(log) == b"".join(raws)
        assert index_state(log) == indexes, interval
        log.close()
