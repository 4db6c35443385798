"""DeleteRecords, ListOffsets, OffsetForLeaderEpoch, DescribeCluster, DescribeLogDirs and
DescribeTopicPartitions through real clients."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from admin_clients import DeleteRecordsRequest, KafkaAdminClient, OffsetForLeaderEpochRequest, error_of
from confluent_kafka import Consumer, Producer, TopicCollection, TopicPartition
from confluent_kafka.admin import AclOperation, AdminClient, NewTopic, OffsetSpec

from odradek.model.errors import ErrorCode
from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat


def create_with_records(
    admin: AdminClient, bootstrap: str, topic: str, count: int, timestamps: list[int] | None = None
) -> None:
    assert error_of(admin.create_topics([NewTopic(topic, 1, 1)])[topic]) == ErrorCode.NO_ERROR
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(count):
        producer.produce(topic, f"r{i}".encode(), partition=0, timestamp=timestamps[i] if timestamps else 0)
    assert producer.flush(10) == 0


def earliest(admin: AdminClient, topic: str) -> int:
    futures = admin.list_offsets({TopicPartition(topic, 0): OffsetSpec.earliest()})
    (future,) = futures.values()
    offset: int = future.result(timeout=10).offset
    return offset


def test_delete_records(admin: AdminClient, bootstrap: str, topic_name: str) -> None:
    create_with_records(admin, bootstrap, topic_name, 10)
    (future,) = admin.delete_records([TopicPartition(topic_name, 0, 4)]).values()
    assert future.result(timeout=10).low_watermark == 4
    assert earliest(admin, topic_name) == 4
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "unused",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.assign([TopicPartition(topic_name, 0, 0)])  # below the log start: reset to earliest
    messages = []
    deadline = time.monotonic() + 10
    while len(messages) < 6 and time.monotonic() < deadline:
        messages += consumer.consume(6 - len(messages), timeout=1)
    consumer.close()
    assert [m.offset() for m in messages] == [4, 5, 6, 7, 8, 9]

    # -1 means the high watermark; an older offset changes nothing.
    (future,) = admin.delete_records([TopicPartition(topic_name, 0, -1)]).values()
    assert future.result(timeout=10).low_watermark == 10
    (future,) = admin.delete_records([TopicPartition(topic_name, 0, 2)]).values()
    assert future.result(timeout=10).low_watermark == 10

    (future,) = admin.delete_records([TopicPartition(topic_name, 0, 11)]).values()
    assert error_of(future) == ErrorCode.OFFSET_OUT_OF_RANGE


def test_delete_records_errors(
    admin: AdminClient, kp_admin: KafkaAdminClient, bootstrap: str, topic_name: str
) -> None:
    create_with_records(admin, bootstrap, topic_name, 2)
    # Sent as kafka-python sends it: clients only route to known leaders, so name the partition raw.
    request = DeleteRecordsRequest(
        topics=[
            (topic_name, [(0, -2), (0, 3), (1, 0)]),
            (f"{topic_name}-missing", [(0, 1)]),
            ("__consumer_offsets", [(0, 1)]),
        ],
        timeout_ms=1000,
    )
    response = kp_admin._manager.run(kp_admin._manager.send, request, 1)
    codes = [
        (t.name, p.partition_index, p.error_code, p.low_watermark)
        for t in response.topics
        for p in t.partitions
    ]
    assert codes == [
        (topic_name, 0, ErrorCode.OFFSET_OUT_OF_RANGE, -1),
        (topic_name, 0, ErrorCode.OFFSET_OUT_OF_RANGE, -1),
        (topic_name, 1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1),
        (f"{topic_name}-missing", 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1),
        ("__consumer_offsets", 0, ErrorCode.INVALID_TOPIC_EXCEPTION, -1),
    ]


def test_kafka_python_delete_records_and_list_offsets(
    admin: AdminClient, kp_admin: KafkaAdminClient, bootstrap: str, topic_name: str
) -> None:
    from kafka import TopicPartition as KpTopicPartition
    from kafka.admin import OffsetSpec as KpOffsetSpec

    create_with_records(admin, bootstrap, topic_name, 5)
    tp = KpTopicPartition(topic_name, 0)
    result = kp_admin.delete_records({tp: 3})
    assert result[tp]["low_watermark"] == 3
    offsets = kp_admin.list_partition_offsets({tp: KpOffsetSpec.EARLIEST})
    assert offsets[tp].offset == 3
    offsets = kp_admin.list_partition_offsets({tp: KpOffsetSpec.LATEST})
    assert offsets[tp].offset == 5


def test_list_offsets(admin: AdminClient, bootstrap: str, topic_name: str) -> None:
    create_with_records(admin, bootstrap, topic_name, 3, timestamps=[1000, 3000, 2000])
    specs = {
        "earliest": OffsetSpec.earliest(),
        "latest": OffsetSpec.latest(),
        "max_timestamp": OffsetSpec.max_timestamp(),
    }
    found = {}
    for name, spec in specs.items():
        (future,) = admin.list_offsets({TopicPartition(topic_name, 0): spec}).values()
        found[name] = future.result(timeout=10).offset
    assert found == {"earliest": 0, "latest": 3, "max_timestamp": 1}


def test_offset_for_leader_epoch(
    admin: AdminClient, kp_admin: KafkaAdminClient, bootstrap: str, topic_name: str
) -> None:
    create_with_records(admin, bootstrap, topic_name, 7)
    partition = OffsetForLeaderEpochRequest.OffsetForLeaderTopic.OffsetForLeaderPartition

    def ask(topic: str, leader_epoch: int, current: int = -1) -> tuple[int, int, int]:
        request = OffsetForLeaderEpochRequest(
            replica_id=-1,
            topics=[
                (topic, [partition(partition=0, current_leader_epoch=current, leader_epoch=leader_epoch)])
            ],
        )
        response = kp_admin._manager.run(kp_admin._manager.send, request, 1)
        (result,) = response.topics[0].partitions
        return result.error_code, result.leader_epoch, result.end_offset

    assert ask(topic_name, 0) == (ErrorCode.NO_ERROR, 0, 7)  # epoch 0 is the current one: ends at the LEO
    assert ask(topic_name, 0, current=0) == (ErrorCode.NO_ERROR, 0, 7)
    assert ask(topic_name, 3) == (ErrorCode.NO_ERROR, -1, -1)  # no epoch <= 3 beyond the current one
    assert ask(topic_name, 0, current=5)[0] == ErrorCode.UNKNOWN_LEADER_EPOCH
    assert ask(f"{topic_name}-missing", 0)[0] == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


def test_offset_for_leader_epoch_of_an_empty_partition(
    admin: AdminClient, kp_admin: KafkaAdminClient, topic_name: str
) -> None:
    assert error_of(admin.create_topics([NewTopic(topic_name, 1, 1)])[topic_name]) == ErrorCode.NO_ERROR
    partition = OffsetForLeaderEpochRequest.OffsetForLeaderTopic.OffsetForLeaderPartition
    request = OffsetForLeaderEpochRequest(
        replica_id=-1, topics=[(topic_name, [partition(partition=0, current_leader_epoch=0, leader_epoch=0)])]
    )
    (result,) = kp_admin._manager.run(kp_admin._manager.send, request, 1).topics[0].partitions
    assert (result.error_code, result.leader_epoch, result.end_offset) == (0, 0, 0)


def test_describe_cluster(admin: AdminClient, kp_admin: KafkaAdminClient, bootstrap: str) -> None:
    cluster = admin.describe_cluster(include_authorized_operations=True).result(timeout=10)
    host, port = bootstrap.rsplit(":", 1)
    assert [(n.id, n.host, n.port) for n in cluster.nodes] == [(1, host, int(port))]
    assert cluster.controller.id == 1
    assert len(cluster.cluster_id) == 22
    assert set(cluster.authorized_operations) == {
        AclOperation.CREATE,
        AclOperation.CLUSTER_ACTION,
        AclOperation.DESCRIBE_CONFIGS,
        AclOperation.ALTER_CONFIGS,
        AclOperation.IDEMPOTENT_WRITE,
        AclOperation.ALTER,
        AclOperation.DESCRIBE,
    }
    described = kp_admin.describe_cluster()
    assert described["cluster_id"] == cluster.cluster_id
    assert described["controller_id"] == 1
    assert [b["broker_id"] for b in described["brokers"]] == [1]


def test_describe_topics(admin: AdminClient, kp_admin: KafkaAdminClient, topic_name: str) -> None:
    assert error_of(admin.create_topics([NewTopic(topic_name, 5, 1)])[topic_name]) == ErrorCode.NO_ERROR
    (future,) = admin.describe_topics(
        TopicCollection([topic_name]), include_authorized_operations=True
    ).values()
    description = future.result(timeout=10)
    assert description.name == topic_name
    assert len(description.authorized_operations) == 8
    assert [(p.id, p.leader.id, [r.id for r in p.replicas]) for p in description.partitions] == [
        (i, 1, [1]) for i in range(5)
    ]
    # DescribeTopicPartitions (KIP-966), paginated: 2 partitions per page.
    page = kp_admin.describe_topic_partitions([topic_name], response_partition_limit=2)
    indexes = [p["partition_index"] for p in page["topics"][0]["partitions"]]
    cursors = [page["next_cursor"]]
    while page["next_cursor"] is not None:
        page = kp_admin.describe_topic_partitions(
            [topic_name], response_partition_limit=2, cursor=page["next_cursor"]
        )
        indexes += [p["partition_index"] for p in page["topics"][0]["partitions"]]
        cursors.append(page["next_cursor"])
    assert indexes == [0, 1, 2, 3, 4]
    assert cursors == [
        {"topic_name": topic_name, "partition_index": 2},
        {"topic_name": topic_name, "partition_index": 4},
        None,
    ]
    missing = kp_admin.describe_topic_partitions([f"{topic_name}-missing"])
    assert missing["topics"][0]["error_code"] == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


def test_describe_log_dirs_over_two_directories(
    broker_factory: Callable[..., BrokerProcess], tmp_path: Path
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    proc = broker_factory({"log.dirs": f"{first},{second}"})
    admin = AdminClient({"bootstrap.servers": proc.bootstrap})
    assert error_of(admin.create_topics([NewTopic("spread", 4, 1)])["spread"]) == ErrorCode.NO_ERROR
    create_with_records(admin, proc.bootstrap, "filled", 3)
    # Each new partition goes to the directory holding the fewest partitions (ties: the first).
    on_disk = {
        d: sorted(p.name for p in d.iterdir() if p.name.startswith(("spread-", "filled-")))
        for d in (first, second)
    }
    assert on_disk == {first: ["filled-0", "spread-0", "spread-2"], second: ["spread-1", "spread-3"]}

    kp_admin = KafkaAdminClient(bootstrap_servers=proc.bootstrap)
    (broker_dirs,) = kp_admin.describe_log_dirs()
    kp_admin.close()
    assert broker_dirs["broker"] == 1
    dirs = {d["log_dir"]: d for d in broker_dirs["log_dirs"]}
    assert set(dirs) == {str(first), str(second)}
    sizes = {
        (path, t["name"], p["partition_index"]): p["partition_size"]
        for path, d in dirs.items()
        for t in d["topics"]
        for p in t["partitions"]
    }
    assert {k: v for k, v in sizes.items() if v == 0} == {
        (str(first), "spread", 0): 0,
        (str(first), "spread", 2): 0,
        (str(second), "spread", 1): 0,
        (str(second), "spread", 3): 0,
    }
    filled = sizes[(str(first), "filled", 0)]
    assert filled == (first / "filled-0" / "00000000000000000000.log").stat().st_size > 0
    assert all(d["error_code"] == 0 and d["total_bytes"] >= d["usable_bytes"] > 0 for d in dirs.values())
