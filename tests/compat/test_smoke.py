"""The first things a newcomer does: list metadata with kcat, produce and consume with librdkafka."""

from __future__ import annotations

import subprocess

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

pytestmark = pytest.mark.compat


def test_kcat_lists_metadata(bootstrap: str) -> None:
    out = subprocess.run(
        ["kcat", "-b", bootstrap, "-L"], capture_output=True, text=True, timeout=30, check=True
    )
    assert "1 brokers:" in out.stdout
    assert f"broker 1 at {bootstrap} (controller)" in out.stdout


def test_confluent_kafka_round_trip(bootstrap: str, topic_name: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    delivered: list[tuple[int, int]] = []
    for i in range(100):
        producer.produce(
            topic_name,
            key=f"k{i}".encode(),
            value=f"v{i}".encode(),
            headers=[("n", str(i).encode())],
            on_delivery=lambda err, m: delivered.append((m.partition(), m.offset())) if err is None else None,
        )
    assert producer.flush(30) == 0
    assert sorted(delivered) == [(0, i) for i in range(100)]

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic_name, 0, 0)])
    seen = []
    while len(seen) < 100:
        batch = consumer.consume(100, timeout=10)
        assert batch, f"stalled after {len(seen)} records"
        for m in batch:
            assert m.error() is None
            seen.append((m.offset(), m.key(), m.value(), m.headers()))
    consumer.close()
    assert seen == [(i, f"k{i}".encode(), f"v{i}".encode(), [("n", str(i).encode())]) for i in range(100)]
