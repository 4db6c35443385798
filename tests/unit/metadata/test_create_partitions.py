from __future__ import annotations

from collections.abc import Callable

import pytest

from odradek.metadata.controller import CreatePartitionsTopic, create_partitions
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import BrokerFenceRecord, PartitionRecord
from odradek.model.errors import ErrorCode as E
from odradek.model.ids import BrokerId


@pytest.fixture
def image(cluster: Callable[..., ClusterImage], with_topic: Callable[..., ClusterImage]) -> ClusterImage:
    return with_topic(cluster(3), "t", partitions=2, rf=2)


def test_grow_automatically_continues_the_layout(image: ClusterImage) -> None:
    topic = image.topic("t")
    assert topic is not None
    result = create_partitions(image, [CreatePartitionsTopic("t", 5)], validate_only=False)
    assert [(r.name, r.error_code, r.error_message) for r in result.response] == [("t", E.NO_ERROR, None)]
    assert [type(r) for r in result.records] == [PartitionRecord] * 3
    after = replay(image, result.records)
    grown = after.topic("t")
    assert grown is not None and sorted(grown.partitions) == [0, 1, 2, 3, 4]
    assert all(len(set(p.replicas)) == 2 for p in grown.partitions.values())
    assert grown.topic_id == topic.topic_id
    assert dict(grown.partitions)[0] == topic.partitions[0]


def test_manual_assignments(image: ClusterImage) -> None:
    result = create_partitions(image, [CreatePartitionsTopic("t", 3, ((3, 1),))], validate_only=False)
    assert result.response[0].error_code is E.NO_ERROR
    (record,) = result.records
    assert isinstance(record, PartitionRecord)
    assert (record.partition_id, record.replicas, record.isr, record.leader) == (2, (3, 1), (3, 1), 3)


def test_validate_only(image: ClusterImage) -> None:
    checked = create_partitions(image, [CreatePartitionsTopic("t", 4)], validate_only=True)
    assert checked.records == ()
    assert (
        checked.response
        == create_partitions(image, [CreatePartitionsTopic("t", 4)], validate_only=False).response
    )


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (
            CreatePartitionsTopic("nope", 3),
            E.UNKNOWN_TOPIC_OR_PARTITION,
            "This server does not host this topic-partition.",
        ),
        (CreatePartitionsTopic("t", 2), E.INVALID_PARTITIONS, "Topic already has 2 partition(s)."),
        (
            CreatePartitionsTopic("t", 1),
            E.INVALID_PARTITIONS,
            "The topic t currently has 2 partition(s); 1 would not be an increase.",
        ),
        (
            CreatePartitionsTopic("t", 4, ((1, 2),)),
            E.INVALID_REPLICATION_ASSIGNMENT,
            "Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.",
        ),
        (
            CreatePartitionsTopic("t", 3, ((1,),)),
            E.INVALID_REPLICATION_ASSIGNMENT,
            "The manual partition assignment includes a partition with 1 replica(s), but this is not "
            "consistent with previous partitions, which have 2 replica(s).",
        ),
        (
            CreatePartitionsTopic("t", 3, ((1, 8),)),
            E.INVALID_REPLICATION_ASSIGNMENT,
            "The manual partition assignment includes broker 8, but no such broker is registered.",
        ),
        (
            CreatePartitionsTopic("t", 20_000),
            E.POLICY_VIOLATION,
            "Unable to perform excessively large batch operation.",
        ),
    ],
)
def test_errors(image: ClusterImage, request_: CreatePartitionsTopic, code: E, message: str) -> None:
    result = create_partitions(image, [request_], validate_only=False)
    assert result.records == ()
    assert [(r.name, r.error_code, r.error_message) for r in result.response] == [
        (request_.name, code, message)
    ]


def test_too_few_live_brokers(image: ClusterImage) -> None:
    fenced = replay(image, [BrokerFenceRecord(BrokerId(2), True), BrokerFenceRecord(BrokerId(3), True)])
    result = create_partitions(fenced, [CreatePartitionsTopic("t", 3)], validate_only=False)
    assert [(r.error_code, r.error_message) for r in result.response] == [
        (
            E.INVALID_REPLICATION_FACTOR,
            "The target replication factor of 2 cannot be reached because only 1 broker(s) are registered.",
        )
    ]
    manual = create_partitions(fenced, [CreatePartitionsTopic("t", 3, ((2, 3),))], validate_only=False)
    assert [(r.error_code, r.error_message) for r in manual.response] == [
        (
            E.INVALID_REPLICATION_ASSIGNMENT,
            "All brokers specified in the manual partition assignment for partition 2 are fenced or in "
            "controlled shutdown.",
        )
    ]


def test_duplicate_topic(image: ClusterImage) -> None:
    result = create_partitions(
        image, [CreatePartitionsTopic("t", 3), CreatePartitionsTopic("t", 4)], validate_only=False
    )
    assert result.records == ()
    assert [(r.name, r.error_code, r.error_message) for r in result.response] == [
        ("t", E.INVALID_REQUEST, "Duplicate topic name.")
    ]
