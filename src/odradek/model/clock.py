"""Time as a parameter: pure cores take a `Clock` (or a `now_ms`) instead of reading the system clock.

`SystemClock` is the real one; `odradek.testing.clock.FakeClock` is advanced by tests.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int:
        """Wall-clock milliseconds since the epoch (timestamps, retention)."""
        ...

    def monotonic_ms(self) -> int:
        """Monotonic milliseconds (timeouts, session expiry)."""
        ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000
