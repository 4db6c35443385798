"""Log compaction seen by librdkafka: after the cleaner ran, a consumer reading from the beginning
gets only the latest value of each key, at the offset it was produced at.

Until CreateTopics lands, the topic is auto-created with the broker defaults made compacting
(`log.cleanup.policy=compact`), segments rolled by time (`log.roll.ms`; `segment.bytes` cannot go
below 1 MiB) and the cleaner woken every 200 ms.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, Producer, TopicPartition

from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat

ROLL_MS = 200
KEYS = [b"user-%d" % i for i in range(5)]
ROUNDS = 4

COMPACTING_BROKER = {
    "num.partitions": "1",
    "log.cleanup.policy": "compact",
    "log.roll.ms": str(ROLL_MS),
    "log.cleaner.backoff.ms": "200",
    "log.cleaner.min.cleanable.ratio": "0.01",
}


def read_all(bootstrap: str, topic: str, end: int) -> list[tuple[int, bytes | None, bytes | None]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    seen: list[tuple[int, bytes | None, bytes | None]] = []
    deadline = time.monotonic() + 15
    while (not seen or seen[-1][0] < end - 1) and time.monotonic() < deadline:
        for m in consumer.consume(100, timeout=1):
            if m.error() is None:
                seen.append((m.offset(), m.key(), m.value()))
    consumer.close()
    return seen


def produce_round(producer: Producer, topic: str, pairs: list[tuple[bytes, bytes]]) -> list[int]:
    offsets: list[int] = []

    def delivered(err: KafkaError | None, m: Message) -> None:
        assert err is None, err
        offsets.append(m.offset())

    for key, value in pairs:
        producer.produce(topic, key=key, value=value, on_delivery=delivered)
    assert producer.flush(30) == 0
    return offsets


def test_consumers_read_only_the_latest_value_of_each_key(
    broker_factory: Callable[..., BrokerProcess], topic_name: str
) -> None:
    broker = broker_factory(COMPACTING_BROKER)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 0})
    latest: dict[bytes, tuple[int, bytes]] = {}
    for r in range(ROUNDS):
        pairs = [(key, b"%s=%d" % (key, r)) for key in KEYS]
        for (key, value), offset in zip(pairs, produce_round(producer, topic_name, pairs), strict=True):
            latest[key] = (offset, value)
        time.sleep(2 * ROLL_MS / 1000)  # the next round starts a new segment
    # One more record rolls the last round's segment: everything before it may now be cleaned.
    (end_offset,) = produce_round(producer, topic_name, [(b"end", b"x")])
    assert end_offset == ROUNDS * len(KEYS)
    expected = sorted(
        [(offset, key, value) for key, (offset, value) in latest.items()] + [(end_offset, b"end", b"x")]
    )

    deadline = time.monotonic() + 20
    seen = read_all(broker.bootstrap, topic_name, end_offset + 1)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.3)
        seen = read_all(broker.bootstrap, topic_name, end_offset + 1)
    assert seen == expected
    assert any("cleaned " in line and topic_name in line for line in broker.lines)


def test_a_compacted_topic_rejects_records_without_a_key(
    broker_factory: Callable[..., BrokerProcess], topic_name: str
) -> None:
    broker = broker_factory(COMPACTING_BROKER)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 0, "retries": 0})
    produce_round(producer, topic_name, [(b"k", b"v")])  # creates the topic
    errors: list[KafkaError] = []
    producer.produce(topic_name, value=b"no key", on_delivery=lambda err, m: errors.append(err))
    assert producer.flush(30) == 0
    assert len(errors) == 1 and errors[0] is not None
    assert errors[0].code() == KafkaError.INVALID_RECORD
