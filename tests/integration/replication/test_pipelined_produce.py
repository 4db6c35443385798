"""A producer's acks=all Produce requests on one connection are appended while the ones before them
wait for the followers, and answered in order (`AfterAppend`, docs/adr/0008-pipelined-produce-answers.md).

Three brokers in this process, real clients over loopback (confluent-kafka, idempotent, up to 5
requests in flight). The partition's only follower is stopped (it stays in the ISR
for `replica.lag.time.max.ms`), so no write commits: each record is sent alone, and the leader's
log end shows that every request was appended while those before it were still unanswered (a
connection serving one request at a time would append one and wait). The follower comes back,
catches up, and the answers arrive in order with the offsets of the appends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
from confluent_kafka import KafkaError, Producer

from odradek.testing.cluster import LocalCluster

RECORDS = 4
OVERRIDES = {
    "replica.lag.time.max.ms": "60000",  # the stopped follower stays in the ISR meanwhile
    "replica.fetch.wait.max.ms": "200",
    "replica.fetch.backoff.ms": "50",
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path_factory.mktemp("pipelined"), 2, OVERRIDES) as running:
        yield running


def log_end(cluster: LocalCluster, topic: str) -> tuple[int, int]:
    state: tuple[int, int] = cluster.partition(1, topic)(lambda p: (p.log.log_end_offset, p.high_watermark))
    return state


def appended(cluster: LocalCluster, topic: str, count: int) -> bool:
    return log_end(cluster, topic)[0] == count


def hold_follower_then_release(
    cluster: LocalCluster, topic: str, send: Callable[[int], None], answered: Callable[[], int]
) -> None:
    """Creates `topic` (leader 1, follower 2), stops the follower, sends RECORDS records one at a
    time (each after the one before it was appended), then restarts the follower."""
    cluster.create_topic(topic, [(1, 2)], {"min.insync.replicas": "2"})
    cluster.stop_broker(2)
    try:
        for i in range(RECORDS):
            send(i)
            cluster.wait_for(
                partial(appended, cluster, topic, i + 1), timeout_s=15, what=f"record {i} appended"
            )
        assert log_end(cluster, topic) == (RECORDS, 0)  # all appended, none committed
        assert answered() == 0
    finally:
        cluster.start_broker(2)


def test_confluent_kafka_requests_are_appended_before_the_first_is_answered(cluster: LocalCluster) -> None:
    producer = Producer(
        {
            "bootstrap.servers": cluster.brokers[1].bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 0,
            "max.in.flight.requests.per.connection": 5,
            "message.timeout.ms": 60000,
        }
    )
    delivered: list[tuple[KafkaError | None, bytes | None, int]] = []
    lock = threading.Lock()

    def on_delivery(err: KafkaError | None, message: Any) -> None:
        with lock:
            delivered.append((err, message.value(), message.offset()))

    def send(i: int) -> None:
        producer.produce("pipelined", f"v{i}".encode(), on_delivery=on_delivery)
        producer.poll(0)

    hold_follower_then_release(cluster, "pipelined", send, lambda: len(delivered))
    assert producer.flush(60) == 0
    assert delivered == [(None, f"v{i}".encode(), i) for i in range(RECORDS)]
    cluster.wait_for(lambda: log_end(cluster, "pipelined") == (RECORDS, RECORDS), what="commit")
