"""The controller's reaction to brokers coming and going (`controller/leader_election.py`)."""

from __future__ import annotations

import uuid

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.controller.leader_election import elect_controller, elect_leaders, movable_leaderships
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage, PartitionRegistration
from odradek.metadata.records import (
    NO_LEADER,
    BrokerFenceRecord,
    ConfigRecord,
    ControllerRecord,
    MetadataRecord,
    PartitionRecord,
    RegisterBrokerRecord,
    TopicRecord,
    UnregisterBrokerRecord,
)
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.ids import BrokerId

B1, B2, B3 = BrokerId(1), BrokerId(2), BrokerId(3)
TID = uuid.UUID(int=7)
STATIC = StaticBrokerConfig.from_properties({"node.id": "1"})


def cluster(replicas: tuple[BrokerId, ...], isr: tuple[BrokerId, ...], leader: BrokerId) -> ClusterImage:
    records: list[MetadataRecord] = [RegisterBrokerRecord(b, "h", 9000 + b) for b in (B1, B2, B3)]
    records += [TopicRecord("t", TID), PartitionRecord(TID, 0, replicas, isr, leader)]
    return replay(ClusterImage.EMPTY, records)


def after(image: ClusterImage, *records: MetadataRecord) -> PartitionRegistration:
    image = replay(image, records)
    image = replay(image, elect_leaders(image, STATIC).records)
    topic = image.topic("t")
    assert topic is not None
    return topic.partitions[0]


def test_a_dead_leader_is_replaced_by_the_first_live_isr_member() -> None:
    p = after(cluster((B1, B2, B3), (B1, B2, B3), B1), UnregisterBrokerRecord(B1))
    assert (p.leader, p.isr, p.leader_epoch) == (B2, (B2, B3), 1)


def test_a_dead_follower_leaves_the_isr_without_a_leader_change() -> None:
    p = after(cluster((B1, B2, B3), (B1, B2, B3), B1), UnregisterBrokerRecord(B3))
    assert (p.leader, p.isr, p.leader_epoch) == (B1, (B1, B2), 0)


def test_a_replica_outside_the_isr_is_not_elected_unless_unclean_election_is_on() -> None:
    image = cluster((B1, B2), (B1,), B1)
    p = after(image, UnregisterBrokerRecord(B1))
    assert (p.leader, p.isr) == (NO_LEADER, (B1,))  # the last ISR is kept for when B1 comes back
    unclean = ConfigRecord(ConfigResourceType.TOPIC, "t", "unclean.leader.election.enable", "true")
    p = after(image, unclean, UnregisterBrokerRecord(B1))
    assert (p.leader, p.isr) == (B2, (B2,))


def test_the_last_isr_member_takes_over_when_it_comes_back() -> None:
    image = cluster((B1, B2), (B1,), B1)
    image = replay(image, [UnregisterBrokerRecord(B1)])
    image = replay(image, elect_leaders(image, STATIC).records)
    p = after(image, RegisterBrokerRecord(B1, "h", 9001))
    assert (p.leader, p.isr, p.leader_epoch) == (B1, (B1,), 2)


def test_nothing_changes_in_a_healthy_cluster() -> None:
    assert elect_leaders(cluster((B1, B2, B3), (B1, B2, B3), B2), STATIC).records == ()


def test_a_broker_becomes_controller_only_when_there_is_none() -> None:
    image = cluster((B1,), (B1,), B1)
    assert elect_controller(image, B2).records == (ControllerRecord(B2, 1),)
    taken = replay(image, [ControllerRecord(B3, 4)])
    assert elect_controller(taken, B2).records == ()
    assert not elect_controller(taken, B2).response


def test_a_fenced_broker_hands_its_leaderships_over_and_counts_what_is_left() -> None:
    image = cluster((B1, B2, B3), (B1, B2, B3), B1)
    assert movable_leaderships(image, B1) == 1
    fenced = replay(image, [BrokerFenceRecord(B1, True)])
    p = after(fenced)
    assert (p.leader, p.isr) == (B2, (B2, B3))
    alone = cluster((B1, B2), (B1,), B1)
    assert movable_leaderships(alone, B1) == 0  # nobody else in the ISR: nothing to wait for
