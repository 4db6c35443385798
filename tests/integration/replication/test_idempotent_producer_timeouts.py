"""What an idempotent acks=all producer (librdkafka) is guaranteed when a partition cannot commit for
a while: its follower in the ISR is down (RF=2, min.insync.replicas=2), so the leader appends each
batch and holds the answer until the follower is back.

* While nothing times out on the client, every retry is the same batch under the same producer
  epoch and sequence numbers: the leader answers it from its producer state (the original offsets)
  and nothing is written twice. Every write is acknowledged exactly once.
* Once writes stay unanswered past `message.timeout.ms`, librdkafka fails them (_MSG_TIMED_OUT,
  "possibly persisted"), bumps its producer epoch and sends the writes it still holds again under
  the new epoch from sequence 0. Some of those were already appended: a broker cannot recognise
  them (a new epoch starting at sequence 0 is a legal new series; Apache Kafka's producer state
  matches duplicates only within one epoch), so they are written twice. The checker reports them
  as duplicates after a client timeout; a duplicate of a write that no earlier timeout explains
  would still fail.

docs/cluster.md ("What idempotence guarantees") explains this to users.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Producer

from odradek.testing.cluster import LocalCluster
from odradek.testing.reliability import History, Write, check
from odradek.testing.reliability_workload import read_back

OVERRIDES = {
    "replica.lag.time.max.ms": "60000",  # the dead follower stays in the ISR: appends wait for it
    "replica.fetch.wait.max.ms": "200",
    "replica.fetch.backoff.ms": "100",
}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path, 2, OVERRIDES) as running:
        yield running


def write_while_follower_down(
    cluster: LocalCluster, topic: str, name: str, message_timeout_ms: int, down_s: float
) -> History:
    """Write 40 values (one every 50 ms) while broker 2, the follower, is down for `down_s`."""
    cluster.create_topic(topic, [(1, 2)], {"min.insync.replicas": "2"})
    cluster.stop_broker(2)  # before the producer exists: it must not meet a broker that is stopping
    stopped = time.monotonic()
    history = History()
    producer = Producer(
        {
            "bootstrap.servers": cluster.brokers[1].bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "message.timeout.ms": message_timeout_ms,
            "linger.ms": 5,
        }
    )

    def delivered(write: Write) -> object:
        def on_delivery(err: KafkaError | None, msg: object) -> None:
            if err is None:
                history.ack(write, 0, msg.offset())  # type: ignore[attr-defined]
            elif err.code() == KafkaError._MSG_TIMED_OUT:
                history.time_out(write, 0)

        return on_delivery

    for seq in range(40):
        write = Write(name, seq)
        history.attempt(write)
        producer.produce(topic, write.encode(), partition=0, on_delivery=delivered(write))
        producer.poll(0.05)
    time.sleep(max(0.0, down_s - (time.monotonic() - stopped)))
    cluster.start_broker(2)
    assert producer.flush(message_timeout_ms / 1000 + 30) == 0
    end = cluster.partition(1, topic)(lambda p: p.log.log_end_offset)
    cluster.wait_for(lambda: cluster.partition(1, topic)(lambda p: p.high_watermark) == end, 30, "commit")
    read_back(cluster.bootstrap, topic, 1, history)
    return history


def test_retries_within_the_message_timeout_are_written_once(cluster: LocalCluster) -> None:
    history = write_while_follower_down(cluster, "patient", "p", message_timeout_ms=60_000, down_s=3)
    report = check(history)
    assert report.ok, report.summary()
    assert report.acknowledged == 40 and report.read == 40, report.summary()
    assert report.timed_out == 0 and report.duplicates_after_timeout == []


def test_after_a_client_timeout_only_the_writes_it_resends_are_duplicated(cluster: LocalCluster) -> None:
    history = write_while_follower_down(cluster, "hasty", "h", message_timeout_ms=1500, down_s=5)
    report = check(history)
    assert report.timed_out > 0, report.summary()
    # the exact guarantee: no acknowledged write lost, no duplicate that no timeout explains
    assert report.ok, report.summary()
    # and what librdkafka does (documented in docs/cluster.md): writes appended under the old epoch
    # are appended again under the bumped one
    assert report.duplicates_after_timeout, report.summary()
