"""The three delivery guarantees, each shown with confluent-kafka under connection faults.

Every test sends the numbers 0..N-1 as values through `TcpProxy` (the broker advertises the proxy,
so the client cannot bypass it) while the proxy cuts connections mid-stream, then reads the
partition back and checks what its guarantee promises.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from confluent_kafka import KafkaError, Message, Producer
from eos_clients import bootstrap_of, conf, create_topic, proxied_broker, read_to_end, values

from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat

N = 2000


def numbers(n: int = N) -> list[bytes]:
    return [b"%06d" % i for i in range(n)]


def send_slowly(producer: Producer, topic: str, sent: list[bytes], acked: list[bytes]) -> None:
    def report(err: KafkaError | None, msg: Message) -> None:
        if err is None:
            value = msg.value()
            assert value is not None
            acked.append(value)

    for value in sent:
        while True:
            try:
                producer.produce(topic, value=value, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
        if int(value) % 100 == 0:
            time.sleep(0.03)  # many requests over many connections, so the faults hit mid-stream
    producer.flush(60)


def is_subsequence(part: list[bytes | None], whole: list[bytes]) -> bool:
    it = iter(whole)
    return all(any(x == y for y in it) for x in part)


def test_at_most_once_may_lose_but_never_duplicates(
    broker_factory: Callable[..., BrokerProcess], topic_name: str
) -> None:
    """At most once: acks=0 and no retries. A request torn by a dropped connection is lost and never
    sent again, so records may be missing; nothing is ever written twice, and order is kept."""
    _broker, proxy = proxied_broker(broker_factory)
    try:
        bootstrap = bootstrap_of(proxy)
        create_topic(bootstrap, topic_name)
        producer = Producer(
            conf(bootstrap, acks=0, retries=0, **{"enable.idempotence": False, "batch.num.messages": 50})
        )
        proxy.drop_requests(after_bytes=(100, 3000), times=10, seed=3)
        sent: list[bytes] = []
        send_slowly(producer, topic_name, numbers(), sent)
        proxy.heal()
        got = values(read_to_end(bootstrap, topic_name, "read_uncommitted"))
        assert proxy.drops >= 1, "the fault was not exercised"
        assert len(set(got)) == len(got), "a record was written twice"
        assert is_subsequence(got, numbers())
        assert len(got) < N, "torn requests should have lost records"
    finally:
        proxy.stop()


def test_at_least_once_never_loses_acknowledged_records_but_may_duplicate(
    broker_factory: Callable[..., BrokerProcess], topic_name: str
) -> None:
    """At least once: acks=all with retries, idempotence off. A produce whose response is lost is
    retried and may be written twice; every acknowledged record is in the log."""
    _broker, proxy = proxied_broker(broker_factory)
    try:
        bootstrap = bootstrap_of(proxy)
        create_topic(bootstrap, topic_name)
        producer = Producer(
            conf(
                bootstrap,
                acks="all",
                retries=1000,
                **{"enable.idempotence": False, "batch.num.messages": 50, "retry.backoff.ms": 20},
            )
        )
        proxy.drop_responses(after_bytes=(60, 800), times=15, seed=5)
        acked: list[bytes] = []
        send_slowly(producer, topic_name, numbers(), acked)
        proxy.heal()
        got = values(read_to_end(bootstrap, topic_name, "read_uncommitted"))
        assert proxy.drops >= 5, "the fault was not exercised"
        assert sorted(acked) == numbers(), "every record is acknowledged in the end"
        assert set(got) == set(numbers()), "an acknowledged record is missing"
        assert len(got) >= N  # duplicates are allowed (and usually present after such faults)
    finally:
        proxy.stop()


def test_exactly_once_with_idempotent_transactions(
    broker_factory: Callable[..., BrokerProcess], topic_name: str
) -> None:
    """Exactly once: a transactional (hence idempotent) producer and a read_committed consumer. Lost
    responses make the client retry produces, AddPartitionsToTxn and EndTxn; the broker answers
    duplicates with their original offsets, so every committed record is read exactly once, in
    order."""
    _broker, proxy = proxied_broker(broker_factory)
    try:
        bootstrap = bootstrap_of(proxy)
        create_topic(bootstrap, topic_name)
        producer = Producer(
            conf(
                bootstrap,
                **{"transactional.id": f"{topic_name}-tx", "batch.num.messages": 50, "retry.backoff.ms": 20},
            )
        )
        producer.init_transactions(30)
        proxy.drop_responses(after_bytes=(60, 800), times=15, seed=9)
        sent = numbers()
        for start in range(0, N, 200):
            producer.begin_transaction()
            acked: list[bytes] = []
            send_slowly(producer, topic_name, sent[start : start + 200], acked)
            producer.commit_transaction(60)
        proxy.heal()
        assert proxy.drops >= 5, "the fault was not exercised"
        assert values(read_to_end(bootstrap, topic_name, "read_committed")) == sent
    finally:
        proxy.stop()
