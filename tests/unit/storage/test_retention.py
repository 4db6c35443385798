from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from storage_helpers import NOW, append, batch, new_log, read_all, reopen

from odradek.storage.errors import OffsetOutOfRangeError
from odradek.storage.log_config import LogConfig
from odradek.storage.retention import deletable_segments

HOUR = 3600 * 1000


@dataclass
class Seg:
    base_offset: int
    size: int
    largest_timestamp: int


def decide(
    segments: list[Seg], *, leo: int, hw: int, start: int = 0, now: int = NOW, **config: object
) -> tuple:
    d = deletable_segments(
        segments,
        log_start_offset=start,
        log_end_offset=leo,
        high_watermark=hw,
        config=LogConfig(**config),  # type: ignore[arg-type]
        now_ms=now,
    )
    return d.count, d.reasons


SEGS = [Seg(0, 100, NOW - 5 * HOUR), Seg(10, 100, NOW - 3 * HOUR), Seg(20, 100, NOW - HOUR), Seg(30, 50, NOW)]


def test_retention_ms_deletes_the_expired_prefix() -> None:
    assert decide(SEGS, leo=35, hw=35, retention_ms=2 * HOUR) == (2, ("retention.ms",))
    assert decide(SEGS, leo=35, hw=35, retention_ms=-1) == (0, ())
    assert decide(SEGS, leo=35, hw=35, retention_ms=0) == (3, ("retention.ms",))  # now - NOW == 0 is not > 0


def test_retention_ms_stops_at_the_first_unexpired_segment() -> None:
    segs = [Seg(0, 100, NOW), Seg(10, 100, NOW - 5 * HOUR), Seg(20, 10, NOW)]
    assert decide(segs, leo=25, hw=25, retention_ms=HOUR) == (0, ())


def test_nothing_at_or_above_the_high_watermark_goes() -> None:
    assert decide(SEGS, leo=35, hw=19, retention_ms=0) == (1, ("retention.ms",))
    assert decide(SEGS, leo=35, hw=9, retention_ms=0) == (0, ())


def test_retention_bytes_keeps_the_log_under_the_limit() -> None:
    assert decide(SEGS, leo=35, hw=35, retention_bytes=200, retention_ms=-1) == (1, ("retention.bytes",))
    assert decide(SEGS, leo=35, hw=35, retention_bytes=150, retention_ms=-1) == (2, ("retention.bytes",))
    assert decide(SEGS, leo=35, hw=35, retention_bytes=350, retention_ms=-1) == (0, ())
    assert decide(SEGS, leo=35, hw=35, retention_bytes=0, retention_ms=-1) == (4, ("retention.bytes",))


def test_empty_active_segment_is_never_deleted() -> None:
    segs = [Seg(0, 100, NOW - 5 * HOUR), Seg(10, 0, -1)]
    assert decide(segs, leo=10, hw=10, retention_ms=HOUR) == (1, ("retention.ms",))


def test_log_start_rule_applies_to_every_policy() -> None:
    assert decide(SEGS, leo=35, hw=35, start=25, cleanup_policy=("compact",)) == (2, ("log-start-offset",))
    assert decide(SEGS, leo=35, hw=35, start=25, retention_ms=-1, retention_bytes=-1) == (
        2,
        ("log-start-offset",),
    )
    assert decide(SEGS, leo=35, hw=35, retention_ms=0, cleanup_policy=("compact",)) == (0, ())


def test_rules_apply_in_turn() -> None:
    count, reasons = decide(SEGS, leo=35, hw=35, start=12, retention_bytes=250, retention_ms=2 * HOUR)
    assert (count, reasons) == (2, ("log-start-offset", "retention.ms"))


# --- executed on a real log -------------------------------------------------------------------


def aged_log(tmp_path: Path, **config: object):
    """Five segments of 4 batches; segment k's timestamps are NOW + k hours."""
    log = new_log(tmp_path, **config)
    for k in range(5):
        for _ in range(4):
            append(log, batch(2, ts=NOW + k * HOUR))
        if k < 4:
            log.roll(NOW)
    log.high_watermark = log.log_end_offset
    return log


def test_retention_by_time_deletes_segments_and_advances_log_start(tmp_path: Path) -> None:
    log = aged_log(tmp_path, retention_ms=2 * HOUR)
    assert [s.base_offset for s in log.segments] == [0, 8, 16, 24, 32]
    paths = log.delete_old_segments(NOW + 3 * HOUR + 2)
    assert [s.base_offset for s in log.segments] == [16, 24, 32]
    assert log.log_start_offset == 16
    assert sorted(p.name for p in paths) == sorted(
        f"{b:020d}{suffix}.deleted" for b in (0, 8) for suffix in (".log", ".index", ".timeindex")
    )
    assert all(p.exists() for p in paths)
    with pytest.raises(OffsetOutOfRangeError):
        log.read(15, 100, 40)
    assert log.read(16, 100, 40).chunks


def test_fully_expired_log_rolls_first_and_keeps_an_empty_active_segment(tmp_path: Path) -> None:
    log = aged_log(tmp_path, retention_ms=HOUR)
    log.delete_old_segments(NOW + 10 * HOUR)
    assert [(s.base_offset, s.size) for s in log.segments] == [(40, 0)]
    assert (log.log_start_offset, log.log_end_offset, log.high_watermark) == (40, 40, 40)
    info, _ = append(log, batch(1))
    assert info.first_offset == 40


def test_retention_waits_for_the_high_watermark(tmp_path: Path) -> None:
    log = aged_log(tmp_path, retention_ms=HOUR)
    log.high_watermark = 17
    log.delete_old_segments(NOW + 10 * HOUR)
    assert log.log_start_offset == 16


def test_retention_by_size(tmp_path: Path) -> None:
    log = aged_log(tmp_path, retention_ms=-1)
    seg_size = log.segments[0].size
    log.update_config(LogConfig(retention_ms=-1, retention_bytes=int(2.5 * seg_size)))
    log.delete_old_segments(NOW)
    # Whole segments only: 3 segments (> 2.5) remain, as Kafka leaves them.
    assert [s.base_offset for s in log.segments] == [16, 24, 32]


def test_compacted_topics_keep_old_segments(tmp_path: Path) -> None:
    log = aged_log(tmp_path, retention_ms=HOUR, cleanup_policy=("compact",))
    assert log.delete_old_segments(NOW + 10 * HOUR) == []
    assert len(log.segments) == 5


def test_delete_records_advances_log_start_and_drops_whole_segments(tmp_path: Path) -> None:
    log = aged_log(tmp_path)
    paths = log.delete_records_before(19, NOW)
    assert log.log_start_offset == 19
    assert [s.base_offset for s in log.segments] == [16, 24, 32]
    assert len(paths) == 6
    assert log.read(19, 1 << 20, 40).chunks[0][:8] == (18).to_bytes(8, "big")  # batch 18..19
    with pytest.raises(OffsetOutOfRangeError):
        log.delete_records_before(41, NOW)
    log.delete_records_before(10, NOW)  # never moves backwards
    assert log.log_start_offset == 19
    log = reopen(log, clean=True, log_start_offset=19, high_watermark=40)
    assert log.log_start_offset == 19


def test_delete_records_up_to_the_log_end(tmp_path: Path) -> None:
    log = aged_log(tmp_path)
    log.delete_records_before(40, NOW)
    assert [(s.base_offset, s.size) for s in log.segments] == [(40, 0)]
    assert read_all(log) == b""


def test_truncate_to_removes_later_segments_and_the_containing_batch(tmp_path: Path) -> None:
    log = aged_log(tmp_path)
    before = read_all(log)
    paths = log.truncate_to(21, NOW)  # batch 20..21 goes
    assert log.log_end_offset == 20
    assert [s.base_offset for s in log.segments] == [0, 8, 16]
    assert len(paths) == 4  # segment 24's three files; the active 32 had no index files yet
    assert read_all(log) == before[: 20 // 2 * len(batch(2))]
    assert log.high_watermark == 20
    info, _ = append(log, batch(1))
    assert info.first_offset == 20
    assert log.truncate_to(100, NOW) == []


def test_truncate_below_the_first_segment_restarts_the_log(tmp_path: Path) -> None:
    log = aged_log(tmp_path)
    log.delete_old_segments(NOW)  # nothing expired
    log.delete_records_before(8, NOW)
    assert log.segments[0].base_offset == 8
    log.truncate_to(3, NOW)
    assert [(s.base_offset, s.size) for s in log.segments] == [(3, 0)]
    assert (log.log_start_offset, log.log_end_offset, log.recovery_point) == (3, 3, 3)
    assert log.leader_epoch_cache.entries == []
