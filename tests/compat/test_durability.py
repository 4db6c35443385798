"""Acknowledged means kept: across a clean restart (SIGTERM) and across kill -9.

With acks=all a delivery report means the batch reached the OS (ARCHITECTURE D2), so a process
crash (SIGKILL) must lose none of it: every acknowledged record is read back at the offset it was
acknowledged with, with the same bytes. Records in flight at the kill may or may not be there (and
librdkafka, without idempotence, may write a retried one twice); that is allowed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from compat_clients import Out, consume_confluent, consumer_confluent, expected_recs, produce_confluent
from confluent_kafka import KafkaError, Message, Producer, TopicPartition

from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat


def read_everything(
    bootstrap: str, topic: str, partitions: int
) -> dict[tuple[int, int], tuple[bytes | None, bytes]]:
    """(partition, offset) -> (key, value) for every record up to each partition's end."""
    consumer = consumer_confluent(bootstrap, **{"enable.partition.eof": True})
    try:
        ends = [
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)
        ]
        consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions) if ends[p] > 0])
        out: dict[tuple[int, int], tuple[bytes | None, bytes]] = {}
        done = {p for p in range(partitions) if ends[p] == 0}
        deadline = time.monotonic() + 20
        while len(done) < partitions:
            assert time.monotonic() < deadline, f"stalled: {len(out)} records, done {done}"
            for m in consumer.consume(10000, timeout=0.2):
                if m.error() is not None:
                    assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
                    if m.offset() >= ends[m.partition()]:
                        done.add(m.partition())
                    continue
                out[(m.partition(), m.offset())] = (m.key(), m.value())
        return out
    finally:
        consumer.close()


def test_clean_restart_keeps_everything(
    broker_factory: Callable[..., BrokerProcess], topic_name: str
) -> None:
    broker = broker_factory()
    records = [
        Out(f"k{i}".encode(), f"value-{i}".encode() * (i % 9 + 1), timestamp=1_700_000_000_000 + i)
        for i in range(2000)
    ]
    placed = produce_confluent(broker.bootstrap, topic_name, records, acks="all")
    assert broker.stop() == 0  # SIGTERM: a clean shutdown
    assert (broker.data_dir / ".kafka_cleanshutdown").exists()
    broker.start()
    assert not any("unclean" in line for line in broker.lines), "a clean stop must not need recovery"
    assert consume_confluent(broker.bootstrap, topic_name, 2000) == expected_recs(records, placed)
    more = [Out(b"after", b"restart")]
    assert produce_confluent(broker.bootstrap, topic_name, more, acks="all") == [(0, 2000)]


class AckingProducer:
    """Produces unique values with acks=all in a thread and records what the broker acknowledged."""

    def __init__(self, bootstrap: str, topic: str, partitions: int) -> None:
        self.topic = topic
        self.partitions = partitions
        self.acked: dict[tuple[int, int], bytes] = {}
        self.failed = 0
        self.sent = 0
        self._stop = threading.Event()
        self._producer = Producer(
            {
                "bootstrap.servers": bootstrap,
                "acks": "all",
                "linger.ms": 2,
                "message.timeout.ms": 25000,
                "reconnect.backoff.ms": 20,
                "reconnect.backoff.max.ms": 200,
                "retry.backoff.ms": 20,
                "retry.backoff.max.ms": 200,
            }
        )
        self._thread = threading.Thread(target=self._run, name="acking-producer")

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        if err is None:
            value = msg.value()
            assert value is not None
            self.acked[(msg.partition(), msg.offset())] = value
        else:
            self.failed += 1

    def _run(self) -> None:
        producer = self._producer
        while not self._stop.is_set():
            value = f"seq-{self.sent:09d}-".encode() + b"#" * (self.sent % 200)
            try:
                producer.produce(
                    self.topic,
                    value=value,
                    partition=self.sent % self.partitions,
                    on_delivery=self._on_delivery,
                )
            except BufferError:
                producer.poll(0.05)
                continue
            self.sent += 1
            producer.poll(0)
            if len(producer) > 5000:
                producer.poll(0.02)
        producer.flush(30)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)
        assert not self._thread.is_alive()

    def wait_for_acks(self, more: int, timeout: float = 60) -> None:
        target = len(self.acked) + more
        deadline = time.monotonic() + timeout
        while len(self.acked) < target:
            assert time.monotonic() < deadline, f"only {len(self.acked)} of {target} acknowledged"
            time.sleep(0.02)


def test_kill_9_loses_nothing_acknowledged(broker_factory: Callable[..., BrokerProcess]) -> None:
    broker = broker_factory({"num.partitions": "2"})
    topic = "crashy"
    producer = AckingProducer(broker.bootstrap, topic, partitions=2)
    producer.start()
    try:
        for _ in range(3):
            producer.wait_for_acks(500)
            broker.kill()  # SIGKILL mid-stream: batches are in flight
            broker.start()  # same data directory, same port
            assert any("unclean shutdown" in line for line in broker.lines), broker.lines[-5:]
        producer.wait_for_acks(500)
    finally:
        producer.stop()
    assert producer.failed == 0
    stored = read_everything(broker.bootstrap, topic, 2)
    missing = [tp for tp in producer.acked if tp not in stored]
    assert missing == []
    changed = [tp for tp, value in producer.acked.items() if stored[tp][1] != value]
    assert changed == []
    # every acknowledged value is there exactly at its offset; a value may appear once more only
    # if its first write was not acknowledged (a retry after the kill)
    positions: dict[bytes, list[tuple[int, int]]] = {}
    for tp, (_key, value) in stored.items():
        positions.setdefault(value, []).append(tp)
    assert all(len(where) <= 2 for where in positions.values())
    assert len(producer.acked) >= 2000
