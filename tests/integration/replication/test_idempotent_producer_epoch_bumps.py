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
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Producer

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.records import ConfigRecord
from odradek.metadata.security_records import ClientQuotaRecord
from odradek.testing.cluster import LocalCluster
from odradek.testing.fault_cluster import listener_port
from odradek.testing.reliability import History, Write, check
from odradek.testing.reliability_workload import ClientLog, read_back
from odradek.testing.tcp_proxy import TcpProxy

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


def make_a_sequence_gap(cluster: LocalCluster, send: Callable[[int], object]) -> None:
    """Writes 3-7 to a partition whose leader refuses them before the append (min.insync.replicas 2
    on one replica), under a producer quota of 18 bytes/s: each answer mutes the connection for
    3-4 s (about 70 record bytes a request), so the requests librdkafka has sent meanwhile wait on
    the broker, read. After 5 s the refusal's condition clears: the next request the broker takes
    is one of 4-7 (write 3's own retry queues behind them), whose sequence skips write 3."""
    cluster.store.apply([ClientQuotaRecord(("client-id",), ("bumpy",), "producer_byte_rate", 18.0)])
    min_insync(cluster, 2)  # the broker's image has the quota once it has this change
    send(3)
    time.sleep(0.3)
    for seq in range(4, 8):
        send(seq)
    time.sleep(5)
    min_insync(cluster, 1)
    cluster.store.apply(
        [ClientQuotaRecord(("client-id",), ("bumpy",), "producer_byte_rate", 0.0, remove=True)]
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
            "batch.num.messages": 1,  # one write per request
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
    make_a_sequence_gap(cluster, send)
    assert producer.flush(30) == 0
    assert bumps, "librdkafka did not bump its epoch"
    reason, excused = bumps[0]
    assert excused and "skipped sequence numbers" in reason, bumps
    read_back(cluster.bootstrap, TOPIC, 1, history)
    report = check(history)
    assert report.ok and report.acknowledged == 8 and report.read == 8, report.summary()


def test_the_bump_writes_twice_a_write_whose_answer_was_lost(tmp_path: Path) -> None:
    """The lost-tail duplicate, made deterministic with two brokers (one partition each, one
    connection each): broker 1 appends a write W of partition 0 and the connection is cut before
    its answer reaches the client (W: possibly persisted, waiting for a retry); meanwhile partition
    1 on broker 2 gets the legal sequence gap above, so librdkafka bumps its epoch and sends W again
    as epoch 1 sequence 0, which broker 1 rightly appends: W is in the log twice. The fault tests'
    checker reports it apart because librdkafka's log says why it bumped; without that account it
    is a duplicate."""
    proxy = TcpProxy().start()
    port = listener_port()
    proxy.target = ("127.0.0.1", port)
    per_broker = {
        1: {
            "listeners": f"PLAINTEXT://127.0.0.1:{port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{proxy.port}",
        }
    }
    bumps: list[tuple[str, bool]] = []
    history = History()
    unacknowledged: set[Write] = set()

    def bumped(reason: str, excused: bool) -> None:
        bumps.append((reason, excused))
        history.epoch_bumped(set(unacknowledged), reason, excused=excused)

    with LocalCluster(tmp_path, 2, per_broker=per_broker) as cluster:
        try:
            cluster.create_topic(TOPIC, [(1,), (2,)], {"min.insync.replicas": "1"})
            producer = Producer(
                {
                    "bootstrap.servers": cluster.brokers[2].bootstrap,
                    "client.id": "bumpy",
                    "acks": "all",
                    "enable.idempotence": True,
                    "batch.num.messages": 1,
                    "debug": "eos",
                    "log_level": 7,
                    "logger": ClientLog(bumped, forward=False),
                }
            )

            def send(seq: int, partition: int) -> Write:
                write = Write(f"p{partition}", seq)
                history.attempt(write)
                unacknowledged.add(write)

                def delivered(err: object, msg: object) -> None:
                    unacknowledged.discard(write)
                    if err is None:
                        history.ack(write, msg.partition(), msg.offset())  # type: ignore[attr-defined]

                producer.produce(TOPIC, write.encode(), partition=partition, on_delivery=delivered)
                producer.poll(0)
                return write

            for seq in range(3):
                send(seq, 0)
                send(seq, 1)
            assert producer.flush(10) == 0

            def end_offset() -> int:
                return int(cluster.partition(1, TOPIC, 0)(lambda p: p.log.log_end_offset))

            proxy.delay(2.0)  # W reaches broker 1 2 s late, and its answer would too
            w = send(3, 0)
            cluster.wait_for(lambda: end_offset() == 4, what="W appended on broker 1")
            proxy.partition()  # cut before the answer arrives; broker 1 unreachable meanwhile

            make_a_sequence_gap(cluster, lambda seq: send(seq, 1))
            # librdkafka's log and delivery reports are served by poll
            cluster.wait_for(lambda: producer.poll(0.1) >= 0 and bool(bumps), what="librdkafka's epoch bump")
            proxy.heal()  # W goes out again, as epoch 1 sequence 0
            assert producer.flush(30) == 0
            assert end_offset() == 5
            read_back(cluster.bootstrap, TOPIC, 2, history)
        finally:
            proxy.stop()
    assert bumps[0][1], bumps
    report = check(history)
    assert report.ok, report.summary()
    assert report.duplicates_after_epoch_bump == [w] and (report.acknowledged, report.read) == (12, 13), (
        report.summary()
    )
    history.resent_after_bump.clear()  # without librdkafka's account: a duplicate
    assert check(history).duplicates == [w]
