"""One change of an UpdateFeatures request (KIP-584, KIP-778): a feature, the level asked for, and
how (`upgrade_type`, the protocol's values since v1; v0 has only `allow_downgrade`, a safe
downgrade). Shared by what sends it (`odradek features`, `cli/feature_plan.py`) and what decides it
(the controller's `metadata/controller/features.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class UpgradeType(IntEnum):
    UPGRADE = 1
    """May only raise a level (or keep it)."""
    SAFE_DOWNGRADE = 2
    UNSAFE_DOWNGRADE = 3


@dataclass(frozen=True, slots=True)
class FeatureUpdate:
    feature: str
    level: int
    upgrade_type: int = UpgradeType.UPGRADE
    """An `UpgradeType` value; any other number as it came off the wire (the controller refuses it)."""
