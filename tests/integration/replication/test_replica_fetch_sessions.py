"""Followers fetch through incremental fetch sessions (KIP-227), and survive losing them.

A follower that follows many idle partitions (as every broker does `__consumer_offsets`') names
in each fetch only the partitions that moved; when the leader forgets the session (evicted, or
the epochs disagree) the follower opens a new one with a full fetch, and replication goes on
with nothing lost. Two brokers in one process (`LocalCluster`), real TCP between them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from odradek.broker.app import Broker
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import fetch as fetch_msg
from odradek.protocol.messages import produce as produce_msg
from odradek.protocol.records import build_batch
from odradek.testing.cluster import LocalCluster
from odradek.testing.raw_client import RawClient

IDLE = 12
Seen = tuple[int, int, set[tuple[str, int]], int, int]
"""A follower fetch: (session id, epoch, partitions named, forgotten count, answer's error)."""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    overrides = {"replica.fetch.wait.max.ms": "100", "replica.lag.time.max.ms": "30000"}
    with LocalCluster(tmp_path_factory.mktemp("fetch-sessions"), 2, overrides) as running:
        running.create_topic("busy", [(1, 2)], {"min.insync.replicas": "2"})
        running.create_topic("idle", [(1, 2)] * IDLE)
        yield running


@pytest.fixture
def seen(cluster: LocalCluster) -> Iterator[list[Seen]]:
    """Every fetch broker 2's fetcher sends to broker 1 while the test runs."""
    log: list[Seen] = []

    def spy(broker: Broker) -> Callable[..., Awaitable[Any]]:
        connection = broker.fetchers.fetchers[BrokerId(1)]._connection
        original = connection.call

        async def call(api_key: int, version: int, request: Any) -> Any:
            response = await original(api_key, version, request)
            if api_key == ApiKey.FETCH:
                named = {(t.topic, p.partition) for t in request.topics for p in t.partitions}
                forgotten = sum(len(t.partitions) for t in request.forgotten_topics_data)
                log.append((request.session_id, request.session_epoch, named, forgotten, response.error_code))
            return response

        connection.call = call  # type: ignore[method-assign]
        return original

    cluster.wait_for(lambda: _held(cluster) == 1 + IDLE, what="the follower's session with every partition")
    original = cluster.brokers[2].call(spy)
    yield log

    def unspy(broker: Broker) -> None:
        broker.fetchers.fetchers[BrokerId(1)]._connection.call = original  # type: ignore[method-assign,assignment]

    cluster.brokers[2].call(unspy)


def _held(cluster: LocalCluster) -> int:
    fetcher = cluster.brokers[2].call(lambda b: b.fetchers.fetchers.get(BrokerId(1)))
    return 0 if fetcher is None or not fetcher.session.session_id else len(fetcher.session.positions)


def _session(cluster: LocalCluster) -> int:
    fetcher = cluster.brokers[2].call(lambda b: b.fetchers.fetchers.get(BrokerId(1)))
    return 0 if fetcher is None else fetcher.session.session_id


def produce(client: RawClient, value: bytes) -> None:
    batch = build_batch([(None, value, [], int(time.time() * 1000))])
    data = produce_msg.TopicProduceData(
        name="busy", partition_data=[produce_msg.PartitionProduceData(0, batch)]
    )
    request = produce_msg.ProduceRequest(acks=-1, timeout_ms=10_000, topic_data=[data])
    response = client.call(ApiKey.PRODUCE, 9, request)
    assert response.responses[0].partition_responses[0].error_code == 0


def in_step(cluster: LocalCluster) -> bool:
    ends = [cluster.partition(n, "busy")(lambda p: (p.log.log_end_offset, p.high_watermark)) for n in (1, 2)]
    return bool(ends[0] == ends[1])


def leader_sessions(cluster: LocalCluster, change: Callable[[Any], None]) -> None:
    cluster.brokers[1].call(lambda b: change(b.fetch_sessions))


def test_a_follower_names_only_the_partitions_that_moved(cluster: LocalCluster, seen: list[Seen]) -> None:
    with RawClient.connect(cluster.brokers[1].bootstrap) as client:
        for i in range(5):
            produce(client, f"moved-{i}".encode())
    cluster.wait_for(lambda: in_step(cluster), what="the follower caught up")
    assert seen, "the follower sent no fetch"
    assert all(epoch > 0 and error == 0 for _, epoch, _, _, error in seen), seen
    assert all(named <= {("busy", 0)} for _, _, named, _, _ in seen), seen
    assert any(named == {("busy", 0)} for _, _, named, _, _ in seen)
    assert len({session for session, *_ in seen}) == 1
    # the leader still holds all 13 partitions in the session, at the follower's offsets
    held = cluster.brokers[1].call(lambda b: b.fetch_sessions.sessions[seen[0][0]].partitions)
    assert len(held) == 1 + IDLE
    leo = cluster.partition(2, "busy")(lambda p: p.log.log_end_offset)
    assert held["busy", 0].fetch_offset == leo


@pytest.mark.parametrize("loss", ["evicted", "wrong epoch"])
def test_replication_goes_on_after_the_leader_loses_the_session(
    cluster: LocalCluster, seen: list[Seen], loss: str
) -> None:
    before = _session(cluster)
    if loss == "evicted":
        leader_sessions(cluster, lambda cache: cache.sessions.clear())
        error = ErrorCode.FETCH_SESSION_ID_NOT_FOUND
    else:

        def skew(cache: Any) -> None:
            cache.sessions[before].epoch += 5

        leader_sessions(cluster, skew)
        error = ErrorCode.INVALID_FETCH_SESSION_EPOCH
    with RawClient.connect(cluster.brokers[1].bootstrap) as client:
        for i in range(5):
            produce(client, f"after-{loss}-{i}".encode())  # acks=all: the follower must fetch them
    cluster.wait_for(lambda: in_step(cluster), what="the follower caught up")
    errors = [e for *_, e in seen]
    assert error in errors, seen
    lost = errors.index(error)
    # the next fetch is a full one naming every partition and opens a new session ...
    _, epoch, named, _, answer = seen[lost + 1]
    assert (epoch, answer, len(named)) == (0, 0, 1 + IDLE)
    # ... and the ones after it are incremental again
    assert all(e > 0 and names <= {("busy", 0)} for _, e, names, _, _ in seen[lost + 2 :]), seen
    after = _session(cluster)
    assert after not in (0, before)
    held = cluster.brokers[1].call(lambda b: b.fetch_sessions.sessions[after].partitions)
    assert len(held) == 1 + IDLE


def test_a_new_leader_epoch_goes_into_the_session(cluster: LocalCluster, seen: list[Seen]) -> None:
    """Leader-epoch fencing is kept: the follower's current leader epoch changes with a new
    election, and the session carries the new one (the leader checks each fetch against it)."""
    epoch_before = cluster.partition(1, "busy")(lambda p: p.leader_epoch)
    cluster.elect("busy", 0, 1)
    cluster.wait_for(
        lambda: cluster.partition(2, "busy")(lambda p: p.leader_epoch) > epoch_before, what="the new epoch"
    )
    with RawClient.connect(cluster.brokers[1].bootstrap) as client:
        produce(client, b"new-epoch")
    cluster.wait_for(lambda: in_step(cluster), what="the follower caught up")

    def held_epoch(b: Broker) -> int:
        [session] = [s for s in b.fetch_sessions.sessions.values() if ("busy", 0) in s.partitions]
        return session.partitions["busy", 0].current_leader_epoch

    assert cluster.brokers[1].call(held_epoch) == epoch_before + 1
    assert all(error == 0 for *_, error in seen)


def test_a_fetch_with_the_wrong_leader_epoch_is_still_fenced(cluster: LocalCluster) -> None:
    """A follower's fetch that names a stale leader epoch gets FENCED_LEADER_EPOCH."""
    with RawClient.connect(cluster.brokers[1].bootstrap) as client:
        topic = cluster.store.image.topic("busy")
        assert topic is not None
        stale = cluster.partition(1, "busy")(lambda p: p.leader_epoch) - 1
        request = fetch_msg.FetchRequest(
            replica_state=fetch_msg.ReplicaState(replica_id=2),
            max_wait_ms=0,
            session_id=0,
            session_epoch=-1,
            topics=[
                fetch_msg.FetchTopic(
                    topic_id=topic.topic_id,
                    partitions=[
                        fetch_msg.FetchPartition(
                            partition=0, current_leader_epoch=stale, fetch_offset=0, partition_max_bytes=1024
                        )
                    ],
                )
            ],
        )
        response = client.call(ApiKey.FETCH, 15, request)
    assert response.responses[0].partitions[0].error_code == ErrorCode.FENCED_LEADER_EPOCH
