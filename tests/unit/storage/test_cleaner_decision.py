"""Kafka's cleaner choices as pure functions: ranges, ratios, lags, groups, the offset map."""

from __future__ import annotations

from dataclasses import dataclass

from odradek.model.topic_partition import TopicPartition
from odradek.storage.cleaner_decision import (
    INT32_MAX,
    GroupableSegment,
    LogToClean,
    filthiest,
    first_dirty_offset,
    group_segments_by_size,
    log_to_clean,
    should_clean,
)
from odradek.storage.offset_map import ENTRY_OVERHEAD, OffsetMap

TP = TopicPartition("t", 0)
NOW = 1_000_000


@dataclass
class Seg:
    base_offset: int
    size: int = 100
    largest_timestamp: int = 0
    first_ts: int | None = 0

    def rolling_timestamp(self) -> int | None:
        return self.first_ts


def measure(segments: list[Seg], checkpoint: int | None = None, **kw: int) -> LogToClean:
    args = {
        "log_start_offset": segments[0].base_offset,
        "log_end_offset": segments[-1].base_offset + 5,
        "last_stable_offset": segments[-1].base_offset + 5,
        "min_compaction_lag_ms": 0,
        "max_compaction_lag_ms": 1 << 62,
        "now_ms": NOW,
    }
    args.update(kw)
    return log_to_clean(TP, segments, checkpoint=checkpoint, **args)


def test_first_dirty_offset_falls_back_to_the_log_start() -> None:
    assert first_dirty_offset(None, 10, 50) == (10, False)
    assert first_dirty_offset(30, 10, 50) == (30, False)
    assert first_dirty_offset(5, 10, 50) == (10, True)  # below the log start (retention)
    assert first_dirty_offset(51, 10, 50) == (10, True)  # beyond the end (truncation)


def test_whole_closed_segments_up_to_the_active_one() -> None:
    segs = [Seg(0), Seg(10), Seg(20), Seg(30)]
    todo = measure(segs, checkpoint=10)
    assert (todo.first_dirty_offset, todo.first_uncleanable_offset) == (10, 30)
    assert (todo.clean_bytes, todo.cleanable_bytes) == (100, 200)
    assert todo.cleanable_ratio == 200 / 300


def test_uncleanable_offset_is_rounded_down_to_its_segment() -> None:
    segs = [Seg(0), Seg(10), Seg(20), Seg(30)]
    assert measure(segs, last_stable_offset=25).first_uncleanable_offset == 20
    assert measure(segs, last_stable_offset=20).first_uncleanable_offset == 20
    # A first dirty offset inside a segment: that segment counts as clean and as cleanable.
    todo = measure(segs, checkpoint=15)
    assert (todo.clean_bytes, todo.cleanable_bytes) == (200, 200)
    nothing = measure(segs, checkpoint=15, last_stable_offset=12)
    assert (nothing.first_uncleanable_offset, nothing.cleanable_bytes) == (10, 0)


def test_min_compaction_lag_stops_at_the_first_young_segment() -> None:
    segs = [Seg(0, largest_timestamp=NOW - 500), Seg(10, largest_timestamp=NOW - 99), Seg(20), Seg(30)]
    segs[2].largest_timestamp = NOW - 1000  # older, but after a young one: not cleanable either
    assert measure(segs, min_compaction_lag_ms=100).first_uncleanable_offset == 10
    assert measure(segs, min_compaction_lag_ms=99).first_uncleanable_offset == 30
    # Only dirty segments are looked at.
    assert measure(segs, checkpoint=20, min_compaction_lag_ms=100).first_uncleanable_offset == 30


def test_max_compaction_lag_counts_from_the_oldest_dirty_first_batch() -> None:
    segs = [Seg(0, first_ts=NOW - 5000), Seg(10, first_ts=NOW - 3000), Seg(20, first_ts=NOW - 10)]
    assert measure(segs, max_compaction_lag_ms=1000).compaction_delay_ms == 4000
    assert measure(segs, checkpoint=10, max_compaction_lag_ms=1000).compaction_delay_ms == 2000
    assert measure(segs, max_compaction_lag_ms=6000).compaction_delay_ms == 0
    segs[0].first_ts = segs[1].first_ts = None  # empty segments have no first batch
    assert measure(segs, max_compaction_lag_ms=1).compaction_delay_ms == 0


def test_should_clean_needs_a_ratio_strictly_above_the_minimum_or_an_overdue_segment() -> None:
    todo = LogToClean(
        TP, 0, 10, clean_bytes=50, cleanable_bytes=50, compaction_delay_ms=0, checkpoint_reset=False
    )
    assert not should_clean(todo, 0.5)
    assert should_clean(todo, 0.49)
    overdue = LogToClean(TP, 0, 10, 50, 50, compaction_delay_ms=1, checkpoint_reset=False)
    assert should_clean(overdue, 0.9)
    assert not should_clean(LogToClean(TP, 0, 0, 50, 0, 1, False), 0.0)
    assert not should_clean(LogToClean(TP, 0, 0, 0, 0, 0, False), 0.0)


def test_filthiest_wins() -> None:
    a = LogToClean(TopicPartition("a", 0), 0, 10, 50, 50, 0, False)
    b = LogToClean(TopicPartition("b", 0), 0, 10, 20, 80, 0, False)
    c = LogToClean(TopicPartition("c", 0), 0, 10, 10, 90, 0, False)
    assert filthiest([(a, 0.1), (b, 0.1), (c, 0.95)]) == b
    assert filthiest([(a, 0.9)]) is None


def test_groups_fit_segment_bytes_index_bytes_and_relative_offsets() -> None:
    def seg(base: int, size: int, index: int = 8) -> GroupableSegment:
        return GroupableSegment(base, size, index, index + 4)

    segs = [seg(0, 400), seg(10, 300), seg(20, 300), seg(30, 1000), seg(40, 0), seg(50, 10)]
    assert group_segments_by_size(segs, max_size=1000, max_index_size=100, first_uncleanable=60) == [
        [0, 1, 2],
        [3, 4],
        [5],
    ]
    assert group_segments_by_size(segs, max_size=10_000, max_index_size=24, first_uncleanable=60) == [
        [0, 1],
        [2, 3],
        [4, 5],
    ]
    far = [seg(0, 10), seg(INT32_MAX - 5, 10), seg(INT32_MAX + 10, 10)]
    assert group_segments_by_size(
        far, max_size=10_000, max_index_size=100, first_uncleanable=INT32_MAX + 20
    ) == [
        [0],
        [1, 2],
    ]


def test_offset_map_budget() -> None:
    m = OffsetMap(budget_bytes=2 * (ENTRY_OVERHEAD + 1))
    assert m.put(b"a", 1) and m.put(b"b", 2)
    assert m.put(b"a", 3)  # a known key costs nothing more
    assert not m.put(b"c", 4)
    assert m.put(b"c", 4, force=True)
    assert (m.get(b"a"), m.get(b"b"), m.get(b"c"), m.get(b"zz")) == (3, 2, 4, -1)
    assert len(m) == 3 and m.utilization > 1.0
    m.update_latest_offset(7)
    m.update_latest_offset(5)
    assert m.latest_offset == 7
    m.clear()
    assert (len(m), m.used_bytes, m.latest_offset) == (0, 0, -1)
