"""Partition reassignment (`controller/reassignment.py`, completion in `partition_change.py`)."""

from __future__ import annotations

import uuid

from odradek.broker.isr_writer import isr_change_record
from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.controller.reassignment import alter_reassignments, list_reassignments
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage, PartitionRegistration
from odradek.metadata.records import (
    ConfigRecord,
    MetadataRecord,
    PartitionRecord,
    RegisterBrokerRecord,
    TopicRecord,
)
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId, Epoch
from odradek.model.topic_partition import TopicPartition
from odradek.replication.isr import IsrChange

B1, B2, B3, B4 = BrokerId(1), BrokerId(2), BrokerId(3), BrokerId(4)
TID = uuid.UUID(int=11)
STATIC = StaticBrokerConfig.from_properties({"node.id": "1"})


def cluster(replicas: tuple[BrokerId, ...] = (B1, B2, B3)) -> ClusterImage:
    records: list[MetadataRecord] = [RegisterBrokerRecord(b, "h", 9000 + b) for b in (B1, B2, B3, B4)]
    records += [TopicRecord("t", TID), PartitionRecord(TID, 0, replicas, replicas, replicas[0])]
    return replay(ClusterImage.EMPTY, records)


def state(image: ClusterImage) -> PartitionRegistration:
    topic = image.topic("t")
    assert topic is not None
    return topic.partitions[0]


def alter(image: ClusterImage, target: list[int] | None, **kwargs: bool) -> tuple[ClusterImage, ErrorCode]:
    result = alter_reassignments(image, STATIC, [("t", 0, target)], **kwargs)
    return replay(image, result.records), result.response[("t", 0)].code


def leader_proposes(image: ClusterImage, isr: tuple[BrokerId, ...]) -> ClusterImage:
    """The leader's ISR change (AlterPartition), as the StoreIsrWriter stores it."""
    p = state(image)
    change = IsrChange(TopicPartition("t", 0), TID, p.leader, Epoch(p.leader_epoch), p.partition_epoch, isr)
    record = isr_change_record(image, STATIC, change)
    assert record is not None
    return replay(image, [record])


def test_moving_a_replica_adds_it_then_drops_the_old_one_once_it_is_in_sync() -> None:
    image, code = alter(cluster(), [1, 2, 4])
    assert code is ErrorCode.NO_ERROR
    p = state(image)
    assert (p.replicas, p.adding_replicas, p.removing_replicas, p.isr) == (
        (B1, B2, B4, B3),
        (B4,),
        (B3,),
        (B1, B2, B3),
    )
    [ongoing] = list_reassignments(image, None)
    assert (ongoing.replicas, ongoing.adding, ongoing.removing) == ((B1, B2, B4, B3), (B4,), (B3,))
    image = leader_proposes(image, (B1, B2, B3, B4))  # B4 caught up and joins the ISR: done
    p = state(image)
    assert (p.replicas, p.isr, p.adding_replicas, p.removing_replicas) == ((B1, B2, B4), (B1, B2, B4), (), ())
    assert p.leader == B1 and p.leader_epoch == 1  # the removed replica is fenced by a new epoch
    assert list_reassignments(image, None) == []


def test_the_leader_moves_when_it_is_removed() -> None:
    image, _ = alter(cluster(), [4, 2, 3])
    image = leader_proposes(image, (B1, B2, B3, B4))
    p = state(image)
    assert (p.leader, p.replicas, p.isr) == (B4, (B4, B2, B3), (B2, B3, B4))


def test_reordering_or_removing_completes_at_once() -> None:
    image, code = alter(cluster(), [3, 1, 2])
    assert code is ErrorCode.NO_ERROR
    assert (state(image).replicas, state(image).adding_replicas, state(image).leader) == (
        (B3, B1, B2),
        (),
        B1,
    )
    image, code = alter(cluster(), [1, 2])
    p = state(image)
    assert (p.replicas, p.isr, p.removing_replicas) == ((B1, B2), (B1, B2), ())


def test_cancel_reverts_and_needs_a_reassignment_in_progress() -> None:
    image, code = alter(cluster(), None)
    assert code is ErrorCode.NO_REASSIGNMENT_IN_PROGRESS
    image, _ = alter(cluster(), [1, 2, 4])
    image, code = alter(image, None)
    assert code is ErrorCode.NO_ERROR
    p = state(image)
    assert (p.replicas, p.isr, p.adding_replicas, p.removing_replicas) == ((B1, B2, B3), (B1, B2, B3), (), ())


def test_bad_assignments_are_refused_with_kafkas_errors() -> None:
    image = cluster()
    assert alter(image, [])[1] is ErrorCode.INVALID_REPLICATION_ASSIGNMENT
    assert alter(image, [1, 1, 2])[1] is ErrorCode.INVALID_REPLICATION_ASSIGNMENT
    assert alter(image, [1, 2, 9])[1] is ErrorCode.INVALID_REPLICATION_ASSIGNMENT
    refused = alter(image, [1, 2], allow_replication_factor_change=False)[1]
    assert refused is ErrorCode.INVALID_REPLICATION_FACTOR
    result = alter_reassignments(image, STATIC, [("nope", 0, [1]), ("t", 7, [1])])
    assert {r.code for r in result.response.values()} == {ErrorCode.UNKNOWN_TOPIC_OR_PARTITION}
    assert result.records == ()


def test_a_new_reassignment_replaces_one_in_progress() -> None:
    image, _ = alter(cluster(), [1, 2, 4])
    image, code = alter(image, [1, 2, 3])  # back to where it was: B4 is removed again
    assert code is ErrorCode.NO_ERROR
    p = state(image)
    assert (p.replicas, p.adding_replicas, p.removing_replicas) == ((B1, B2, B3), (), ())


def test_listing_only_the_partitions_asked_for() -> None:
    image, _ = alter(cluster(), [1, 2, 4])
    assert [r.partition for r in list_reassignments(image, [("t", [0, 5]), ("nope", [0])])] == [0]
    assert list_reassignments(image, [("t", [1])]) == []


def test_a_reassignment_survives_the_zookeeper_layout() -> None:
    from odradek.metadata.zk_layout import image_of, znodes_of

    image, _ = alter(cluster(), [1, 2, 4])
    image = replay(image, [ConfigRecord(ConfigResourceType.TOPIC, "t", "min.insync.replicas", "2")])
    znodes = {path: node.data for path, node in znodes_of(image).items()}
    assert state(image_of(znodes)) == state(image)
