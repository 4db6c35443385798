"""The replication throttle follows the metadata: `configure_throttle(throttle, image, static, now)`
reads the two rate configs of this broker (dynamic per broker, cluster default, static, default) and
every topic's `leader/follower.replication.throttled.replicas` override into the pure
`replication.throttle.ReplicationThrottle` the Fetch handler and the replica fetcher consult."""

from __future__ import annotations

from odradek.metadata.config_resolution import broker_config_value
from odradek.metadata.image import ClusterImage
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.replication.throttle import UNLIMITED, ReplicationThrottle

LEADER_RATE = "leader.replication.throttled.rate"
FOLLOWER_RATE = "follower.replication.throttled.rate"
LEADER_REPLICAS = "leader.replication.throttled.replicas"
FOLLOWER_REPLICAS = "follower.replication.throttled.replicas"


def configure_throttle(
    throttle: ReplicationThrottle, image: ClusterImage, static: StaticBrokerConfig, now_ms: int
) -> None:
    leader: dict[str, str] = {}
    follower: dict[str, str] = {}
    for topic, configs in image.topic_configs.items():
        if LEADER_REPLICAS in configs:
            leader[topic] = configs[LEADER_REPLICAS]
        if FOLLOWER_REPLICAS in configs:
            follower[topic] = configs[FOLLOWER_REPLICAS]
    throttle.configure(
        _rate(image, static, LEADER_RATE), _rate(image, static, FOLLOWER_RATE), leader, follower, now_ms
    )


def _rate(image: ClusterImage, static: StaticBrokerConfig, name: str) -> int:
    value = broker_config_value(image, static, name)
    return value if isinstance(value, int) else UNLIMITED
