"""CreateTopics, DeleteTopics and CreatePartitions through real admin clients, and their bad inputs."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from admin_clients import FetchRequest, KafkaAdminClient, error_of, errors_of, kafka_errors, message_of
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin import NewPartitions as AioNewPartitions
from aiokafka.admin import NewTopic as AioNewTopic
from confluent_kafka import Consumer, Producer
from confluent_kafka import TopicPartition as CkTopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from odradek.model.errors import ErrorCode
from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat


def partition_count(admin: AdminClient, topic: str) -> int | None:
    found = admin.list_topics(topic, timeout=10).topics.get(topic)
    return None if found is None or found.error is not None else len(found.partitions)


def test_create_topic_with_configs_and_validate_only(admin: AdminClient, topic_name: str) -> None:
    dry = admin.create_topics([NewTopic(topic_name, 3, 1)], validate_only=True)
    assert error_of(dry[topic_name]) == ErrorCode.NO_ERROR
    assert topic_name not in admin.list_topics(timeout=10).topics

    created = admin.create_topics([NewTopic(topic_name, 3, 1, config={"retention.ms": "3600000"})])
    assert error_of(created[topic_name]) == ErrorCode.NO_ERROR
    assert partition_count(admin, topic_name) == 3

    again = admin.create_topics([NewTopic(topic_name, 1, 1)])
    assert error_of(again[topic_name]) == ErrorCode.TOPIC_ALREADY_EXISTS
    assert message_of(again[topic_name]) == f"Topic '{topic_name}' already exists."


def test_create_topic_defaults_come_from_the_broker(admin: AdminClient, topic_name: str) -> None:
    # -1 partitions / replication factor: num.partitions (1 in the test broker) and 1.
    created = admin.create_topics([NewTopic(topic_name)])
    assert error_of(created[topic_name]) == ErrorCode.NO_ERROR
    assert partition_count(admin, topic_name) == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("x" * 250, "is longer than the max allowed length 249"),
        (".", "'.' is not allowed"),
        ("..", "'..' is not allowed"),
        ("has space", "contains one or more characters other than ASCII alphanumerics"),
        ("bad!name", "contains one or more characters other than ASCII alphanumerics"),
        ("naïve", "contains one or more characters other than ASCII alphanumerics"),
    ],
)
def test_invalid_topic_names_are_refused(admin: AdminClient, name: str, message: str) -> None:
    futures = admin.create_topics([NewTopic(name, 1, 1)])
    assert error_of(futures[name]) == ErrorCode.INVALID_TOPIC_EXCEPTION
    assert message in message_of(futures[name])


def test_topic_names_colliding_over_dot_and_underscore(admin: AdminClient, topic_name: str) -> None:
    dotted = f"{topic_name}.a"
    assert error_of(admin.create_topics([NewTopic(dotted, 1, 1)])[dotted]) == ErrorCode.NO_ERROR
    underscored = f"{topic_name}_a"
    futures = admin.create_topics([NewTopic(underscored, 1, 1)])
    assert error_of(futures[underscored]) == ErrorCode.INVALID_TOPIC_EXCEPTION
    assert message_of(futures[underscored]) == f"Topic '{underscored}' collides with existing topic: {dotted}"


def test_bad_topic_creations(admin: AdminClient, topic_name: str) -> None:
    rf = f"{topic_name}-rf"
    zero = f"{topic_name}-zero"
    unknown = f"{topic_name}-unknown"
    bad_value = f"{topic_name}-value"
    bad_assignment = f"{topic_name}-assign"
    futures = admin.create_topics(
        [
            NewTopic(rf, 1, 2),
            NewTopic(zero, 0, 1),
            NewTopic(unknown, 1, 1, config={"no.such.config": "1"}),
            NewTopic(bad_value, 1, 1, config={"retention.ms": "soon"}),
        ]
    )
    futures.update(admin.create_topics([NewTopic(bad_assignment, 2, replica_assignment=[[1], [7]])]))
    assert errors_of(futures) == {
        rf: ErrorCode.INVALID_REPLICATION_FACTOR,
        zero: ErrorCode.INVALID_PARTITIONS,
        unknown: ErrorCode.INVALID_CONFIG,
        bad_value: ErrorCode.INVALID_CONFIG,
        bad_assignment: ErrorCode.INVALID_REPLICATION_ASSIGNMENT,
    }
    assert message_of(futures[rf]) == (
        "Unable to replicate the partition 2 time(s): The target replication factor of 2 cannot be "
        "reached because only 1 broker(s) are registered."
    )
    assert message_of(futures[unknown]) == "Unknown topic config name: no.such.config"
    assert message_of(futures[bad_value]) == (
        "Invalid value soon for configuration retention.ms: Not a number of type LONG"
    )
    assert not set(futures) & set(admin.list_topics(timeout=10).topics)


def test_manual_assignment(admin: AdminClient, topic_name: str) -> None:
    futures = admin.create_topics([NewTopic(topic_name, 2, replica_assignment=[[1], [1]])])
    assert error_of(futures[topic_name]) == ErrorCode.NO_ERROR
    topic = admin.list_topics(topic_name, timeout=10).topics[topic_name]
    assert {p: (m.leader, list(m.replicas)) for p, m in topic.partitions.items()} == {
        0: (1, [1]),
        1: (1, [1]),
    }


def test_delete_topics(admin: AdminClient, topic_name: str, broker: BrokerProcess | None) -> None:
    assert error_of(admin.create_topics([NewTopic(topic_name, 2, 1)])[topic_name]) == ErrorCode.NO_ERROR
    producer = Producer({"bootstrap.servers": admin_bootstrap(admin)})
    producer.produce(topic_name, b"doomed", partition=1)
    assert producer.flush(10) == 0

    missing = f"{topic_name}-missing"
    futures = admin.delete_topics([topic_name, missing])
    assert errors_of(futures) == {
        topic_name: ErrorCode.NO_ERROR,
        missing: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    }
    assert topic_name not in admin.list_topics(timeout=10).topics
    if broker is not None:
        leftovers = [p.name for p in broker.data_dir.iterdir() if p.name.startswith(topic_name)]
        assert leftovers == []
    # The name is free again, and the new topic starts empty.
    assert error_of(admin.create_topics([NewTopic(topic_name, 2, 1)])[topic_name]) == ErrorCode.NO_ERROR
    consumer = Consumer({"bootstrap.servers": admin_bootstrap(admin), "group.id": "unused"})
    low, high = consumer.get_watermark_offsets(CkTopicPartition(topic_name, 1), timeout=10)
    consumer.close()
    assert (low, high) == (0, 0)


def admin_bootstrap(admin: AdminClient) -> str:
    brokers = admin.list_topics(timeout=10).brokers
    return ",".join(f"{b.host}:{b.port}" for b in brokers.values())


def test_delete_wakes_a_waiting_fetch(bootstrap: str, kp_admin: KafkaAdminClient, topic_name: str) -> None:
    kp_admin.create_topics({topic_name: {"num_partitions": 1, "replication_factor": 1}})
    fetch_topic = FetchRequest.FetchTopic
    request = FetchRequest(
        max_wait_ms=20_000,
        min_bytes=1,
        max_bytes=1 << 20,
        isolation_level=0,
        session_id=0,
        session_epoch=-1,
        topics=[
            fetch_topic(
                topic=topic_name,
                partitions=[
                    fetch_topic.FetchPartition(
                        partition=0,
                        fetch_offset=0,
                        partition_max_bytes=1 << 20,
                        current_leader_epoch=-1,
                        log_start_offset=-1,
                    )
                ],
            )
        ],
        forgotten_topics_data=[],
        rack_id="",
        max_version=12,  # by topic name
    )
    answered: dict[str, Any] = {}

    def fetch() -> None:
        answered["response"] = kp_admin._manager.run(kp_admin._manager.send, request, 1)
        answered["at"] = time.monotonic()

    thread = threading.Thread(target=fetch)
    thread.start()
    time.sleep(0.5)  # the fetch is now parked on the broker for up to 20 s
    deleted_at = time.monotonic()
    # Another connection: the broker answers one connection's requests in order.
    other = KafkaAdminClient(bootstrap_servers=bootstrap)
    other.delete_topics([topic_name])
    other.close()
    thread.join(25)
    assert answered["at"] - deleted_at < 5
    partition = answered["response"].responses[0].partitions[0]
    assert partition.error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


def test_deletion_disabled_and_internal_topics(broker_factory: Callable[..., BrokerProcess]) -> None:
    proc = broker_factory({"delete.topic.enable": "false"})
    admin = AdminClient({"bootstrap.servers": proc.bootstrap})
    assert error_of(admin.create_topics([NewTopic("kept", 1, 1)])["kept"]) == ErrorCode.NO_ERROR
    futures = admin.delete_topics(["kept"])
    assert error_of(futures["kept"]) == ErrorCode.TOPIC_DELETION_DISABLED
    assert "kept" in admin.list_topics(timeout=10).topics

    proc.stop()
    proc.overrides = {}
    proc.start()
    admin = AdminClient({"bootstrap.servers": proc.bootstrap})
    internal = "__consumer_offsets"
    assert error_of(admin.create_topics([NewTopic(internal, 1, 1)])[internal]) == ErrorCode.NO_ERROR
    futures = admin.delete_topics([internal, "kept"])
    assert errors_of(futures) == {internal: ErrorCode.INVALID_TOPIC_EXCEPTION, "kept": ErrorCode.NO_ERROR}
    assert internal in admin.list_topics(timeout=10).topics


def test_create_partitions(admin: AdminClient, topic_name: str) -> None:
    assert error_of(admin.create_topics([NewTopic(topic_name, 1, 1)])[topic_name]) == ErrorCode.NO_ERROR
    dry = admin.create_partitions([NewPartitions(topic_name, 3)], validate_only=True)
    assert error_of(dry[topic_name]) == ErrorCode.NO_ERROR
    assert partition_count(admin, topic_name) == 1

    grown = admin.create_partitions([NewPartitions(topic_name, 3)])
    assert error_of(grown[topic_name]) == ErrorCode.NO_ERROR
    assert partition_count(admin, topic_name) == 3
    producer = Producer({"bootstrap.servers": admin_bootstrap(admin)})
    producer.produce(topic_name, b"new partition", partition=2)
    assert producer.flush(10) == 0

    same = admin.create_partitions([NewPartitions(topic_name, 3)])
    assert error_of(same[topic_name]) == ErrorCode.INVALID_PARTITIONS
    assert message_of(same[topic_name]) == "Topic already has 3 partition(s)."
    fewer = admin.create_partitions([NewPartitions(topic_name, 2)])
    assert error_of(fewer[topic_name]) == ErrorCode.INVALID_PARTITIONS
    assert message_of(fewer[topic_name]) == (
        f"The topic {topic_name} currently has 3 partition(s); 2 would not be an increase."
    )
    manual_bad = admin.create_partitions([NewPartitions(topic_name, 4, replica_assignment=[[2]])])
    assert error_of(manual_bad[topic_name]) == ErrorCode.INVALID_REPLICATION_ASSIGNMENT
    missing = f"{topic_name}-missing"
    unknown = admin.create_partitions([NewPartitions(missing, 2)])
    assert error_of(unknown[missing]) == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


def test_kafka_python_topic_admin(kp_admin: KafkaAdminClient, topic_name: str) -> None:
    kp_admin.create_topics({topic_name: {"num_partitions": 2, "replication_factor": 1}})
    described = kp_admin.describe_topics([topic_name])
    assert [(t["name"], len(t["partitions"])) for t in described] == [(topic_name, 2)]
    with pytest.raises(kafka_errors.TopicAlreadyExistsError):
        kp_admin.create_topics({topic_name: {"num_partitions": 1, "replication_factor": 1}})
    kp_admin.create_partitions({topic_name: 4})
    with pytest.raises(kafka_errors.InvalidPartitionsError):
        kp_admin.create_partitions({topic_name: 3})
    assert len(kp_admin.describe_topics([topic_name])[0]["partitions"]) == 4
    kp_admin.delete_topics([topic_name])
    assert topic_name not in kp_admin.list_topics()
    with pytest.raises(kafka_errors.UnknownTopicOrPartitionError):
        kp_admin.delete_topics([topic_name])


def test_aiokafka_topic_admin(bootstrap: str, topic_name: str) -> None:
    async def scenario() -> tuple[list[str], int, list[str]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([AioNewTopic(topic_name, 1, 1)])
            await admin.create_partitions({topic_name: AioNewPartitions(3)})
            described = await admin.describe_topics([topic_name])
            before = await admin.list_topics()
            await admin.delete_topics([topic_name])
            after = await admin.list_topics()
        finally:
            await admin.close()
        return before, len(described[0]["partitions"]), after

    before, partitions, after = asyncio.run(scenario())
    assert topic_name in before
    assert partitions == 3
    assert topic_name not in after


def test_kcat_sees_a_created_topic(admin: AdminClient, bootstrap: str, topic_name: str) -> None:
    assert error_of(admin.create_topics([NewTopic(topic_name, 4, 1)])[topic_name]) == ErrorCode.NO_ERROR
    out = subprocess.run(
        ["kcat", "-b", bootstrap, "-L", "-t", topic_name],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert f'topic "{topic_name}" with 4 partitions:' in out.stdout


def test_create_topics_answer_carries_id_counts_and_configs(
    kp_admin: KafkaAdminClient, topic_name: str
) -> None:
    answer = kp_admin.create_topics(
        {topic_name: {"num_partitions": 2, "replication_factor": 1, "configs": {"retention.ms": "5000"}}}
    )
    (topic,) = answer["topics"]
    assert (topic["name"], topic["error_code"], topic["num_partitions"], topic["replication_factor"]) == (
        topic_name,
        0,
        2,
        1,
    )
    described = kp_admin.describe_topics([topic_name])
    assert topic["topic_id"] == str(described[0]["topic_id"])
    assert topic["configs"]["retention.ms"] == {
        "value": "5000",
        "read_only": False,
        "config_source": "DYNAMIC_TOPIC_CONFIG",
        "is_sensitive": False,
    }
    assert topic["configs"]["segment.bytes"]["config_source"] == "DEFAULT_CONFIG"
