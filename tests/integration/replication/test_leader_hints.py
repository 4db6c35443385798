"""KIP-951: a Produce (v10+) or Fetch (v16+) sent to a broker that does not lead the partition is
answered NOT_LEADER_OR_FOLLOWER with the current leader (id and epoch) and its endpoint, so the
client moves without a Metadata round trip. Two real brokers in this process (`LocalCluster`), raw
requests, and librdkafka across a leader change."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import fetch as fetch_msg
from odradek.protocol.messages import produce as produce_msg
from odradek.protocol.records import build_batch
from odradek.testing.cluster import LocalCluster
from odradek.testing.raw_client import RawClient

OVERRIDES = {"replica.fetch.wait.max.ms": "100", "replica.fetch.backoff.ms": "100"}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path, 2, OVERRIDES) as running:
        yield running


def produce(cluster: LocalCluster, node: int, topic: str, version: int = 10) -> Any:
    data = produce_msg.TopicProduceData(
        name=topic, partition_data=[produce_msg.PartitionProduceData(0, build_batch([(None, b"x", [], 0)]))]
    )
    request = produce_msg.ProduceRequest(acks=1, timeout_ms=5000, topic_data=[data])
    with RawClient.connect(cluster.brokers[node].bootstrap) as client:
        return client.call(ApiKey.PRODUCE, version, request)


def fetch(cluster: LocalCluster, node: int, topic: str, version: int = 16, epoch: int = -1) -> Any:
    topic_id = cluster.store.image.topics_by_name[topic].topic_id
    request = fetch_msg.FetchRequest(
        max_bytes=1 << 20,
        topics=[
            fetch_msg.FetchTopic(
                topic=topic,
                topic_id=topic_id,
                partitions=[
                    fetch_msg.FetchPartition(
                        partition=0, current_leader_epoch=epoch, fetch_offset=0, partition_max_bytes=1 << 20
                    )
                ],
            )
        ],
    )
    with RawClient.connect(cluster.brokers[node].bootstrap) as client:
        return client.call(ApiKey.FETCH, version, request)


def endpoint(cluster: LocalCluster, node: int) -> tuple[int, str, int]:
    host, port = cluster.brokers[node].bootstrap.rsplit(":", 1)
    return node, host, int(port)


def test_produce_and_fetch_name_the_current_leader(cluster: LocalCluster) -> None:
    cluster.create_topic("both", [(1, 2)])  # a follower on broker 2
    cluster.create_topic("only1", [(1,)])  # not on broker 2 at all
    for topic in ("both", "only1"):
        response = produce(cluster, 2, topic)
        [part] = response.responses[0].partition_responses
        assert part.error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER  # not UNKNOWN_TOPIC_OR_PARTITION
        assert (part.current_leader.leader_id, part.current_leader.leader_epoch) == (1, 0)
        assert [(n.node_id, n.host, n.port) for n in response.node_endpoints] == [endpoint(cluster, 1)]
    # Fetch: a follower serves a consumer's v11+ fetch (KIP-392); a broker without a replica points
    # to the leader
    [served] = fetch(cluster, 2, "both").responses[0].partitions
    assert served.error_code == ErrorCode.NO_ERROR
    fetched = fetch(cluster, 2, "only1")
    [data] = fetched.responses[0].partitions
    assert data.error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert (data.current_leader.leader_id, data.current_leader.leader_epoch) == (1, 0)
    assert [(n.node_id, n.host, n.port) for n in fetched.node_endpoints] == [endpoint(cluster, 1)]
    # the old leader after an election: the new leader and its epoch; a fenced epoch says so too
    cluster.elect("both", 0, 2)
    cluster.wait_for(lambda: cluster.partition(2, "both")(lambda p: p.is_leader), what="2 leads")
    cluster.wait_for(lambda: not cluster.partition(1, "both")(lambda p: p.is_leader), what="1 follows")
    [part] = produce(cluster, 1, "both").responses[0].partition_responses
    assert (part.current_leader.leader_id, part.current_leader.leader_epoch) == (2, 1)
    fenced = fetch(cluster, 2, "both", epoch=0)
    [data] = fenced.responses[0].partitions
    assert data.error_code == ErrorCode.FENCED_LEADER_EPOCH
    assert (data.current_leader.leader_id, data.current_leader.leader_epoch) == (2, 1)
    # the leader answers normally, with no hint
    [ok] = produce(cluster, 2, "both").responses[0].partition_responses
    assert ok.error_code == ErrorCode.NO_ERROR and ok.current_leader.leader_id == -1


def test_versions_before_kip_951_carry_no_hint(cluster: LocalCluster) -> None:
    cluster.create_topic("old", [(1, 2)])
    response = produce(cluster, 2, "old", version=9)
    assert response.responses[0].partition_responses[0].error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert response.node_endpoints == []  # tagged fields of v10+: not on the wire before
    cluster.create_topic("old1", [(1,)])
    fetched = fetch(cluster, 2, "old1", version=15)
    assert fetched.responses[0].partitions[0].error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert fetched.node_endpoints == []


def test_librdkafka_follows_a_leader_change(cluster: LocalCluster) -> None:
    """A producer and a consumer keep going across a leader change (librdkafka 2.16 reads KIP-951
    hints); every record produced is consumed."""
    cluster.create_topic("moving", [(1, 2)])
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all", "linger.ms": 5})
    consumer = Consumer(
        {"bootstrap.servers": cluster.bootstrap, "group.id": "kip951", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition("moving", 0, 0)])
    got: list[bytes] = []

    def drain(until: int) -> None:
        deadline = time.monotonic() + 30
        while len(got) < until and time.monotonic() < deadline:
            msg = consumer.poll(0.1)
            if msg is not None and msg.error() is None:
                got.append(msg.value())

    for i in range(20):
        producer.produce("moving", f"a{i}".encode())
    assert producer.flush(20) == 0
    drain(20)
    cluster.wait_for(
        lambda: cluster.partition(2, "moving")(lambda p: p.log.log_end_offset) == 20, what="copy"
    )
    cluster.elect("moving", 0, 2)
    for i in range(20):
        producer.produce("moving", f"b{i}".encode())
    assert producer.flush(30) == 0
    drain(40)
    consumer.close()
    assert got == [f"a{i}".encode() for i in range(20)] + [f"b{i}".encode() for i in range(20)]
