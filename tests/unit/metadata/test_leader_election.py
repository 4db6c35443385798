"""The controller's reaction to brokers coming and going (`controller/leader_election.py`)."""

from __future__ import annotations

import uuid

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.controller.leader_election import (
    PREFERRED,
    UNCLEAN,
    elect_controller,
    elect_leaders,
    elect_on_request,
    imbalanced_leaderships,
    movable_leaderships,
)
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
from odradek.model.errors import ErrorCode
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
    # the last ISR member goes to the ELR (KIP-966) for when B1 comes back
    assert (p.leader, p.isr, p.elr, p.last_known_elr) == (NO_LEADER, (), (B1,), (B1,))
    unclean = ConfigRecord(ConfigResourceType.TOPIC, "t", "unclean.leader.election.enable", "true")
    p = after(image, unclean, UnregisterBrokerRecord(B1))
    assert (p.leader, p.isr) == (B2, (B2,))


def test_the_last_isr_member_takes_over_when_it_comes_back() -> None:
    image = cluster((B1, B2), (B1,), B1)
    image = replay(image, [UnregisterBrokerRecord(B1)])
    image = replay(image, elect_leaders(image, STATIC).records)
    p = after(image, RegisterBrokerRecord(B1, "h", 9001))
    assert (p.leader, p.isr, p.leader_epoch, p.elr, p.last_known_elr) == (B1, (B1,), 2, (), ())


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


def test_preferred_election_on_request() -> None:
    image = cluster((B1, B2, B3), (B2, B3, B1), B2)  # B1 preferred, in the ISR, not leading
    result = elect_on_request(image, PREFERRED, [("t", 0), ("t", 9), ("nope", 0)], STATIC)
    assert {k: v.code for k, v in result.response.items()} == {
        ("t", 0): ErrorCode.NO_ERROR,
        ("t", 9): ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ("nope", 0): ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    }
    moved = replay(image, result.records)
    assert moved.topics_by_name["t"].partitions[0].leader == B1
    again = elect_on_request(moved, PREFERRED, [("t", 0)], STATIC).response[("t", 0)].code
    assert again is ErrorCode.ELECTION_NOT_NEEDED
    assert elect_on_request(moved, PREFERRED, None, STATIC).response == {}  # null: only what needed one
    outside = cluster((B1, B2), (B2,), B2)
    code = elect_on_request(outside, PREFERRED, [("t", 0)], STATIC).response[("t", 0)].code
    assert code is ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE


def test_unclean_election_on_request() -> None:
    image = replay(cluster((B1, B2), (B1,), B1), [UnregisterBrokerRecord(B1)])
    image = replay(image, elect_leaders(image, STATIC).records)  # no leader: B1 was the only ISR member
    result = elect_on_request(image, UNCLEAN, [("t", 0)], STATIC)
    assert result.response[("t", 0)].code is ErrorCode.NO_ERROR
    p = replay(image, result.records).topics_by_name["t"].partitions[0]
    assert (p.leader, p.isr) == (B2, (B2,))
    gone = replay(image, [UnregisterBrokerRecord(B2)])
    assert elect_on_request(gone, UNCLEAN, [("t", 0)], STATIC).response[("t", 0)].code is (
        ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE
    )


def test_rebalancing_gives_leaderships_back_above_the_imbalance_percentage() -> None:
    records: list[MetadataRecord] = [RegisterBrokerRecord(b, "h", 9000 + b) for b in (B1, B2)]
    records.append(TopicRecord("t", TID))
    for p in range(10):
        preferred = (B1, B2) if p % 2 == 0 else (B2, B1)
        records.append(PartitionRecord(TID, p, preferred, (B1, B2), B2))  # B2 leads everything
    image = replay(ClusterImage.EMPTY, records)
    assert imbalanced_leaderships(image, 10) == [("t", p) for p in (0, 2, 4, 6, 8)]
    assert imbalanced_leaderships(image, 100) == []
