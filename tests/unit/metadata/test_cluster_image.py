from __future__ import annotations

import uuid

import pytest

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.delta import MetadataDelta, ReplayError, replay
from odradek.metadata.image import BrokerRegistration, ClusterImage, PartitionRegistration
from odradek.metadata.records import (
    BrokerFenceRecord,
    ClusterIdRecord,
    ConfigRecord,
    ControllerRecord,
    MetadataRecord,
    PartitionChangeRecord,
    PartitionRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
    RemoveTopicRecord,
    TopicRecord,
    UnregisterBrokerRecord,
)
from odradek.model.ids import BrokerId, Epoch

T1 = uuid.UUID(int=0x1111 << 64 | 5)
T2 = uuid.UUID(int=0x2222 << 64 | 9)
B1, B2, B3 = BrokerId(1), BrokerId(2), BrokerId(3)

BASE: list[MetadataRecord] = [
    ClusterIdRecord("cluster"),
    ControllerRecord(B1, 1),
    RegisterBrokerRecord(B1, "h1", 9092, "r1"),
    RegisterBrokerRecord(B2, "h2", 9093, None),
    TopicRecord("orders", T1),
    ConfigRecord(ConfigResourceType.TOPIC, "orders", "retention.ms", "1000"),
    PartitionRecord(T1, 0, (B1, B2), (B1, B2), B1),
    PartitionRecord(T1, 1, (B2, B1), (B2, B1), B2),
    ConfigRecord(ConfigResourceType.BROKER, "", "log.retention.ms", "5000"),
]


def test_replay_builds_the_image() -> None:
    image = replay(ClusterImage.EMPTY, BASE)
    assert image.cluster_id == "cluster"
    assert (image.controller_id, image.controller_epoch) == (1, 1)
    assert image.brokers[B1] == BrokerRegistration(B1, "h1", 9092, "r1")
    topic = image.topic("orders")
    assert topic is not None
    assert topic.topic_id == T1
    assert image.topics_by_id[T1] is topic
    assert topic.replication_factor == 2
    assert dict(topic.partitions) == {
        0: PartitionRegistration((B1, B2), (B1, B2), B1),
        1: PartitionRegistration((B2, B1), (B2, B1), B2),
    }
    assert dict(image.topic_config_overrides("orders")) == {"retention.ms": "1000"}
    assert dict(image.broker_configs[""]) == {"log.retention.ms": "5000"}
    assert image.topic_config_overrides("nothing") == {}


def test_the_base_image_is_never_changed() -> None:
    before = replay(ClusterImage.EMPTY, BASE)
    after = replay(before, [RemoveTopicRecord(T1), UnregisterBrokerRecord(B2)])
    assert before.topic("orders") is not None and B2 in before.brokers
    assert after.topic("orders") is None and B2 not in after.brokers
    with pytest.raises(TypeError):
        before.brokers[B3] = BrokerRegistration(B3, "h", 1)  # type: ignore[index]


def test_partition_change_bumps_epochs() -> None:
    image = replay(ClusterImage.EMPTY, BASE)
    shrunk = replay(image, [PartitionChangeRecord(T1, 0, isr=(B1,))])
    assert shrunk.topics_by_id[T1].partitions[0] == PartitionRegistration((B1, B2), (B1,), B1, Epoch(0), 1)
    moved = replay(shrunk, [PartitionChangeRecord(T1, 0, leader=B2, isr=(B2,))])
    assert moved.topics_by_id[T1].partitions[0] == PartitionRegistration((B1, B2), (B2,), B2, Epoch(1), 2)
    # Re-stating the same leader still bumps the leader epoch: that is how a leader is fenced.
    again = replay(moved, [PartitionChangeRecord(T1, 0, leader=B2)])
    assert again.topics_by_id[T1].partitions[0].leader_epoch == 2
    assert again.topics_by_id[T1].partitions[1] == image.topics_by_id[T1].partitions[1]


def test_remove_topic_drops_its_configs_and_partitions() -> None:
    image = replay(ClusterImage.EMPTY, BASE)
    removed = replay(image, [RemoveTopicRecord(T1)])
    assert removed.topics_by_name == {}
    assert removed.topics_by_id == {}
    assert "orders" not in removed.topic_configs
    assert dict(removed.broker_configs[""]) == {"log.retention.ms": "5000"}


def test_config_records_set_and_remove() -> None:
    image = replay(ClusterImage.EMPTY, BASE)
    image = replay(
        image,
        [
            ConfigRecord(ConfigResourceType.TOPIC, "orders", "retention.ms", None),
            ConfigRecord(ConfigResourceType.BROKER, "1", "message.max.bytes", "10"),
            ConfigRecord(ConfigResourceType.BROKER, "", "log.retention.ms", None),
        ],
    )
    assert "orders" not in image.topic_configs
    assert dict(image.broker_configs) == {"1": {"message.max.bytes": "10"}}


def test_brokers_fence_and_liveness() -> None:
    image = replay(ClusterImage.EMPTY, [*BASE, BrokerFenceRecord(B2, True)])
    assert [b.broker_id for b in image.live_brokers()] == [1]
    assert not image.is_live(2) and not image.is_live(3)
    assert image.offline_replicas(image.topics_by_id[T1].partitions[0]) == (B2,)
    partitions = image.topics_by_id[T1].partitions
    assert [image.live_leader(partitions[0]), image.live_leader(partitions[1])] == [1, -1]
    image = replay(image, [BrokerFenceRecord(B2, False)])
    assert [b.broker_id for b in image.live_brokers()] == [1, 2]
    assert image.live_leader(image.topics_by_id[T1].partitions[1]) == 2


def test_producer_ids_only_move_forward() -> None:
    image = replay(ClusterImage.EMPTY, [ProducerIdsRecord(B1, 1000), ProducerIdsRecord(B2, 2000)])
    assert image.next_producer_id == 2000
    with pytest.raises(ReplayError):
        replay(image, [ProducerIdsRecord(B1, 1000)])


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (TopicRecord("orders", T2), "topic orders already exists"),
        (TopicRecord("other", T1), f"topic id {T1} already exists"),
        (PartitionRecord(T2, 0, (B1,), (B1,), B1), f"topic id {T2} does not exist"),
        (PartitionChangeRecord(T1, 9, isr=(B1,)), f"partition {T1}:9 does not exist"),
        (RemoveTopicRecord(T2), f"topic id {T2} does not exist"),
        (BrokerFenceRecord(B3, True), "broker 3 is not registered"),
        (ClusterIdRecord("another"), "cluster id is cluster, a record sets another"),
        (ConfigRecord(ConfigResourceType.GROUP, "g", "a", "b"), "configs of GROUP resources are not kept"),
    ],
)
def test_contradicting_records_fail_replay(record: MetadataRecord, message: str) -> None:
    image = replay(ClusterImage.EMPTY, BASE)
    with pytest.raises(ReplayError) as error:
        replay(image, [record])
    assert str(error.value) == message


def test_delta_reports_created_changed_and_removed_topics() -> None:
    image = replay(ClusterImage.EMPTY, BASE)
    delta = MetadataDelta(image).replay_all(
        [
            TopicRecord("new", T2),
            PartitionRecord(T2, 0, (B1,), (B1,), B1),
            PartitionChangeRecord(T1, 1, isr=(B2,)),
        ]
    )
    assert delta.created_topic_ids == {T2}
    assert delta.changed_topic_ids == {T1}
    assert delta.removed_topics == {}
    delta2 = MetadataDelta(delta.apply()).replay_all([RemoveTopicRecord(T1)])
    assert delta2.removed_topics == {T1: "orders"}
    assert delta2.changed_topic_ids == set()


def test_snapshot_records_rebuild_the_same_image() -> None:
    image = replay(
        ClusterImage.EMPTY,
        [
            *BASE,
            BrokerFenceRecord(B2, True),
            PartitionChangeRecord(T1, 0, leader=B1, isr=(B1,), elr=(B2,)),
            ConfigRecord(ConfigResourceType.TOPIC, "gone", "segment.ms", "5"),
            ProducerIdsRecord(B1, 3000),
        ],
    )
    assert replay(ClusterImage.EMPTY, image.to_records()) == image
    assert ClusterImage.EMPTY.to_records() == []
