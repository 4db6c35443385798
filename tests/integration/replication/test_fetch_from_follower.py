"""KIP-392: with `replica.selector.class` rack-aware, a leader sends a consumer in another rack to
an in-sync replica of its rack (`preferred_read_replica`), and that follower serves the consumer up
to its high watermark. Three real brokers in this process, raw Fetch requests and librdkafka
(`client.rack`)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import fetch as fetch_msg
from odradek.protocol.records import iter_headers
from odradek.testing.cluster import LocalCluster
from odradek.testing.raw_client import RawClient

OVERRIDES = {
    "replica.fetch.wait.max.ms": "100",
    "replica.fetch.backoff.ms": "100",
    "replica.selector.class": "org.apache.kafka.common.replica.RackAwareReplicaSelector",
}
RACKS = {1: {"broker.rack": "a"}, 2: {"broker.rack": "b"}, 3: {"broker.rack": "c"}}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path, 3, OVERRIDES, RACKS) as running:
        yield running


def fetch(cluster: LocalCluster, node: int, rack: str, version: int = 11) -> Any:
    request = fetch_msg.FetchRequest(
        max_bytes=1 << 20,
        rack_id=rack,
        topics=[
            fetch_msg.FetchTopic(
                topic="t",
                partitions=[
                    fetch_msg.FetchPartition(partition=0, fetch_offset=0, partition_max_bytes=1 << 20)
                ],
            )
        ],
    )
    with RawClient.connect(cluster.brokers[node].bootstrap) as client:
        [data] = client.call(ApiKey.FETCH, version, request).responses[0].partitions
    return data


def record_count(data: Any) -> int:
    records = bytes(data.records or b"")
    return sum(h.record_count for _, h in iter_headers(records))


def test_the_leader_sends_a_consumer_to_its_racks_replica(cluster: LocalCluster) -> None:
    cluster.create_topic("t", [(1, 2, 3)])
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all"})
    for i in range(10):
        producer.produce("t", f"v{i}".encode())
    assert producer.flush(20) == 0
    cluster.wait_for(
        lambda: all(cluster.partition(n, "t")(lambda p: p.high_watermark) == 10 for n in (2, 3)),
        what="followers at the high watermark",
    )
    to_b = fetch(cluster, 1, "b")
    assert (to_b.error_code, to_b.preferred_read_replica, record_count(to_b)) == (0, 2, 0)
    assert to_b.high_watermark == 10
    assert fetch(cluster, 1, "c").preferred_read_replica == 3
    same_rack = fetch(cluster, 1, "a")  # the leader's own rack: read here
    assert (same_rack.preferred_read_replica, record_count(same_rack)) == (-1, 10)
    no_rack = fetch(cluster, 1, "")
    assert (no_rack.preferred_read_replica, record_count(no_rack)) == (-1, 10)
    # the follower serves the consumer (v11+) up to its high watermark
    on_follower = fetch(cluster, 2, "b")
    assert (on_follower.error_code, record_count(on_follower), on_follower.high_watermark) == (0, 10, 10)
    # before v11 (no client metadata) a follower refuses, as in Kafka
    assert fetch(cluster, 2, "b", version=10).error_code == ErrorCode.NOT_LEADER_OR_FOLLOWER


def test_librdkafka_with_client_rack_reads_from_its_racks_follower(cluster: LocalCluster) -> None:
    cluster.create_topic("t", [(1, 2, 3)])
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all"})
    for i in range(20):
        producer.produce("t", f"v{i}".encode())
    assert producer.flush(20) == 0
    fetching_from: list[int] = []

    def on_stats(text: str) -> None:
        part = json.loads(text).get("topics", {}).get("t", {}).get("partitions", {}).get("0")
        if part is not None:
            fetching_from.append(part.get("broker", -1))

    consumer = Consumer(
        {
            "bootstrap.servers": cluster.bootstrap,
            "group.id": "kip392",
            "client.rack": "c",
            "enable.auto.commit": False,
            "statistics.interval.ms": 200,
            "stats_cb": on_stats,
        }
    )
    consumer.assign([TopicPartition("t", 0, 0)])
    got: list[bytes] = []
    deadline = time.monotonic() + 30
    while (len(got) < 20 or 3 not in fetching_from) and time.monotonic() < deadline:
        msg = consumer.poll(0.1)
        if msg is not None and msg.error() is None:
            got.append(msg.value())
    consumer.close()
    assert got == [f"v{i}".encode() for i in range(20)]
    assert 3 in fetching_from  # librdkafka moved its fetches to broker 3 (rack c)
