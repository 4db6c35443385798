"""KIP-704 on the controller's side: an unclean election marks the partition RECOVERING; the leader's
AlterPartition with RECOVERED ends it; one that grows the ISR while RECOVERING, or that moves a
RECOVERED partition back to RECOVERING, is refused with INVALID_REQUEST; the state lives in the
ZooKeeper partition state znode (`leader_recovery_state`, Kafka's name and values)."""

from __future__ import annotations

import json
import uuid

from odradek.broker.isr_writer import isr_change_record, stale
from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.controller.leader_election import UNCLEAN, elect_leaders, elect_on_request
from odradek.metadata.controller.partition_change import alter_partition_error, partition_change
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage, PartitionRegistration
from odradek.metadata.records import (
    NO_LEADER,
    ConfigRecord,
    MetadataRecord,
    PartitionRecord,
    RegisterBrokerRecord,
    TopicRecord,
    UnregisterBrokerRecord,
)
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.metadata.zk_layout import image_of, state_path, znodes_of
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.model.leader_recovery import LeaderRecoveryState
from odradek.model.topic_partition import TopicPartition
from odradek.replication.isr import IsrChange

B1, B2, B3 = BrokerId(1), BrokerId(2), BrokerId(3)
TID = uuid.UUID(int=704)
STATIC = StaticBrokerConfig.from_properties({"node.id": "1"})
RECOVERED, RECOVERING = LeaderRecoveryState.RECOVERED, LeaderRecoveryState.RECOVERING
UNCLEAN_ON = ConfigRecord(ConfigResourceType.TOPIC, "t", "unclean.leader.election.enable", "true")


def cluster(*extra: MetadataRecord) -> ClusterImage:
    """RF=3, min.insync.replicas=1; B1 leads alone (B2 and B3 fell behind)."""
    records: list[MetadataRecord] = [RegisterBrokerRecord(b, "h", 9000 + b) for b in (B1, B2, B3)]
    records += [
        TopicRecord("t", TID),
        ConfigRecord(ConfigResourceType.TOPIC, "t", "min.insync.replicas", "1"),
        PartitionRecord(TID, 0, (B1, B2, B3), (B1,), B1),
        *extra,
    ]
    return replay(ClusterImage.EMPTY, records)


def settle(image: ClusterImage, *records: MetadataRecord) -> ClusterImage:
    image = replay(image, records)
    return replay(image, elect_leaders(image, STATIC).records)


def state(image: ClusterImage) -> PartitionRegistration:
    topic = image.topic("t")
    assert topic is not None
    return topic.partitions[0]


def uncleanly_led_by_b2() -> ClusterImage:
    image = settle(cluster(UNCLEAN_ON), UnregisterBrokerRecord(B1))
    p = state(image)
    assert (p.leader, p.isr, p.leader_epoch, p.leader_recovery_state) == (B2, (B2,), 1, RECOVERING)
    return image


def alter(image: ClusterImage, isr: tuple[BrokerId, ...], recovery: LeaderRecoveryState) -> IsrChange:
    p = state(image)
    return IsrChange(TopicPartition("t", 0), TID, p.leader, p.leader_epoch, p.partition_epoch, isr, recovery)


def test_an_unclean_election_marks_the_partition_recovering() -> None:
    uncleanly_led_by_b2()


def test_an_unclean_election_on_request_marks_it_recovering_too() -> None:
    image = settle(cluster(), UnregisterBrokerRecord(B1))
    assert state(image).leader == NO_LEADER
    outcome = elect_on_request(image, UNCLEAN, [("t", 0)], STATIC)
    p = state(replay(image, outcome.records))
    assert (p.leader, p.isr, p.leader_recovery_state) == (B2, (B2,), RECOVERING)


def test_clean_elections_leave_the_state_recovered() -> None:
    p = state(
        settle(cluster(PartitionRecord(TID, 0, (B1, B2, B3), (B1, B2), B1)), UnregisterBrokerRecord(B1))
    )
    assert (p.leader, p.leader_recovery_state) == (B2, RECOVERED)


def test_the_leaders_recovered_ends_it_and_then_followers_may_join() -> None:
    image = uncleanly_led_by_b2()
    change = alter(image, (B2,), RECOVERED)
    assert stale(image, change) is None
    record = isr_change_record(image, STATIC, change)
    assert record is not None and (record.isr, record.leader, record.leader_recovery_state) == (
        None,
        None,
        RECOVERED,
    )
    image = replay(image, [record])
    p = state(image)
    assert (p.isr, p.leader_epoch, p.partition_epoch, p.leader_recovery_state) == ((B2,), 1, 2, RECOVERED)
    grow = alter(image, (B2, B3), RECOVERED)
    assert stale(image, grow) is None
    record = isr_change_record(image, STATIC, grow)
    assert record is not None and record.isr == (B2, B3) and record.leader_recovery_state is None


def test_growing_the_isr_while_recovering_is_an_invalid_request() -> None:
    image = uncleanly_led_by_b2()
    error = alter_partition_error(state(image), (B2, B3), RECOVERING)
    assert error is not None and error[0] == ErrorCode.INVALID_REQUEST
    reason = stale(image, alter(image, (B2, B3), RECOVERING))
    assert reason is not None and reason.startswith("INVALID_REQUEST")
    # the ISR alone with RECOVERING is no error (nothing changes)
    assert alter_partition_error(state(image), (B2,), RECOVERING) is None


def test_recovered_cannot_go_back_to_recovering() -> None:
    image = cluster()
    error = alter_partition_error(state(image), (B1,), RECOVERING)
    assert error == (
        ErrorCode.INVALID_REQUEST,
        "the leader recovery state cannot change from RECOVERED to RECOVERING",
    )
    assert stale(image, alter(image, (B1,), RECOVERING)) is not None


def test_a_clean_election_while_recovering_keeps_it_recovering() -> None:
    image = uncleanly_led_by_b2()
    p = state(image)
    # B3 is in the ISR by a (hypothetical) earlier change; B2 dies; B3 takes over cleanly
    moved = partition_change(
        PartitionRegistration(
            p.replicas, (B2, B3), B2, p.leader_epoch, p.partition_epoch, leader_recovery_state=RECOVERING
        ),
        TID,
        0,
        min_isr=1,
        acceptable=lambda r: r == B3,
    )
    assert moved is not None and moved.leader == B3 and moved.leader_recovery_state is None


def test_the_state_is_in_the_zookeeper_partition_znode() -> None:
    image = uncleanly_led_by_b2()
    nodes = znodes_of(image)
    data = json.loads(nodes[state_path("t", 0)].data)
    assert (data["leader"], data["isr"], data["leader_recovery_state"]) == (2, [2], 1)
    assert state(image_of({p: n.data for p, n in nodes.items()})).leader_recovery_state == RECOVERING
    record = isr_change_record(image, STATIC, alter(image, (B2,), RECOVERED))
    assert record is not None
    recovered = replay(image, [record])
    assert json.loads(znodes_of(recovered)[state_path("t", 0)].data)["leader_recovery_state"] == 0
    # a znode written before odradek knew the field reads as RECOVERED
    del data["leader_recovery_state"]
    old = {p: n.data for p, n in nodes.items()} | {state_path("t", 0): json.dumps(data).encode()}
    assert state(image_of(old)).leader_recovery_state == RECOVERED
