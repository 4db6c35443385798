from __future__ import annotations

import random
import uuid
from collections.abc import Callable

import pytest

from odradek.metadata.config_types import ConfigResourceType, ConfigSource
from odradek.metadata.controller import (
    CreatableReplicaAssignment,
    CreatableTopic,
    CreateTopicPolicyRequest,
    create_topics,
    internal_topic,
)
from odradek.metadata.controller.topics import new_topic_id
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage, PartitionRegistration
from odradek.metadata.records import BrokerFenceRecord, ConfigRecord, PartitionRecord, TopicRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.model.topic_partition import ZERO_UUID

E = ErrorCode
Cluster = Callable[..., ClusterImage]


def create(
    image: ClusterImage,
    static: StaticBrokerConfig,
    *topics: CreatableTopic,
    validate_only: bool = False,
    **kw: object,
):  # type: ignore[no-untyped-def]
    return create_topics(image, static, list(topics), validate_only=validate_only, rng=random.Random(7), **kw)  # type: ignore[arg-type]


def test_creates_topic_partitions_and_configs(cluster: Cluster, static: StaticBrokerConfig) -> None:
    image = cluster(3)
    result = create(image, static, CreatableTopic("orders", 3, 2, configs=(("retention.ms", "1000"),)))
    (topic,) = result.response
    assert (topic.name, topic.error_code, topic.error_message) == ("orders", E.NO_ERROR, None)
    assert (topic.num_partitions, topic.replication_factor) == (3, 2)
    rng = random.Random(7)
    rng.randrange(3), rng.randrange(3)  # placement draws first
    assert topic.topic_id == new_topic_id(rng, ())
    assert topic.configs is not None
    configs = {c.name: c for c in topic.configs}
    assert (configs["retention.ms"].value, configs["retention.ms"].source) == (
        "1000",
        ConfigSource.DYNAMIC_TOPIC_CONFIG,
    )
    assert configs["segment.bytes"].source is ConfigSource.DEFAULT_CONFIG
    record_types = [type(r) for r in result.records]
    assert record_types == [TopicRecord, ConfigRecord, PartitionRecord, PartitionRecord, PartitionRecord]
    assert result.records[0] == TopicRecord("orders", topic.topic_id)
    assert result.records[1] == ConfigRecord(ConfigResourceType.TOPIC, "orders", "retention.ms", "1000")
    after = replay(image, result.records)
    created = after.topic("orders")
    assert created is not None and len(created.partitions) == 3
    for partition in created.partitions.values():
        assert len(set(partition.replicas)) == 2
        assert partition.isr == partition.replicas
        assert partition.leader == partition.replicas[0]
        assert (partition.leader_epoch, partition.partition_epoch) == (0, 0)
    leaders = sorted(p.leader for p in created.partitions.values())
    assert leaders == [1, 2, 3]


def test_defaults_come_from_broker_configs(cluster: Cluster) -> None:
    static = StaticBrokerConfig.from_properties(
        {"node.id": "1", "num.partitions": "4", "default.replication.factor": "3"}
    )
    (topic,) = create(cluster(3), static, CreatableTopic("t")).response
    assert (topic.error_code, topic.num_partitions, topic.replication_factor) == (E.NO_ERROR, 4, 3)


def test_validate_only_changes_nothing_but_answers_the_same(
    cluster: Cluster, static: StaticBrokerConfig
) -> None:
    image = cluster(3)
    checked = create(image, static, CreatableTopic("t", 2, 1), validate_only=True)
    done = create(image, static, CreatableTopic("t", 2, 1))
    assert checked.records == ()
    assert checked.response == done.response


def test_manual_assignment(cluster: Cluster, static: StaticBrokerConfig) -> None:
    image = replay(cluster(3), [BrokerFenceRecord(BrokerId(3), True)])
    topic = CreatableTopic(
        "m",
        assignments=(CreatableReplicaAssignment(1, (2, 1)), CreatableReplicaAssignment(0, (3, 2))),
    )
    result = create(image, static, topic)
    assert result.response[0].error_code is E.NO_ERROR
    after = replay(image, result.records)
    created = after.topic("m")
    assert created is not None
    # Fenced broker 3 is a replica but not in the ISR, so broker 2 leads partition 0.
    assert created.partitions[0] == PartitionRegistration(
        (BrokerId(3), BrokerId(2)), (BrokerId(2),), BrokerId(2)
    )
    assert created.partitions[1] == PartitionRegistration(
        (BrokerId(2), BrokerId(1)), (BrokerId(2), BrokerId(1)), BrokerId(2)
    )


@pytest.mark.parametrize(
    ("topic", "code", "message"),
    [
        (
            CreatableTopic(""),
            E.INVALID_TOPIC_EXCEPTION,
            "Topic name is invalid: the empty string is not allowed",
        ),
        (CreatableTopic("a_b"), E.INVALID_TOPIC_EXCEPTION, "Topic 'a_b' collides with existing topic: a.b"),
        (CreatableTopic("a.b"), E.TOPIC_ALREADY_EXISTS, "Topic 'a.b' already exists."),
        (
            CreatableTopic("t", 1, 0),
            E.INVALID_REPLICATION_FACTOR,
            "Replication factor must be larger than 0, or -1 to use the default value.",
        ),
        (
            CreatableTopic("t", 1, -2),
            E.INVALID_REPLICATION_FACTOR,
            "Replication factor must be larger than 0, or -1 to use the default value.",
        ),
        (
            CreatableTopic("t", 0, 1),
            E.INVALID_PARTITIONS,
            "Number of partitions was set to an invalid non-positive value.",
        ),
        (
            CreatableTopic("t", -5, 1),
            E.INVALID_PARTITIONS,
            "Number of partitions was set to an invalid non-positive value.",
        ),
        (
            CreatableTopic("t", 1, 4),
            E.INVALID_REPLICATION_FACTOR,
            "Unable to replicate the partition 4 time(s): The "
            "target replication factor of 4 cannot be reached because only 3 broker(s) are registered.",
        ),
        (
            CreatableTopic("t", configs=(("retention.ms", None),)),
            E.INVALID_CONFIG,
            "Null value not supported for topic configs: retention.ms",
        ),
        (
            CreatableTopic("t", configs=(("retention.hours", "1"),)),
            E.INVALID_CONFIG,
            "Unknown topic config name: retention.hours",
        ),
        (
            CreatableTopic("t", configs=(("message.format.version", "3.0"),)),
            E.INVALID_CONFIG,
            "Unknown topic config name: message.format.version",
        ),
        (
            CreatableTopic("t", configs=(("segment.bytes", "1000"),)),
            E.INVALID_CONFIG,
            "Invalid value 1000 for configuration segment.bytes: Value must be at least 1048576",
        ),
        (
            CreatableTopic("t", configs=(("cleanup.policy", "compact,tidy"),)),
            E.INVALID_CONFIG,
            "Invalid value tidy for configuration cleanup.policy: String must be one of: compact, delete",
        ),
        (
            CreatableTopic("t", configs=(("min.compaction.lag.ms", "10"), ("max.compaction.lag.ms", "5"))),
            E.INVALID_CONFIG,
            "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)",
        ),
        (
            CreatableTopic("t", configs=(("remote.storage.enable", "true"),)),
            E.INVALID_CONFIG,
            "Tiered Storage functionality is disabled in the broker. "
            "Topic cannot be configured with remote log storage.",
        ),
        (
            CreatableTopic("t", 2, -1, assignments=(CreatableReplicaAssignment(0, (1,)),)),
            E.INVALID_REQUEST,
            "A manual partition assignment was specified, but numPartitions was not set to -1.",
        ),
        (
            CreatableTopic("t", -1, 1, assignments=(CreatableReplicaAssignment(0, (1,)),)),
            E.INVALID_REQUEST,
            "A manual partition assignment was specified, but replication factor was not set to -1.",
        ),
        (
            CreatableTopic(
                "t", assignments=(CreatableReplicaAssignment(0, (1,)), CreatableReplicaAssignment(0, (2,)))
            ),
            E.INVALID_REPLICATION_ASSIGNMENT,
            "Found multiple manual partition assignments for partition 0",
        ),
        (
            CreatableTopic("t", assignments=(CreatableReplicaAssignment(1, (1,)),)),
            E.INVALID_REPLICATION_ASSIGNMENT,
            "partitions should be a consecutive 0-based integer sequence",
        ),
        (
            CreatableTopic("t", assignments=(CreatableReplicaAssignment(0, (1, 1)),)),
            E.INVALID_REPLICATION_ASSIGNMENT,
            "The manual partition assignment includes the broker 1 more than once.",
        ),
        (
            CreatableTopic("t", assignments=(CreatableReplicaAssignment(0, (1, 7)),)),
            E.INVALID_REPLICATION_ASSIGNMENT,
            "The manual partition assignment includes broker 7, but no such broker is registered.",
        ),
        (
            CreatableTopic(
                "t", assignments=(CreatableReplicaAssignment(0, (1, 2)), CreatableReplicaAssignment(1, (3,)))
            ),
            E.INVALID_REPLICATION_ASSIGNMENT,
            "The manual partition assignment includes a partition with 1 replica(s), "
            "but this is not consistent with previous partitions, which have 2 replica(s).",
        ),
    ],
)
def test_errors(
    cluster: Cluster,
    with_topic: Callable[..., ClusterImage],
    topic: CreatableTopic,
    code: ErrorCode,
    message: str,
) -> None:
    image = with_topic(cluster(3), "a.b")
    result = create(image, StaticBrokerConfig.from_properties({"node.id": "1"}), topic)
    assert result.records == ()
    (answer,) = result.response
    assert (answer.name, answer.error_code, answer.error_message) == (topic.name, code, message)
    assert (answer.topic_id, answer.num_partitions, answer.replication_factor, answer.configs) == (
        ZERO_UUID,
        -1,
        -1,
        None,
    )


def test_all_fenced_manual_assignment(cluster: Cluster, static: StaticBrokerConfig) -> None:
    image = replay(cluster(2), [BrokerFenceRecord(BrokerId(1), True)])
    (answer,) = create(
        image, static, CreatableTopic("t", assignments=(CreatableReplicaAssignment(0, (1,)),))
    ).response
    assert answer.error_code is E.INVALID_REPLICATION_ASSIGNMENT
    assert answer.error_message == (
        "All brokers specified in the manual partition assignment for partition 0 are fenced or in "
        "controlled shutdown."
    )


def test_duplicates_and_collisions_within_one_request(cluster: Cluster, static: StaticBrokerConfig) -> None:
    result = create(
        cluster(1),
        static,
        CreatableTopic("dup", 1, 1),
        CreatableTopic("x.y", 1, 1),
        CreatableTopic("dup", 2, 1),
        CreatableTopic("x_y", 1, 1),
        CreatableTopic("ok", 1, 1),
    )
    assert [(r.name, r.error_code, r.error_message) for r in result.response] == [
        ("dup", E.INVALID_REQUEST, "Duplicate topic name."),
        ("x.y", E.NO_ERROR, None),
        ("x_y", E.INVALID_TOPIC_EXCEPTION, "Topic 'x_y' collides with existing topic: x.y"),
        ("ok", E.NO_ERROR, None),
    ]
    after = replay(cluster(1), result.records)
    assert sorted(after.topics_by_name) == ["ok", "x.y"]
    ids = [r.topic_id for r in result.response if r.error_code is E.NO_ERROR]
    assert len(set(ids)) == 2


def test_policy_violation(cluster: Cluster, static: StaticBrokerConfig) -> None:
    seen: list[CreateTopicPolicyRequest] = []

    def policy(request: CreateTopicPolicyRequest) -> str | None:
        seen.append(request)
        return "only topics starting with app-" if not request.name.startswith("app-") else None

    result = create(
        cluster(2),
        static,
        CreatableTopic("bad", 2, 1, configs=(("retention.ms", "5"),)),
        CreatableTopic("app-x", assignments=(CreatableReplicaAssignment(0, (2, 1)),)),
        policy=policy,
    )
    assert [(r.error_code, r.error_message) for r in result.response] == [
        (E.POLICY_VIOLATION, "only topics starting with app-"),
        (E.NO_ERROR, None),
    ]
    assert seen == [
        CreateTopicPolicyRequest("bad", 2, 1, None, {"retention.ms": "5"}),
        CreateTopicPolicyRequest("app-x", None, None, {0: (2, 1)}, {}),
    ]


def test_an_excessively_large_request_fails_as_a_whole(cluster: Cluster, static: StaticBrokerConfig) -> None:
    result = create(cluster(1), static, CreatableTopic("small", 1, 1), CreatableTopic("huge", 10_001, 1))
    assert result.records == ()
    assert [(r.name, r.error_code, r.error_message) for r in result.response] == [
        ("small", E.POLICY_VIOLATION, "Unable to perform excessively large batch operation."),
        ("huge", E.POLICY_VIOLATION, "Unable to perform excessively large batch operation."),
    ]


def test_topic_ids_avoid_reserved_and_taken_values() -> None:
    taken = {new_topic_id(random.Random(3), ())}
    second = new_topic_id(random.Random(3), taken)
    assert second not in taken
    assert second.version == 4
    for seed in range(200):
        topic_id = new_topic_id(random.Random(seed), ())
        assert topic_id.int not in (0, 1)
        assert not str(uuid.UUID(bytes=topic_id.bytes)).startswith("-")


def test_internal_topics_are_specified_from_broker_configs(cluster: Cluster) -> None:
    static = StaticBrokerConfig.from_properties(
        {"node.id": "1", "offsets.topic.replication.factor": "1", "offsets.topic.num.partitions": "5"}
    )
    offsets = internal_topic(cluster(1), static, "__consumer_offsets")
    assert offsets == CreatableTopic(
        "__consumer_offsets",
        5,
        1,
        configs=(
            ("cleanup.policy", "compact"),
            ("compression.type", "producer"),
            ("segment.bytes", "104857600"),
        ),
    )
    transactions = internal_topic(cluster(1), static, "__transaction_state")
    assert transactions is not None and (transactions.num_partitions, transactions.replication_factor) == (
        50,
        3,
    )
    assert dict(transactions.configs)["min.insync.replicas"] == "2"
    assert internal_topic(cluster(1), static, "orders") is None
    (created,) = create(cluster(1), static, offsets).response
    assert created.error_code is E.NO_ERROR
