"""Internal topics' replication: 1 on a single node (Kafka's sample server.properties), Kafka's own
defaults in a ZooKeeper cluster (3, 3, min ISR 2), capped by `odradek cluster up` for 1-2 brokers."""

from __future__ import annotations

from odradek.broker.config import BrokerConfig
from odradek.cluster.local import internal_topic_overrides
from odradek.metadata.controller.internal_topics import internal_topic
from odradek.metadata.image import ClusterImage

NAMES = (
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
)


def values(config: BrokerConfig) -> tuple[int, ...]:
    return tuple(config.int_value(name) for name in NAMES)


def test_a_single_node_keeps_replication_factor_1() -> None:
    assert values(BrokerConfig.from_properties({})) == (1, 1, 1)
    assert values(BrokerConfig.from_properties({"broker.id": "2"})) == (1, 1, 1)


def test_a_cluster_member_has_kafkas_defaults_unless_overridden() -> None:
    member = BrokerConfig.from_properties({"node.id": "2", "zookeeper.connect": "zk:2181"})
    assert values(member) == (3, 3, 2)
    offsets = internal_topic(ClusterImage.EMPTY, member.static, "__consumer_offsets")
    txn = internal_topic(ClusterImage.EMPTY, member.static, "__transaction_state")
    assert offsets is not None and txn is not None
    assert (offsets.replication_factor, txn.replication_factor) == (3, 3)
    assert ("min.insync.replicas", "2") in txn.configs
    set_ = BrokerConfig.from_properties(
        {"zookeeper.connect": "zk:2181", "node.id": "1", "offsets.topic.replication.factor": "2"}
    )
    assert values(set_) == (2, 3, 2)


def test_cluster_up_caps_the_internal_topics_at_its_broker_count() -> None:
    assert internal_topic_overrides(1) == dict.fromkeys(NAMES, "1")
    assert internal_topic_overrides(2) == {NAMES[0]: "2", NAMES[1]: "2", NAMES[2]: "2"}
    assert internal_topic_overrides(3) == {} == internal_topic_overrides(5)
