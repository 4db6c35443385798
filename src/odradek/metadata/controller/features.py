"""UpdateFeatures (KIP-584, KIP-778): finalize features at new levels, with Kafka's checks.

`update_features(image, static, updates, validate_only)` checks every update, and either none is
applied (the first error, `INVALID_UPDATE_VERSION`, is the answer of the whole request, as Kafka's
controller answers since 3.9) or all are. An update names the feature, the level, and how:

* `UpgradeType.UPGRADE` (1) may only raise a level (or keep it);
* `SAFE_DOWNGRADE` (2) and `UNSAFE_DOWNGRADE` (3) may also lower it (both are accepted here: no
  feature odradek supports loses data when lowered);
* any other type is refused.

A level outside what this broker supports, or a feature it does not know, is refused; so is any
other level of a feature odradek cannot change (`group.version`).

Turning `eligible.leader.replicas.version` down to 0 also clears every partition's ELR and last
known ELR (`leader_election.elr_cleared_changes`), in the same change.
"""

from __future__ import annotations

from collections.abc import Sequence

from odradek.metadata.controller.leader_election import elr_cleared_changes
from odradek.metadata.controller.result import ApiError, ControllerResult
from odradek.metadata.features import ELIGIBLE_LEADER_REPLICAS_VERSION, FEATURES, feature_level
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import FeatureLevelRecord, MetadataRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.errors import ErrorCode
from odradek.model.feature_update import FeatureUpdate, UpgradeType

UPGRADE_TYPES = frozenset(UpgradeType)


def update_features(
    image: ClusterImage,
    static: StaticBrokerConfig,
    updates: Sequence[FeatureUpdate],
    validate_only: bool = False,
) -> ControllerResult[ApiError]:
    """The records finalizing every update (none if one fails or `validate_only`), and the answer."""
    for update in updates:
        error = _refusal(image, static, update)
        if error is not None:
            return ControllerResult((), error)
    records: list[MetadataRecord] = [
        FeatureLevelRecord(u.feature, u.level) for u in updates if feature_level(image, u.feature) != u.level
    ]
    elr = next((u.level for u in updates if u.feature == ELIGIBLE_LEADER_REPLICAS_VERSION), None)
    if elr == 0 and feature_level(image, ELIGIBLE_LEADER_REPLICAS_VERSION) > 0:
        records += elr_cleared_changes(image, static)
    return ControllerResult(() if validate_only else tuple(records), ApiError(ErrorCode.NO_ERROR))


def _refusal(image: ClusterImage, static: StaticBrokerConfig, update: FeatureUpdate) -> ApiError | None:
    def invalid(reason: str) -> ApiError:
        return ApiError(
            ErrorCode.INVALID_UPDATE_VERSION,
            f"Invalid update version {update.level} for feature {update.feature}. {reason}",
        )

    if update.upgrade_type not in UPGRADE_TYPES:
        return invalid("The controller does not support the given upgrade type.")
    feature = FEATURES.get(update.feature)
    if feature is None:
        if update.level == 0:
            return invalid(f"Feature {update.feature} not found.")
        return invalid(f"Local controller {static.node_id} does not support this feature.")
    if not feature.min_level <= update.level <= feature.max_level:
        supported = f"{feature.min_level}-{feature.max_level}"
        return invalid(f"Local controller {static.node_id} only supports versions {supported}")
    current = feature_level(image, update.feature)
    if update.level < current and update.upgrade_type == UpgradeType.UPGRADE:
        return invalid(
            "Can't downgrade the version of this feature without setting the upgrade type to "
            "either safe or unsafe downgrade."
        )
    if not feature.updatable and update.level != current:
        return invalid(f"This cluster keeps this feature at level {current}.")
    return None
