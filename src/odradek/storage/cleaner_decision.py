"""Which compacted logs to clean, which offsets to clean, and how to group segments: Kafka's rules, pure.

Cleanable range (Kafka's `LogCleanerManager.cleanableOffsets`)::

    first dirty offset   the `cleaner-offset-checkpoint` entry; the log start offset when there is
                         none, or when it is below the log start or above the log end offset (the
                         log was truncated or replaced: clean it all again)
    first uncleanable    min(last stable offset (<= high watermark), base offset of the active
                         segment, base offset of the first dirty closed segment whose largest
                         timestamp is newer than now - min.compaction.lag.ms), never below the
                         first dirty offset; then rounded down to the base offset of the segment
                         holding it, so that only whole closed segments are ever cleaned

Dirty ratio: `cleanable_bytes / (clean_bytes + cleanable_bytes)`, where clean bytes are the sizes of
the segments below the first dirty offset and cleanable bytes those of the segments from the one
holding the first dirty offset up to the first uncleanable one. A log is cleaned when the ratio is
above `min.cleanable.dirty.ratio` (strictly, as Kafka), or when its oldest dirty closed segment's
first batch is older than `max.compaction.lag.ms` and there is anything cleanable at all. The log
with the highest ratio goes first.

Groups: the segments below the end of the cleaned range are rewritten in groups of consecutive
segments, each becoming one segment: a group grows while its total log size stays within
`segment.bytes`, its index sizes within `segment.index.bytes`, and every offset in it within 2^31 - 1
of its first segment's base offset (offsets in an index are relative int32).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from odradek.model.topic_partition import TopicPartition
from odradek.storage.retention import SegmentView

INT32_MAX = (1 << 31) - 1


class CleanableSegment(SegmentView, Protocol):
    def rolling_timestamp(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class LogToClean:
    """A compacted log the cleaner may clean: its dirty range and how overdue it is."""

    tp: TopicPartition
    first_dirty_offset: int
    first_uncleanable_offset: int  # a segment base offset (the active segment's at most)
    clean_bytes: int
    cleanable_bytes: int
    compaction_delay_ms: int  # how long past max.compaction.lag.ms the oldest dirty segment is
    checkpoint_reset: bool  # the checkpointed first dirty offset was outside the log

    @property
    def total_bytes(self) -> int:
        return self.clean_bytes + self.cleanable_bytes

    @property
    def cleanable_ratio(self) -> float:
        return self.cleanable_bytes / self.total_bytes if self.total_bytes else 0.0

    @property
    def needs_compaction_now(self) -> bool:
        return self.compaction_delay_ms > 0


def _floor_index(segments: Sequence[CleanableSegment], offset: int) -> int:
    """Index of the segment holding `offset` (the first one if `offset` is before every segment)."""
    bases = [s.base_offset for s in segments]
    return max(0, bisect_right(bases, offset) - 1)


def first_dirty_offset(
    checkpoint: int | None, log_start_offset: int, log_end_offset: int
) -> tuple[int, bool]:
    """(first dirty offset, whether the checkpoint had to be reset)."""
    if checkpoint is None:
        return log_start_offset, False
    if checkpoint < log_start_offset or checkpoint > log_end_offset:
        return log_start_offset, True
    return checkpoint, False


def first_uncleanable_offset(
    segments: Sequence[CleanableSegment],
    first_dirty: int,
    *,
    last_stable_offset: int,
    min_compaction_lag_ms: int,
    now_ms: int,
) -> int:
    """The first offset that must not be cleaned, rounded down to its segment's base offset."""
    active = segments[-1]
    bound = min(last_stable_offset, active.base_offset)
    lag = max(min_compaction_lag_ms, 0)
    if lag > 0:
        for segment in segments[_floor_index(segments, first_dirty) : -1]:
            if segment.largest_timestamp > now_ms - lag:
                bound = min(bound, segment.base_offset)
                break
    bound = max(bound, first_dirty)
    return segments[_floor_index(segments, bound)].base_offset


def compaction_delay_ms(
    segments: Sequence[CleanableSegment], first_dirty: int, max_compaction_lag_ms: int, now_ms: int
) -> int:
    """How far past `max.compaction.lag.ms` the oldest dirty closed segment's first batch is (0: not)."""
    clean_until = now_ms - max(max_compaction_lag_ms, 0)
    if clean_until <= 0:  # the default lag, Long.MAX_VALUE: never due (and no header read)
        return 0
    stamps = [
        ts
        for s in segments[_floor_index(segments, first_dirty) : -1]
        if (ts := s.rolling_timestamp()) is not None and ts > 0
    ]
    return max(0, clean_until - min(stamps)) if stamps else 0


def log_to_clean(
    tp: TopicPartition,
    segments: Sequence[CleanableSegment],
    *,
    checkpoint: int | None,
    log_start_offset: int,
    log_end_offset: int,
    last_stable_offset: int,
    min_compaction_lag_ms: int,
    max_compaction_lag_ms: int,
    now_ms: int,
) -> LogToClean:
    """Measure one compacted log: `segments` in order, the active one last."""
    first_dirty, reset = first_dirty_offset(checkpoint, log_start_offset, log_end_offset)
    uncleanable = first_uncleanable_offset(
        segments,
        first_dirty,
        last_stable_offset=last_stable_offset,
        min_compaction_lag_ms=min_compaction_lag_ms,
        now_ms=now_ms,
    )
    clean = sum(s.size for s in segments if s.base_offset < first_dirty)
    cleanable = sum(
        s.size for s in segments[_floor_index(segments, first_dirty) :] if s.base_offset < uncleanable
    )
    delay = compaction_delay_ms(segments, first_dirty, max_compaction_lag_ms, now_ms)
    return LogToClean(tp, first_dirty, uncleanable, clean, cleanable, delay, reset)


def should_clean(candidate: LogToClean, min_cleanable_dirty_ratio: float) -> bool:
    if candidate.total_bytes <= 0:
        return False
    if candidate.needs_compaction_now and candidate.cleanable_bytes > 0:
        return True
    return candidate.cleanable_ratio > min_cleanable_dirty_ratio


def filthiest(candidates: Sequence[tuple[LogToClean, float]]) -> LogToClean | None:
    """The cleanable log with the highest dirty ratio among `(candidate, min ratio)` pairs."""
    eligible = [c for c, ratio in candidates if should_clean(c, ratio)]
    return max(eligible, key=lambda c: c.cleanable_ratio) if eligible else None


@dataclass(frozen=True, slots=True)
class GroupableSegment:
    """The sizes of a segment that decide which segments are cleaned into one."""

    base_offset: int
    size: int
    offset_index_bytes: int
    time_index_bytes: int


def group_segments_by_size(
    segments: Sequence[GroupableSegment], *, max_size: int, max_index_size: int, first_uncleanable: int
) -> list[list[int]]:
    """Indexes of `segments` in consecutive groups, each to be rewritten into one segment."""
    groups: list[list[int]] = []
    i, n = 0, len(segments)
    while i < n:
        first = segments[i]
        log_size, oi_size, ti_size = first.size, first.offset_index_bytes, first.time_index_bytes
        j = i + 1
        while j < n:
            nxt = segments[j]
            # The next segment's offsets end before the one after it (or the first uncleanable one).
            last_offset = (segments[j + 1].base_offset if j + 1 < n else first_uncleanable) - 1
            fits = (
                log_size + nxt.size <= max_size
                and oi_size + nxt.offset_index_bytes <= max_index_size
                and ti_size + nxt.time_index_bytes <= max_index_size
                and (nxt.size == 0 or last_offset - first.base_offset <= INT32_MAX)
            )
            if not fits:
                break
            log_size += nxt.size
            oi_size += nxt.offset_index_bytes
            ti_size += nxt.time_index_bytes
            j += 1
        groups.append(list(range(i, j)))
        i = j
    return groups
