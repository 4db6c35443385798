"""Incremental fetch sessions (KIP-227) with a client that uses them.

librdkafka (even 2.16) always sends SessionId 0 / epoch -1, i.e. full fetches without a session;
kafka-python keeps one session per broker and sends only what changed. With many partitions, data
trickling into a few of them, and partitions dropped (forgotten topics) and taken back, everything
must still be consumed exactly once, in order, without the client ever having to fall back to a
full fetch because of an invalid session response.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import pytest
from compat_clients import KAFKA_PYTHON_WARNINGS, Out, produce_confluent
from confluent_kafka import Producer
from kafka import KafkaConsumer
from kafka import TopicPartition as KTopicPartition

from odradek.testing.broker_process import BrokerProcess

pytestmark = [pytest.mark.compat, KAFKA_PYTHON_WARNINGS]

N_PARTS = 48


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def fetcher_log() -> Iterator[_Lines]:
    logger = logging.getLogger("kafka.consumer.fetcher")
    handler = _Lines()
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(previous)


def test_incremental_fetch_sessions_across_many_partitions(
    broker_factory: Callable[..., BrokerProcess], fetcher_log: _Lines
) -> None:
    bootstrap = broker_factory({"num.partitions": str(N_PARTS)}).bootstrap
    topic = "many"
    produce_confluent(bootstrap, topic, [Out(None, b"create", partition=0)])
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, fetch_max_wait_ms=100, enable_auto_commit=False
    )
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 1})
    expected: dict[int, list[bytes]] = {p: [] for p in range(N_PARTS)}
    expected[0].append(b"create")
    got: dict[int, list[tuple[int, bytes]]] = {p: [] for p in range(N_PARTS)}
    tps = {p: KTopicPartition(topic, p) for p in range(N_PARTS)}
    assigned = set(range(N_PARTS))

    def assign(partitions: set[int]) -> None:
        consumer.assign([tps[p] for p in sorted(partitions)])
        for p in partitions:
            consumer.seek(tps[p], len(got[p]))

    try:
        assign(assigned)
        for rnd in range(12):
            if rnd == 4:  # drop a third of the partitions: they leave the session (forgotten topics)
                assigned -= {p for p in range(N_PARTS) if p % 3 == 1}
                assign(assigned)
            if rnd == 8:  # and take them back from where we stopped
                assigned = set(range(N_PARTS))
                assign(assigned)
            for k in range(rnd % 4 + 1):
                p = (rnd * 7 + k * 5) % N_PARTS
                value = f"r{rnd}-p{p}-{len(expected[p])}".encode()
                expected[p].append(value)
                producer.produce(topic, value=value, partition=p)
            assert producer.flush(10) == 0
            want = sum(len(expected[p]) for p in assigned)
            deadline = time.monotonic() + 10
            while sum(len(got[p]) for p in assigned) < want:
                assert time.monotonic() < deadline, f"round {rnd}: stalled"
                for tp, records in consumer.poll(timeout_ms=200).items():
                    got[tp.partition].extend((r.offset, r.value) for r in records)
    finally:
        consumer.close()
    for p in range(N_PARTS):
        assert [v for _, v in got[p]] == expected[p], p
        assert [o for o, _ in got[p]] == list(range(len(expected[p]))), p
    created = [line for line in fetcher_log.lines if "created a new incremental fetch session" in line]
    continued = [
        line for line in fetcher_log.lines if "sent an incremental fetch response for session" in line
    ]
    trouble = [
        line
        for line in fetcher_log.lines
        if "invalid" in line or "unable to process" in line or "closing session" in line
    ]
    built = [line for line in fetcher_log.lines if line.startswith("Built incremental fetch")]
    assert created, fetcher_log.lines[-20:]
    assert len(continued) >= 8, len(continued)
    # the session saw partitions removed (forgotten topics) and added back, not only data changes
    assert any("removed set()" not in line for line in built)
    assert any("Added set()" not in line for line in built)
    assert trouble == []
