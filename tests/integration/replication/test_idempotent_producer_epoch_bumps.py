"""librdkafka's own epoch bump after a legal sequence gap (librdkafka issue #4953), with a real
idempotent producer against one broker, made deterministic.

A leader refuses a request before appending it (here NOT_ENOUGH_REPLICAS: fewer in-sync replicas
than `min.insync.replicas`; in the lost-tail fault, NOT_LEADER_OR_FOLLOWER from a new leader that
has not read its election yet), the condition clears, and the next request of the same partition,
which the client sent before it saw the refusal, skips a sequence: the leader answers
OUT_OF_ORDER_SEQUENCE_NUMBER, as Kafka does. librdkafka then bumps its producer epoch for every
partition and sends every write it holds again from sequence 0 of the new epoch. A producer quota
holds the connection muted after the refusal (the throttle), so the condition clears while the
next requests wait on the broker: the race of a failover, made certain.

The fault tests read librdkafka's `debug=eos` account of it (`ClientLog`): this is the bump whose
duplicates they report apart, and the test checks that they recognise it. Nothing is written twice
here (no write was appended before the bump); the duplicate needs a write the old leader appended
and did not answer, which only a failover gives (docs/cluster.md, "Lost unflushed tail").
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.records import ClientQuotaRecord, ConfigRecord
from odradek.testing.cluster import LocalCluster
from odradek.testing.reliability import History, Write, check
from odradek.testing.reliability_workload import ClientLog, read_back

pytestmark = pytest.mark.compat
TOPIC = "bumps"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path, 1) as running:
        yield running


def min_insync(cluster: LocalCluster, value: int) -> None:
    cluster.store.apply([ConfigRecord(ConfigResourceType.TOPIC, TOPIC, "min.insync.replicas", str(value))])
    cluster.wait_for(
        lambda: cluster.partition(1, TOPIC)(lambda p: p.log.config.min_insync_replicas) == value,
        what=f"min.insync.replicas={value} on the broker",
    )


def test_a_sequence_gap_after_a_refusal_makes_librdkafka_bump_its_epoch(cluster: LocalCluster) -> None:
    cluster.create_topic(TOPIC, [(1,)], {"min.insync.replicas": "1"})
    bumps: list[tuple[str, bool]] = []
    history = History()
    producer = Producer(
        {
            "bootstrap.servers": cluster.bootstrap,
            "client.id": "bumpy",
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 100,  # the five writes below leave together, one batch (one request) each
            "batch.num.messages": 1,
            "debug": "eos",
            "log_level": 7,
            "logger": ClientLog(lambda reason, excused: bumps.append((reason, excused)), forward=False),
        }
    )

    def send(seq: int) -> None:
        write = Write("p", seq)
        history.attempt(write)

        def delivered(err: object, msg: object) -> None:
            if err is None:
                history.ack(write, msg.partition(), msg.offset())  # type: ignore[attr-defined]

        producer.produce(TOPIC, write.encode(), partition=0, on_delivery=delivered)
        producer.poll(0)

    for seq in range(3):  # the leader knows the producer: sequences 0-2
        send(seq)
    assert producer.flush(10) == 0
    # About 70 record bytes per request against 18 per second: the first answer holds the
    # connection muted for about 3 s, with the other four requests read and waiting. (The broker's
    # image has the quota once it has the config change below, applied after it.)
    cluster.store.apply([ClientQuotaRecord(("client-id",), ("bumpy",), "producer_byte_rate", 18.0)])
    min_insync(cluster, 2)  # one replica: acks=all writes are refused before the append
    for seq in range(3, 8):
        send(seq)
    time.sleep(0.5)
    min_insync(cluster, 1)  # the refusal's condition clears before the next request is read
    cluster.store.apply(
        [ClientQuotaRecord(("client-id",), ("bumpy",), "producer_byte_rate", 0.0, remove=True)]
    )
    assert producer.flush(30) == 0
    assert bumps, "librdkafka did not bump its epoch"
    reason, excused = bumps[0]
    assert excused and "NOT_ENOUGH_REPLICAS" in reason, bumps
    read_back(cluster.bootstrap, TOPIC, 1, history)
    report = check(history)
    assert report.ok and report.acknowledged == 8 and report.read == 8, report.summary()
