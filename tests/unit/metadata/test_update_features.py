"""UpdateFeatures' controller function: Kafka's checks (KIP-584, KIP-778), all or nothing."""

from __future__ import annotations

from odradek.metadata.controller.features import update_features
from odradek.metadata.delta import replay
from odradek.metadata.features import feature_level, finalized_levels
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import FeatureLevelRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.errors import ErrorCode
from odradek.model.feature_update import FeatureUpdate, UpgradeType

STATIC = StaticBrokerConfig.from_properties({"node.id": "7"})
ELR = "eligible.leader.replicas.version"


def refusal(*updates: FeatureUpdate, image: ClusterImage = ClusterImage.EMPTY) -> str | None:
    result = update_features(image, STATIC, updates)
    assert result.response.code is ErrorCode.INVALID_UPDATE_VERSION and result.records == ()
    return result.response.message


def test_kafkas_refusals() -> None:
    assert refusal(FeatureUpdate(ELR, 0, UpgradeType.UPGRADE)) == (
        "Invalid update version 0 for feature eligible.leader.replicas.version. Can't downgrade the "
        "version of this feature without setting the upgrade type to either safe or unsafe downgrade."
    )
    assert refusal(FeatureUpdate(ELR, 2, UpgradeType.UPGRADE)) == (
        "Invalid update version 2 for feature eligible.leader.replicas.version. "
        "Local controller 7 only supports versions 0-1"
    )
    assert refusal(FeatureUpdate("nonsense.version", 1)) == (
        "Invalid update version 1 for feature nonsense.version. "
        "Local controller 7 does not support this feature."
    )
    assert refusal(FeatureUpdate("nonsense.version", 0, UpgradeType.SAFE_DOWNGRADE)) == (
        "Invalid update version 0 for feature nonsense.version. Feature nonsense.version not found."
    )
    assert refusal(FeatureUpdate(ELR, 0, 0)) == (
        "Invalid update version 0 for feature eligible.leader.replicas.version. "
        "The controller does not support the given upgrade type."
    )
    assert refusal(FeatureUpdate("group.version", 0, UpgradeType.UNSAFE_DOWNGRADE)) is not None


def test_all_or_nothing_and_validate_only() -> None:
    both = (FeatureUpdate(ELR, 0, UpgradeType.SAFE_DOWNGRADE), FeatureUpdate(ELR + "x", 1))
    assert refusal(*both) is not None  # the valid one is not applied either
    dry = update_features(
        ClusterImage.EMPTY, STATIC, [FeatureUpdate(ELR, 0, UpgradeType.UNSAFE_DOWNGRADE)], True
    )
    assert dry.response.code is ErrorCode.NO_ERROR and dry.records == ()
    done = update_features(ClusterImage.EMPTY, STATIC, [FeatureUpdate(ELR, 0, UpgradeType.UNSAFE_DOWNGRADE)])
    assert done.records == (FeatureLevelRecord(ELR, 0),)
    image = replay(ClusterImage.EMPTY, done.records)
    assert feature_level(image, ELR) == 0 and finalized_levels(image) == {"group.version": 1}
    same = update_features(
        image, STATIC, [FeatureUpdate(ELR, 0, UpgradeType.UPGRADE)]
    )  # no change: nothing written
    assert same.response.code is ErrorCode.NO_ERROR and same.records == ()
    up = replay(image, update_features(image, STATIC, [FeatureUpdate(ELR, 1, UpgradeType.UPGRADE)]).records)
    assert finalized_levels(up) == {"group.version": 1, ELR: 1}
    assert ClusterImage.EMPTY.finalized_features == {} and replay(ClusterImage.EMPTY, up.to_records()) == up
