"""Partition reassignment on three real brokers and a real ZooKeeper, driven by kafka-python's
AdminClient (`alter_partition_reassignments`, `list_partition_reassignments`; confluent-kafka 2.16
has no such call) and by `odradek partitions reassign`.

An RF=2 topic on brokers 1 and 2 moves to brokers 2 and 3 while its leader (broker 1) is one of
the replicas removed: broker 3 catches up and joins the ISR, then broker 1 leaves and broker 2
leads. Broker 3's log is then byte-identical to broker 2's, and every record is read back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.cluster.zookeeper import ZooKeeperServer
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import describe_topic_partitions as dtp
from odradek.testing.raw_client import RawClient
from odradek.testing.zk_cluster import ZkCluster, wait_for

# kafka-python 3.0 loads its message schemas with importlib.resources' deprecated calls, at import
# and when it first builds a request: both happen with that warning ignored (warnings are errors)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaAdminClient
    from kafka import TopicPartition as KafkaTopicPartition
    from kafka.errors import (
        InvalidReplicationAssignmentError,
        NoReassignmentInProgressError,
        UnknownTopicOrPartitionError,
    )

T = TypeVar("T")
pytestmark = pytest.mark.compat
TOPIC = "moving"
RECORDS = 3000


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, zookeeper: ZooKeeperServer) -> Iterator[ZkCluster]:
    c = ZkCluster(
        tmp_path_factory.mktemp("reassign"),
        f"{zookeeper.connect}/reassign",
        {"auto.leader.rebalance.enable": "false"},
    )
    try:
        c.start_all((1, 2, 3))
        yield c
    finally:
        c.kill_all()


def state(cluster: ZkCluster, topic: str) -> tuple[int, list[int], list[int]]:
    with RawClient.connect(cluster.brokers[1].bootstrap, timeout=10) as client:
        response = client.call(
            ApiKey.DESCRIBE_TOPIC_PARTITIONS, 0, dtp.DescribeTopicPartitionsRequest([dtp.TopicRequest(topic)])
        )
    [p] = response.topics[0].partitions
    return p.leader_id, p.replica_nodes, p.isr_nodes


def create(cluster: ZkCluster, topic: str, replicas: list[int]) -> None:
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
    admin.create_topics([NewTopic(topic, 1, replica_assignment=[replicas])])[topic].result(timeout=30)
    wait_for(lambda: state(cluster, topic) == (replicas[0], replicas, replicas), what=f"{topic} in sync")


def produce(cluster: ZkCluster, topic: str, count: int) -> None:
    producer = Producer({"bootstrap.servers": cluster.bootstrap(), "acks": "all", "linger.ms": 5})
    for i in range(count):
        producer.produce(topic, f"value-{i:06d}-".encode() + b"x" * 200, partition=0)
    assert producer.flush(30) == 0


def segments(cluster: ZkCluster, node: int, topic: str) -> dict[str, bytes]:
    directory = Path(cluster.brokers[node].data_dir) / f"{topic}-0"
    return {f.name: f.read_bytes() for f in sorted(directory.glob("*.log"))}


def read_values(cluster: ZkCluster, topic: str) -> list[bytes]:
    consumer = Consumer(
        {"bootstrap.servers": cluster.bootstrap(), "group.id": f"check-{topic}", "enable.auto.commit": False}
    )
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        values: list[bytes] = []
        deadline = time.monotonic() + 30
        while len(values) < RECORDS and time.monotonic() < deadline:
            values += [m.value() for m in consumer.consume(1000, timeout=1) if m.error() is None]
        return values
    finally:
        consumer.close()


def quietly(call: Callable[[], T]) -> T:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return call()


def test_moving_a_partition_off_its_leader_with_kafka_python(cluster: ZkCluster) -> None:
    create(cluster, TOPIC, [1, 2])
    produce(cluster, TOPIC, RECORDS)
    admin: Any = quietly(
        lambda: KafkaAdminClient(bootstrap_servers=cluster.bootstrap(), request_timeout_ms=30_000)
    )
    try:
        tp = KafkaTopicPartition(TOPIC, 0)
        assert quietly(lambda: admin.alter_partition_reassignments({tp: [2, 3]})) == {tp: None}
        wait_for(lambda: state(cluster, TOPIC) == (2, [2, 3], [2, 3]), timeout=60, what="the move")
        assert quietly(admin.list_partition_reassignments) == {}
        # Kafka's errors
        cancel = quietly(lambda: admin.alter_partition_reassignments({tp: None}))
        assert cancel == {tp: NoReassignmentInProgressError}
        bad = quietly(lambda: admin.alter_partition_reassignments({tp: [2, 9]}))
        assert bad == {tp: InvalidReplicationAssignmentError}
        missing = KafkaTopicPartition("no-such-topic", 0)
        unknown = quietly(lambda: admin.alter_partition_reassignments({missing: [1]}))
        assert unknown == {missing: UnknownTopicOrPartitionError}
    finally:
        admin.close()
    wait_for(
        lambda: not (Path(cluster.brokers[1].data_dir) / f"{TOPIC}-0").exists(), what="broker 1 drops it"
    )
    wait_for(lambda: segments(cluster, 3, TOPIC) == segments(cluster, 2, TOPIC), what="identical logs")
    values = read_values(cluster, TOPIC)
    assert values == [f"value-{i:06d}-".encode() + b"x" * 200 for i in range(RECORDS)]


def topic_configs(cluster: ZkCluster, topic: str) -> dict[str, str]:
    from confluent_kafka.admin import ConfigResource, ResourceType

    admin = AdminClient({"bootstrap.servers": cluster.bootstrap()})
    [future] = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)]).values()
    return {name: entry.value for name, entry in future.result(timeout=30).items() if not entry.is_default}


def test_the_cli_throttles_lists_cancels_and_verifies(cluster: ZkCluster, tmp_path: Path) -> None:
    """`odradek partitions reassign` with Kafka's JSON file: a throttled move is listed while it
    runs and cancelled; a second one, throttled at 128 KiB/s, takes as long as the throttle says;
    --verify reports it complete and clears the throttle configs."""
    topic = "moving-cli"
    create(cluster, topic, [3, 1])
    produce(cluster, topic, RECORDS)  # about 0.65 MB of batches
    size = sum(len(b) for b in segments(cluster, 3, topic).values())
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps({"version": 1, "partitions": [{"topic": topic, "partition": 0, "replicas": [3, 1, 2]}]})
    )

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "odradek", "partitions", "reassign", *args, "-b", cluster.bootstrap()],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    started = cli("--execute", "--reassignment-json-file", str(plan), "--throttle", "10000")
    assert "Successfully started partition reassignments for moving-cli-0" in started
    assert '"replicas": [3, 1]' in started  # the rollback file
    assert topic_configs(cluster, topic) == {
        "leader.replication.throttled.replicas": "0:3,0:1",
        "follower.replication.throttled.replicas": "0:2",
    }
    listed = cli("--list")
    assert "moving-cli-0: replicas: 3,1,2. adding: 2. removing: ." in listed  # 10 kB/s: still copying
    assert "is still in progress" in cli("--verify", "--reassignment-json-file", str(plan))
    assert "Successfully cancelled" in cli("--cancel", "--reassignment-json-file", str(plan))
    wait_for(lambda: state(cluster, topic) == (3, [3, 1], [3, 1]), what="the move cancelled")
    wait_for(
        lambda: not (Path(cluster.brokers[2].data_dir) / f"{topic}-0").exists(), what="broker 2 drops it"
    )

    rate = 128 * 1024
    began = time.monotonic()
    cli("--execute", "--reassignment-json-file", str(plan), "--throttle", str(rate))
    wait_for(
        lambda: state(cluster, topic) == (3, [3, 1, 2], [3, 1, 2]), timeout=60, what="the throttled move"
    )
    took = time.monotonic() - began
    # the leader's and the follower's buckets each allow one second of burst, then the rate: the
    # copy cannot be quicker than that (a loaded machine only makes it slower); and it is not stuck
    expected = (size - rate) / rate
    assert expected * 0.9 <= took <= expected * 3 + 15, (size, took)
    verified = cli("--verify", "--reassignment-json-file", str(plan))
    assert "Reassignment of partition moving-cli-0 is complete." in verified
    assert "Clearing topic-level throttles on topic(s) moving-cli" in verified
    assert topic_configs(cluster, topic) == {}
    assert "No partition reassignment is in progress." in cli("--list")
    print(f"throttled move: {size} bytes in {took:.2f} s at {rate} B/s ({size / took / 1024:.0f} KiB/s)")
