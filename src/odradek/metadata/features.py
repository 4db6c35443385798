"""Feature flags (KIP-584): which levels this broker supports and which the cluster has finalized.

A feature's finalized level is the cluster's choice, stored with its metadata
(`FeatureLevelRecord`; in ZooKeeper the `/feature` znode); a feature never set has its default:
the level Kafka gives a new cluster of the version odradek's ApiVersions advertises (Kafka 4.1),
which is also what odradek did before the feature could be changed, so a cluster started by an
earlier odradek keeps its behaviour.

* `group.version` 1: the KIP-848 consumer group protocol. Fixed here (the coordinator has no
  level-0 mode).
* `eligible.leader.replicas.version` 1: KIP-966's eligible leader replicas and the strict min-ISR
  high-watermark rule (`metadata/controller/partition_change.py`, `replication/replica_set.py`);
  0: the rules before KIP-966 (ADR 0002). Kafka 4.0 left it at 0 for new clusters, Kafka 4.1
  enables it for new clusters: odradek's default is 1.

Pure: `feature_level(image, name)` is what every part of the broker asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from odradek.metadata.image import ClusterImage

GROUP_VERSION = "group.version"
ELIGIBLE_LEADER_REPLICAS_VERSION = "eligible.leader.replicas.version"


@dataclass(frozen=True, slots=True)
class Feature:
    name: str
    min_level: int
    max_level: int
    """The levels this broker supports (ApiVersions' supported features)."""
    default_level: int
    """The finalized level of a cluster that never set it."""
    updatable: bool = True
    """UpdateFeatures may change it (otherwise it stays at its default)."""


FEATURES: Mapping[str, Feature] = {
    f.name: f
    for f in (
        Feature(GROUP_VERSION, 0, 1, 1, updatable=False),
        Feature(ELIGIBLE_LEADER_REPLICAS_VERSION, 0, 1, 1),
    )
}


def feature_level(image: ClusterImage, name: str) -> int:
    """The finalized level of `name`: as stored, else the feature's default (0 for unknown names)."""
    stored = image.finalized_features.get(name)
    if stored is not None:
        return stored
    feature = FEATURES.get(name)
    return 0 if feature is None else feature.default_level


def finalized_levels(image: ClusterImage) -> dict[str, int]:
    """Every feature finalized above level 0 (Kafka leaves level-0 features out of ApiVersions)."""
    levels = {name: feature_level(image, name) for name in FEATURES}
    return {name: level for name, level in levels.items() if level > 0}


def elr_enabled(image: ClusterImage) -> bool:
    """KIP-966's eligible leader replicas and strict min-ISR rule are on."""
    return feature_level(image, ELIGIBLE_LEADER_REPLICAS_VERSION) >= 1
