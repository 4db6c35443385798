"""When to restart a child that died: exponential back-off, forgiven after a stable run.

Pure: the shell passes ``now`` (monotonic seconds). A child that dies after running at least
``stable_after_s`` starts over from ``initial_s``; each further crash in a row doubles the delay
(``multiplier``) up to ``max_s``. A service that fails at start-up (bad port, bad config) therefore
retries after 0.5, 1, 2, 4 … 30 s instead of spinning, and one that crashes once a day restarts at
once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    initial_s: float = 0.5
    max_s: float = 30.0
    multiplier: float = 2.0
    stable_after_s: float = 30.0


class RestartBackoff:
    def __init__(self, policy: BackoffPolicy | None = None) -> None:
        self.policy = policy or BackoffPolicy()
        self.failures = 0
        self.started_at: float | None = None

    def started(self, now: float) -> None:
        self.started_at = now

    def exited(self, now: float) -> float:
        """Seconds to wait before the next start of a child that exited at ``now``."""
        policy = self.policy
        if self.started_at is not None and now - self.started_at >= policy.stable_after_s:
            self.failures = 0
        self.started_at = None
        self.failures += 1
        return min(policy.max_s, policy.initial_s * policy.multiplier ** (self.failures - 1))
