"""Which old segments to delete: Kafka's retention rules as a pure decision.

A log only ever loses a prefix of whole segments. Kafka applies three rules in turn, each to the
segments the previous one left:

1. log start breached (every cleanup policy): segments whose every offset is below
   `log_start_offset` (advanced by DeleteRecords);
2. `retention.bytes` (policy contains `delete`, value >= 0): oldest segments while the log stays at
   or above the limit without them;
3. `retention.ms` (policy contains `delete`, value >= 0): segments whose largest timestamp is more
   than `retention.ms` before now.

A segment is deletable only if it lies wholly below the high watermark (the next segment's base
offset, or the log end offset for the last one, is <= high watermark) and is not the empty last
segment. When the decision covers every segment, the caller rolls first so that a fresh, empty
active segment remains. Compaction (policy `compact`) is a separate cleaner that rewrites closed
segments; it never shortens the log's prefix, so this module needs no change for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from odradek.storage.log_config import LogConfig


class SegmentView(Protocol):
    """A segment as the pure decisions read it (retention here; the cleaner's `CleanableSegment`)."""

    @property
    def base_offset(self) -> int: ...

    @property
    def size(self) -> int: ...

    @property
    def largest_timestamp(self) -> int: ...


@dataclass(frozen=True, slots=True)
class RetentionDecision:
    """How many of the oldest segments retention deletes, and why."""

    count: int  # the oldest `count` segments go
    reasons: tuple[str, ...] = field(default=())


def _end_offset(segments: Sequence[SegmentView], i: int, log_end_offset: int) -> int:
    return segments[i + 1].base_offset if i + 1 < len(segments) else log_end_offset


def deletable_segments(
    segments: Sequence[SegmentView],
    *,
    log_start_offset: int,
    log_end_offset: int,
    high_watermark: int,
    config: LogConfig | None,
    now_ms: int,
) -> RetentionDecision:
    """The oldest segments to delete; `config=None` applies only the log start rule (DeleteRecords)."""
    n = len(segments)
    # Never below the high watermark, never the empty last segment.
    limit = 0
    while limit < n and _end_offset(segments, limit, log_end_offset) <= high_watermark:
        if limit == n - 1 and segments[limit].size == 0:
            break
        limit += 1

    count = 0
    reasons: list[str] = []
    while count < limit and _end_offset(segments, count, log_end_offset) <= log_start_offset:
        count += 1
    if count:
        reasons.append("log-start-offset")
    if config is not None and config.delete_enabled:
        if config.retention_bytes >= 0:
            excess = sum(s.size for s in segments[count:]) - config.retention_bytes
            before = count
            while count < limit and excess - segments[count].size >= 0:
                excess -= segments[count].size
                count += 1
            if count > before:
                reasons.append("retention.bytes")
        if config.retention_ms >= 0:
            before = count
            while count < limit and now_ms - segments[count].largest_timestamp > config.retention_ms:
                count += 1
            if count > before:
                reasons.append("retention.ms")
    return RetentionDecision(count, tuple(reasons))
