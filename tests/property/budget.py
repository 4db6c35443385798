"""Example budgets: per-test base counts scaled by the active profile."""

from __future__ import annotations

import os

_SCALE = {"fast": 1, "thorough": 20}


def examples(base: int) -> int:
    return base * _SCALE.get(os.environ.get("HYPOTHESIS_PROFILE", "fast"), 1)
