"""Replication with three real brokers in this process (`LocalCluster`: one shared metadata store
plays ZooKeeper and the controller) and real librdkafka producers and consumers over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Producer
from replication_helpers import consume as consume_with

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import fetch as fetch_msg
from odradek.protocol.messages import produce as produce_msg
from odradek.protocol.records import build_batch
from odradek.replication.partition import Partition
from odradek.testing.cluster import LocalCluster
from odradek.testing.raw_client import RawClient

OVERRIDES = {
    "replica.lag.time.max.ms": "1500",
    "replica.fetch.wait.max.ms": "200",
    "replica.fetch.backoff.ms": "100",
}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path, 3, OVERRIDES) as running:
        yield running


def produce(bootstrap: str, topic: str, values: list[bytes], acks: str = "all") -> list[KafkaError | None]:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "acks": acks, "linger.ms": 5, "message.timeout.ms": 20000}
    )
    errors: list[KafkaError | None] = []
    for value in values:
        producer.produce(topic, value, on_delivery=lambda err, _msg: errors.append(err))
    assert producer.flush(30) == 0
    return errors


def consume(bootstrap: str, topic: str, count: int) -> list[bytes]:
    return consume_with({"bootstrap.servers": bootstrap}, topic, count)


def log_state(cluster: LocalCluster, node: int, topic: str) -> tuple[int, int]:
    return cluster.partition(node, topic)(lambda p: (p.log.log_end_offset, p.high_watermark))


def log_bytes(cluster: LocalCluster, node: int, topic: str) -> bytes:
    def read(p: Partition) -> bytes:
        result = p.log.read(0, 1 << 30, p.log.log_end_offset)
        return b"".join(bytes(c) for c in result.chunks)

    data: bytes = cluster.partition(node, topic)(read)
    return data


def test_acks_all_data_reaches_every_follower_and_is_readable(cluster: LocalCluster) -> None:
    cluster.create_topic("repl", [(1, 2, 3)], {"min.insync.replicas": "2"})
    values = [f"v{i}".encode() for i in range(200)]
    assert produce(cluster.bootstrap, "repl", values) == [None] * 200
    for node in (1, 2, 3):
        cluster.wait_for(
            lambda node=node: log_state(cluster, node, "repl") == (200, 200), what=f"broker {node}"
        )
    leader_log = log_bytes(cluster, 1, "repl")
    assert log_bytes(cluster, 2, "repl") == leader_log  # the leader's batches, byte for byte
    assert log_bytes(cluster, 3, "repl") == leader_log
    assert consume(cluster.bootstrap, "repl", 200) == values


def raw_produce(cluster: LocalCluster, node: int, topic: str, acks: int) -> int:
    """One record to `topic`-0 on broker `node`; the partition's error code."""
    batch = build_batch([(None, b"raw", [], 0)])
    data = produce_msg.TopicProduceData(
        name=topic, partition_data=[produce_msg.PartitionProduceData(0, batch)]
    )
    request = produce_msg.ProduceRequest(acks=acks, timeout_ms=5000, topic_data=[data])
    with RawClient.connect(cluster.brokers[node].bootstrap) as client:
        response = client.call(ApiKey.PRODUCE, 9, request)
    code: int = response.responses[0].partition_responses[0].error_code
    return code


def replica_fetch(cluster: LocalCluster, node: int, topic: str, leader_epoch: int) -> int:
    """A follower's Fetch (v15, replica_state) to broker `node`; the partition's error code."""
    topic_id = cluster.store.image.topics_by_name[topic].topic_id
    request = fetch_msg.FetchRequest(
        replica_state=fetch_msg.ReplicaState(replica_id=1),
        max_bytes=1 << 20,
        topics=[
            fetch_msg.FetchTopic(
                topic_id=topic_id,
                partitions=[
                    fetch_msg.FetchPartition(
                        partition=0,
                        current_leader_epoch=leader_epoch,
                        fetch_offset=0,
                        partition_max_bytes=1 << 20,
                    )
                ],
            )
        ],
    )
    with RawClient.connect(cluster.brokers[node].bootstrap) as client:
        response = client.call(ApiKey.FETCH, 15, request)
    code: int = response.responses[0].partitions[0].error_code
    return code


def isr(cluster: LocalCluster, topic: str) -> tuple[int, ...]:
    return tuple(cluster.registration(topic).isr)


def test_a_lost_follower_leaves_the_isr_and_a_caught_up_one_joins_it(cluster: LocalCluster) -> None:
    cluster.create_topic("isr", [(1, 2, 3)], {"min.insync.replicas": "2"})
    assert produce(cluster.bootstrap, "isr", [b"a"] * 5) == [None] * 5

    # acks=all waits for every ISR member: broker 3 is gone but still in the ISR, so the write is
    # answered only once the leader dropped it (replica.lag.time.max.ms), never before.
    cluster.stop_broker(3)
    assert isr(cluster, "isr") == (1, 2, 3)
    producer = Producer({"bootstrap.servers": cluster.brokers[1].bootstrap, "acks": "all"})
    delivered: list[tuple[KafkaError | None, tuple[int, ...]]] = []
    producer.produce("isr", b"b", on_delivery=lambda err, _m: delivered.append((err, isr(cluster, "isr"))))
    assert producer.flush(30) == 0
    assert delivered == [(None, (1, 2))]
    assert log_state(cluster, 2, "isr")[0] == 6

    # ISR 2 >= min.insync.replicas 2: acks=all goes on
    assert produce(cluster.bootstrap, "isr", [b"c"] * 5) == [None] * 5

    # below min.insync.replicas: acks=all is refused before the append, acks=1 still accepted
    cluster.stop_broker(2)
    cluster.wait_for(lambda: isr(cluster, "isr") == (1,), what="ISR shrink to the leader")
    assert raw_produce(cluster, 1, "isr", acks=-1) == ErrorCode.NOT_ENOUGH_REPLICAS
    assert raw_produce(cluster, 1, "isr", acks=1) == ErrorCode.NO_ERROR
    end, high_watermark = log_state(cluster, 1, "isr")
    assert high_watermark == end - 1  # KIP-966: one copy is not committed, consumers do not see it

    # a follower that comes back catches up and rejoins the ISR; acks=all works again
    cluster.start_broker(2)
    cluster.wait_for(lambda: isr(cluster, "isr") == (1, 2), what="ISR expand")
    cluster.wait_for(lambda: log_state(cluster, 1, "isr") == (end, end), what="commit with 2 copies")
    assert raw_produce(cluster, 1, "isr", acks=-1) == ErrorCode.NO_ERROR
    cluster.wait_for(lambda: log_state(cluster, 2, "isr") == log_state(cluster, 1, "isr"), what="catch up")
    assert log_bytes(cluster, 2, "isr") == log_bytes(cluster, 1, "isr")


def test_a_new_leader_truncates_the_old_leaders_divergent_tail(tmp_path: Path) -> None:
    # a long lag: the ISR does not shrink on its own during the test (the controller decides)
    with LocalCluster(tmp_path, 3, {**OVERRIDES, "replica.lag.time.max.ms": "60000"}) as cluster:
        cluster.create_topic("div", [(1, 2, 3)], {"min.insync.replicas": "2"})
        first = [f"acked-{i}".encode() for i in range(10)]
        assert produce(cluster.bootstrap, "div", first) == [None] * 10
        for node in (2, 3):
            cluster.wait_for(lambda node=node: log_state(cluster, node, "div")[0] == 10)

        # the followers are gone; the leader takes acks=1 writes nobody copies (not committed)
        cluster.stop_broker(2)
        cluster.stop_broker(3)
        assert produce(cluster.brokers[1].bootstrap, "div", [b"lost"] * 5, acks="1") == [None] * 5
        assert log_state(cluster, 1, "div") == (15, 10)

        # the leader dies; the controller elects broker 2 (in the ISR) in a new leader epoch
        cluster.stop_broker(1)
        cluster.start_broker(2)
        cluster.start_broker(3)
        cluster.elect("div", 0, leader=2, isr=(2, 3))
        second = [f"new-{i}".encode() for i in range(3)]
        assert produce(cluster.brokers[2].bootstrap, "div", second) == [None] * 3
        # replica requests are fenced by leader epoch: the old epoch is refused by the new leader
        assert replica_fetch(cluster, 2, "div", leader_epoch=0) == ErrorCode.FENCED_LEADER_EPOCH
        assert replica_fetch(cluster, 2, "div", leader_epoch=2) == ErrorCode.UNKNOWN_LEADER_EPOCH
        assert replica_fetch(cluster, 3, "div", leader_epoch=1) == ErrorCode.NOT_LEADER_OR_FOLLOWER

        # the old leader comes back as a follower: OffsetForLeaderEpoch says epoch 0 ended at 10 on
        # the new leader, so its 5 unacknowledged records go, and it copies the new ones
        cluster.start_broker(1)
        cluster.wait_for(lambda: log_state(cluster, 1, "div") == (13, 13), what="old leader caught up")
        assert log_bytes(cluster, 1, "div") == log_bytes(cluster, 2, "div")
        assert cluster.partition(1, "div")(lambda p: p.log.leader_epoch_cache.entries) == [(0, 0), (1, 10)]
        cluster.wait_for(lambda: isr(cluster, "div") == (1, 2, 3), what="old leader back in the ISR")
        assert consume(cluster.bootstrap, "div", 13) == first + second


def test_an_idempotent_producer_survives_a_leader_change_without_duplicates(cluster: LocalCluster) -> None:
    """Producer state travels with the log: the new leader deduplicates the retries of batches the old
    one had written, and what the old leader had not committed is truncated, not duplicated."""
    cluster.create_topic("moving", [(1, 2, 3)], {"min.insync.replicas": "2"})
    producer = Producer(
        {
            "bootstrap.servers": cluster.bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 2,
            "message.timeout.ms": 30000,
        }
    )
    errors: list[KafkaError] = []
    done = [0]

    def delivered(err: KafkaError | None, _msg: object) -> None:
        done[0] += 1
        if err is not None:
            errors.append(err)

    values = [f"m{i}".encode() for i in range(3000)]
    for i, value in enumerate(values):
        producer.produce("moving", value, on_delivery=delivered)
        producer.poll(0)
        if i in (1000, 2000):  # elect while ~300 records are in flight (a clean election: full ISR)
            while done[0] < i - 300:
                producer.poll(0.01)
            cluster.elect("moving", 0, leader=2 if i == 1000 else 3)
    assert producer.flush(60) == 0
    assert errors == []
    assert cluster.registration("moving").leader_epoch == 2
    assert consume(cluster.bootstrap, "moving", 3000) == values
    for node in (1, 2):
        cluster.wait_for(
            lambda node=node: log_state(cluster, node, "moving") == log_state(cluster, 3, "moving")
        )
        assert log_bytes(cluster, node, "moving") == log_bytes(cluster, 3, "moving")
