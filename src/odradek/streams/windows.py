"""Window definitions (Kafka Streams' `TimeWindows`, `SlidingWindows`, `SessionWindows`, `JoinWindows`).

Times are milliseconds. A time window is `[start, end)`; a window is *closed* once stream time reaches
`end + grace`: records for it after that are late (counted, dropped, optionally sent to a side
output). Hopping windows are computed from *panes* of `gcd(size, advance)` ms: a record updates one
pane, and a window's aggregate is the merge of its panes, so the cost per record does not grow with
the number of overlapping windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

DEFAULT_GRACE_MS = 0


class Window(NamedTuple):
    start: int
    end: int


class Windowed(NamedTuple):
    """A windowed key: the record key and its window."""

    key: Any
    window: Window

    def __repr__(self) -> str:
        return f"[{self.key!r}@{self.window.start}/{self.window.end}]"


@dataclass(frozen=True)
class TimeWindows:
    size_ms: int
    advance_ms: int
    grace_ms: int = DEFAULT_GRACE_MS

    @classmethod
    def of_size_with_no_grace(cls, size_ms: int) -> TimeWindows:
        return cls._checked(size_ms, size_ms, 0)

    @classmethod
    def of_size_and_grace(cls, size_ms: int, grace_ms: int) -> TimeWindows:
        return cls._checked(size_ms, size_ms, grace_ms)

    @classmethod
    def tumbling(cls, size_ms: int, grace_ms: int = 0) -> TimeWindows:
        return cls._checked(size_ms, size_ms, grace_ms)

    @classmethod
    def hopping(cls, size_ms: int, advance_ms: int, grace_ms: int = 0) -> TimeWindows:
        return cls._checked(size_ms, advance_ms, grace_ms)

    def advance_by(self, advance_ms: int) -> TimeWindows:
        return self._checked(self.size_ms, advance_ms, self.grace_ms)

    @classmethod
    def _checked(cls, size: int, advance: int, grace: int) -> TimeWindows:
        if size <= 0:
            raise ValueError("window size must be > 0")
        if not 0 < advance <= size:
            raise ValueError("window advance must be > 0 and <= the window size")
        if grace < 0:
            raise ValueError("grace must be >= 0")
        return cls(size, advance, grace)

    @property
    def pane_ms(self) -> int:
        return math.gcd(self.size_ms, self.advance_ms)

    def first_start_for(self, timestamp: int) -> int:
        """The start of the oldest window containing `timestamp`: the smallest multiple of the
        advance above `timestamp - size` (windows start at multiples of the advance, from 0)."""
        lowest = timestamp - self.size_ms + 1
        return max(0, lowest + (-lowest) % self.advance_ms)

    def windows_for(self, timestamp: int) -> list[Window]:
        """Every window containing `timestamp`, oldest first."""
        last_start = timestamp - timestamp % self.advance_ms
        first_start = self.first_start_for(timestamp)
        out = []
        start = first_start
        while start <= last_start:
            if start + self.size_ms > timestamp:
                out.append(Window(start, start + self.size_ms))
            start += self.advance_ms
        return out

    def windows_of_pane(self, pane_start: int) -> list[Window]:
        return self.windows_for(pane_start)

    def retention_ms(self) -> int:
        return self.size_ms + self.grace_ms


@dataclass(frozen=True)
class SlidingWindows:
    """Windows `[t - time_difference, t]` (both ends inclusive) around each record, as KIP-450."""

    time_difference_ms: int
    grace_ms: int = DEFAULT_GRACE_MS

    @classmethod
    def of(cls, time_difference_ms: int, grace_ms: int = 0) -> SlidingWindows:
        if time_difference_ms <= 0 or grace_ms < 0:
            raise ValueError("time difference must be > 0 and grace >= 0")
        return cls(time_difference_ms, grace_ms)

    with_time_difference_and_grace = of

    def retention_ms(self) -> int:
        return 2 * self.time_difference_ms + self.grace_ms + 1


@dataclass(frozen=True)
class SessionWindows:
    """Sessions of activity separated by `inactivity_gap_ms` without records for the key."""

    inactivity_gap_ms: int
    grace_ms: int = DEFAULT_GRACE_MS

    @classmethod
    def with_inactivity_gap(cls, gap_ms: int, grace_ms: int = 0) -> SessionWindows:
        if gap_ms <= 0 or grace_ms < 0:
            raise ValueError("inactivity gap must be > 0 and grace >= 0")
        return cls(gap_ms, grace_ms)

    def retention_ms(self) -> int:
        """A session ending `gap` before the close time can still merge with a record: keep 2 gaps."""
        return 2 * self.inactivity_gap_ms + self.grace_ms + 1


@dataclass(frozen=True)
class JoinWindows:
    """A stream-stream join matches records whose timestamps differ by at most before/after ms."""

    before_ms: int
    after_ms: int
    grace_ms: int = DEFAULT_GRACE_MS

    @classmethod
    def of_time_difference_with_no_grace(cls, diff_ms: int) -> JoinWindows:
        return cls.of(diff_ms)

    @classmethod
    def of_time_difference_and_grace(cls, diff_ms: int, grace_ms: int) -> JoinWindows:
        return cls.of(diff_ms, grace_ms)

    @classmethod
    def of(cls, diff_ms: int, grace_ms: int = 0) -> JoinWindows:
        if diff_ms < 0 or grace_ms < 0:
            raise ValueError("time difference and grace must be >= 0")
        return cls(diff_ms, diff_ms, grace_ms)

    def before(self, ms: int) -> JoinWindows:
        return JoinWindows(ms, self.after_ms, self.grace_ms)

    def after(self, ms: int) -> JoinWindows:
        return JoinWindows(self.before_ms, ms, self.grace_ms)

    def size_ms(self) -> int:
        return self.before_ms + self.after_ms

    def retention_ms(self) -> int:
        return self.before_ms + self.after_ms + self.grace_ms + 1
