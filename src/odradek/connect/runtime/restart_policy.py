"""Automatic restarts of failed connectors and tasks (odradek's; Kafka Connect has none).

Pure: `RestartPolicy.delay_ms(attempt, rng)` is the back-off before restart number `attempt`
(1-based): `initial * 2**(attempt-1)` capped at `backoff_max_ms`, times a jitter in [0.8, 1.2).
`give_up(attempt)` once `max_attempts` restarts were made (0 disables automatic restarts). A unit
that stayed RUNNING for a minute (or `backoff_max_ms` if longer) has its attempt count reset.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HEALTHY_AFTER_MS = 60_000


@dataclass(frozen=True)
class RestartPolicy:
    max_attempts: int = 10
    backoff_initial_ms: int = 1000
    backoff_max_ms: int = 60_000

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> RestartPolicy:
        return cls(
            int(values.get("odradek.restart.max.attempts", 10)),
            int(values.get("odradek.restart.backoff.initial.ms", 1000)),
            int(values.get("odradek.restart.backoff.max.ms", 60_000)),
        )

    def give_up(self, attempt: int) -> bool:
        return attempt > self.max_attempts

    def delay_ms(self, attempt: int, rng: random.Random) -> int:
        base = min(self.backoff_max_ms, self.backoff_initial_ms * (2 ** max(0, attempt - 1)))
        return int(base * (0.8 + 0.4 * rng.random()))

    def healthy_after_ms(self) -> int:
        return max(HEALTHY_AFTER_MS, self.backoff_max_ms)
