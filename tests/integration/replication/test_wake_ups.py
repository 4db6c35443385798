"""Waiting requests in a three-broker cluster wake when their partition moves, not at their timeout.

The end-to-end latency of a replicated write rests on three wake-ups, each checked here with every
wait set to 5 s, so that one that is missed shows up as a 5 s answer rather than a slow one:

* a follower's fetch parked on the leader (`replica.fetch.wait.max.ms` = 5000) wakes on the
  leader's append, so an acks=all produce commits in one replication round trip;
* an acks=all produce waiting in the produce purgatory completes when the followers' next fetches
  move the high watermark;
* a consumer's fetch parked at the log end (`max_wait_ms` = 5000) wakes when the high watermark
  moves: with RF=1 inside the append, with RF=3 on a follower's fetch.

Each is checked over several writes in a row: after the first round every follower fetch is parked
again, which is the steady state a running producer meets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import fetch as fetch_msg
from odradek.protocol.messages import produce as produce_msg
from odradek.protocol.records import build_batch
from odradek.testing.cluster import LocalCluster
from odradek.testing.raw_client import RawClient

LONG_WAIT_MS = 5000
PROMPT_S = 2.0
"""Far below every 5 s wait, far above a loaded machine's round trip."""
ROUNDS = 5


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    overrides = {"replica.fetch.wait.max.ms": str(LONG_WAIT_MS), "replica.lag.time.max.ms": "30000"}
    with LocalCluster(tmp_path_factory.mktemp("wake-ups"), 3, overrides) as running:
        running.create_topic("rf1", [(1,)])
        running.create_topic("rf3", [(1, 2, 3)], {"min.insync.replicas": "2"})
        yield running


def produce(client: RawClient, topic: str, value: bytes) -> tuple[int, int]:
    """One acks=all record to `topic`-0: (error code, base offset)."""
    batch = build_batch([(None, value, [], int(time.time() * 1000))])
    data = produce_msg.TopicProduceData(
        name=topic, partition_data=[produce_msg.PartitionProduceData(0, batch)]
    )
    request = produce_msg.ProduceRequest(acks=-1, timeout_ms=LONG_WAIT_MS * 2, topic_data=[data])
    response = client.call(ApiKey.PRODUCE, 9, request)
    part = response.responses[0].partition_responses[0]
    return part.error_code, part.base_offset


def consumer_fetch(client: RawClient, topic: str, offset: int) -> fetch_msg.PartitionData:
    request = fetch_msg.FetchRequest(
        max_wait_ms=LONG_WAIT_MS,
        min_bytes=1,
        max_bytes=1 << 20,
        topics=[
            fetch_msg.FetchTopic(
                topic=topic,
                partitions=[
                    fetch_msg.FetchPartition(partition=0, fetch_offset=offset, partition_max_bytes=1 << 20)
                ],
            )
        ],
    )
    response = client.call(ApiKey.FETCH, 12, request)
    part: fetch_msg.PartitionData = response.responses[0].partitions[0]
    return part


def high_watermark(cluster: LocalCluster, topic: str) -> int:
    value: int = cluster.partition(1, topic)(lambda p: p.high_watermark)
    return value


@pytest.mark.parametrize("topic", ["rf1", "rf3"])
def test_acks_all_commits_without_waiting_for_a_follower_timeout(cluster: LocalCluster, topic: str) -> None:
    leader = cluster.brokers[1].bootstrap
    with RawClient.connect(leader) as producer:
        for i in range(ROUNDS):
            started = time.monotonic()
            error, _ = produce(producer, topic, f"ack-{i}".encode())
            took = time.monotonic() - started
            assert error == 0
            assert took < PROMPT_S, f"round {i}: acks=all answered after {took:.2f} s"


@pytest.mark.parametrize("topic", ["rf1", "rf3"])
def test_a_parked_consumer_fetch_wakes_when_the_high_watermark_moves(
    cluster: LocalCluster, topic: str
) -> None:
    leader = cluster.brokers[1].bootstrap
    with RawClient.connect(leader) as producer, RawClient.connect(leader) as consumer:
        for i in range(ROUNDS):
            offset = high_watermark(cluster, topic)
            answered: list[tuple[float, fetch_msg.PartitionData]] = []

            def fetch(at: int = offset, into: list[tuple[float, fetch_msg.PartitionData]] = answered) -> None:
                part = consumer_fetch(consumer, topic, at)
                into.append((time.monotonic(), part))

            waiting = threading.Thread(target=fetch)
            waiting.start()
            time.sleep(0.2)  # parked at the log end by now (an early answer would be empty)
            assert not answered, "the fetch answered before anything was produced"
            error, base_offset = produce(producer, topic, f"wake-{i}".encode())
            produced = time.monotonic()
            waiting.join(LONG_WAIT_MS / 1000 + 5)
            assert error == 0 and base_offset == offset
            [(at, part)] = answered
            assert part.error_code == 0
            assert part.records, f"round {i}: the fetch answered empty"
            assert at - produced < PROMPT_S, f"round {i}: answered {at - produced:.2f} s after the produce"
