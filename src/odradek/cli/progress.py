"""Progress and summary lines for long-running `produce` (and anything counting records).

Pure: the caller passes the time (seconds from a monotonic clock) in.
"""

from __future__ import annotations


def format_rate(count: int, seconds: float) -> str:
    rate = count / seconds if seconds > 0 else 0.0
    return f"{rate:,.0f} rec/s"


class ProgressMeter:
    """Emits one progress line per `interval` seconds and a summary at the end."""

    def __init__(self, verb: str, start: float, interval: float = 1.0) -> None:
        self._verb = verb
        self._start = start
        self._interval = interval
        self._next = start + interval
        self._last_count = 0
        self._last_time = start

    def tick(self, count: int, now: float) -> str | None:
        """A progress line if the interval has elapsed since the last one, else None."""
        if now < self._next:
            return None
        recent = format_rate(count - self._last_count, now - self._last_time)
        self._last_count, self._last_time = count, now
        self._next = now + self._interval
        return f"{self._verb} {count:,} records ({recent})"

    def summary(self, count: int, now: float) -> str:
        elapsed = now - self._start
        return f"{self._verb} {count} records in {elapsed:.2f} s ({format_rate(count, elapsed)})"
