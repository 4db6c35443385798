"""Hypothesis profiles for the property suite.

`fast` (default) keeps the whole suite in seconds on two cores; `thorough` multiplies every test's
example budget (`HYPOTHESIS_PROFILE=thorough`), for a long run before touching the codec.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("fast", print_blob=True, **_COMMON)
settings.register_profile("thorough", print_blob=True, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))
