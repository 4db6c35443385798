"""The measure quotas are judged by: a token bucket, fed times (never reading a clock).

A bucket fills at ``rate`` tokens (bytes, percent-seconds, partitions) per second up to ``burst``
tokens. Serving a request takes what it used *after* it was served, so the bucket may go negative;
the client then owes -tokens / rate seconds: that is the ``throttle_time_ms`` it is told, and the
time its connection stays muted (KIP-219).

Why a bucket and not Kafka's windowed Rate for byte quotas: Kafka measures the average over
``quota.window.num`` x ``quota.window.size.seconds`` (11 x 1 s) and asks for the delay that brings
that average back to the quota. Simulated with a client that always waits its throttle time, that
estimator lets the client oscillate around the quota by +-10 % over 30 s windows (whole old windows
drop out at once and each first burst echoes), while the issue's promise is "within 5 %". The
bucket holds a client to its rate exactly (over any span L it gets at most rate x L + burst), keeps
Kafka's observable behaviour (the same throttle field, the same muting, no errors) and Kafka's
window configs: the byte-rate burst is one window (``quota.window.size.seconds``), the
controller-mutation burst is KIP-599's rate x samples x window. See docs/adr/0005 for the measurement.
"""

from __future__ import annotations

QUOTA_WINDOW_NUM = 11
QUOTA_WINDOW_SIZE_MS = 1000


class TokenBucket:
    __slots__ = ("_last_ms", "burst", "rate", "tokens")

    def __init__(self, rate: float, now_ms: int, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self._last_ms = now_ms

    def refill(self, now_ms: int) -> None:
        if now_ms > self._last_ms:
            self.tokens = min(self.burst, self.tokens + self.rate * (now_ms - self._last_ms) / 1000.0)
            self._last_ms = now_ms

    def exhausted(self, now_ms: int) -> bool:
        self.refill(now_ms)
        return self.tokens < 0

    def take(self, amount: float, now_ms: int) -> None:
        """Takes `amount` (a negative amount gives tokens back, for an unsent response)."""
        self.refill(now_ms)
        self.tokens = min(self.burst, self.tokens - amount)

    def throttle_time_ms(self, now_ms: int) -> int:
        self.refill(now_ms)
        if self.tokens >= 0 or self.rate <= 0:
            return 0
        return max(1, round(-self.tokens / self.rate * 1000))

    def last_used_ms(self) -> int:
        return self._last_ms
