"""Hypothesis settings of the codec property tests: the `codec` profile and per-test budgets.

The profile has no deadline (timings on a shared two-core machine are noisy) and no example
database (runs do not depend on the working directory). Tests take it as the parent of their own
settings, so other suites keep theirs. `ODRADEK_CODEC_SCALE=20` multiplies every example budget, for
a long run before touching the codec.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "codec",
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SCALE = int(os.environ.get("ODRADEK_CODEC_SCALE", "1"))


def budget(examples: int) -> settings:
    """The codec profile with `examples` examples (times the scale)."""
    return settings(settings.get_profile("codec"), max_examples=examples * SCALE)
