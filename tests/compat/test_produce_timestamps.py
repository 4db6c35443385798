"""librdkafka against `message.timestamp.before.max.ms` / `.after.max.ms` (KIP-937): a batch with a
CreateTime timestamp out of bounds fails with INVALID_TIMESTAMP; LogAppendTime topics take anything."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import KafkaError, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

pytestmark = pytest.mark.compat

HOUR = 3_600_000


def create(bootstrap: str, topic: str, **configs: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1, config=configs)])[topic].result(timeout=30)


def produce(bootstrap: str, topic: str, timestamps: list[int]) -> list[tuple[int | None, int]]:
    """(error code or None, offset) per record, in order; one batch per record (linger 0)."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "message.timeout.ms": 10_000})
    outcomes: list[tuple[int | None, int]] = []

    def report(err: KafkaError | None, msg: Message) -> None:
        outcomes.append((None if err is None else err.code(), -1 if err else msg.offset()))

    for i, ts in enumerate(timestamps):
        producer.produce(topic, value=b"v%d" % i, timestamp=ts, on_delivery=report)
        assert producer.flush(15) == 0
    return outcomes


def now_ms() -> int:
    return int(time.time() * 1000)


def test_default_topic_refuses_two_hours_ahead_and_takes_within_the_hour(
    bootstrap: str, topic_name: str
) -> None:
    create(bootstrap, topic_name)
    now = now_ms()
    got = produce(bootstrap, topic_name, [now + 2 * HOUR, now + HOUR // 2, now - 30 * 24 * HOUR])
    assert got == [(KafkaError.INVALID_TIMESTAMP, -1), (None, 0), (None, 1)]


def test_before_max_ms_refuses_old_timestamps(bootstrap: str, topic_name: str) -> None:
    create(bootstrap, topic_name, **{"message.timestamp.before.max.ms": "60000"})
    now = now_ms()
    got = produce(bootstrap, topic_name, [now - 10 * 60_000, now - 1000, now + 2 * HOUR])
    assert got == [(KafkaError.INVALID_TIMESTAMP, -1), (None, 0), (KafkaError.INVALID_TIMESTAMP, -1)]


def test_log_append_time_topics_accept_both(bootstrap: str, topic_name: str) -> None:
    create(
        bootstrap,
        topic_name,
        **{"message.timestamp.type": "LogAppendTime", "message.timestamp.before.max.ms": "60000"},
    )
    now = now_ms()
    got = produce(bootstrap, topic_name, [now + 2 * HOUR, now - 10 * 60_000])
    assert got == [(None, 0), (None, 1)]
