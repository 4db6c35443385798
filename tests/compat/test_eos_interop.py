"""Transactions across clients: kafka-python and aiokafka transactional producers, read by
librdkafka at both isolation levels, and librdkafka's transactions read by kafka-python and aiokafka
consumers at read_committed."""

from __future__ import annotations

import asyncio
import time

import pytest
from compat_clients import KAFKA_PYTHON_WARNINGS, aiokafka, kafka
from confluent_kafka import Producer
from eos_clients import conf, create_topic, read_to_end, values

pytestmark = [pytest.mark.compat, KAFKA_PYTHON_WARNINGS]

COMMITTED = [b"c-%d" % i for i in range(5)]
ABORTED = [b"a-%d" % i for i in range(3)]
LATER = [b"late-%d" % i for i in range(2)]


def check(bootstrap: str, topic: str) -> None:
    assert values(read_to_end(bootstrap, topic, "read_committed")) == COMMITTED + LATER
    assert values(read_to_end(bootstrap, topic, "read_uncommitted")) == COMMITTED + ABORTED + LATER


def test_kafka_python_transactional_producer(bootstrap: str, topic_name: str) -> None:
    create_topic(bootstrap, topic_name)
    producer = kafka.KafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"{topic_name}-kp")
    try:
        producer.init_transactions()
        for batch, commit in ((COMMITTED, True), (ABORTED, False), (LATER, True)):
            producer.begin_transaction()
            for value in batch:
                producer.send(topic_name, value=value, partition=0)
            producer.flush()
            if commit:
                producer.commit_transaction()
            else:
                producer.abort_transaction()
    finally:
        producer.close()
    check(bootstrap, topic_name)


def test_aiokafka_transactional_producer(bootstrap: str, topic_name: str) -> None:
    create_topic(bootstrap, topic_name)

    async def produce() -> None:
        producer = aiokafka.AIOKafkaProducer(
            bootstrap_servers=bootstrap, transactional_id=f"{topic_name}-aio"
        )
        await producer.start()
        try:
            for batch, commit in ((COMMITTED, True), (ABORTED, False), (LATER, True)):
                await producer.begin_transaction()
                for value in batch:
                    await producer.send_and_wait(topic_name, value=value, partition=0)
                if commit:
                    await producer.commit_transaction()
                else:
                    await producer.abort_transaction()
        finally:
            await producer.stop()

    asyncio.run(produce())
    check(bootstrap, topic_name)


def librdkafka_transactions(bootstrap: str, topic: str) -> None:
    producer = Producer(conf(bootstrap, **{"transactional.id": f"{topic}-rd"}))
    producer.init_transactions(30)
    for batch, commit in ((COMMITTED, True), (ABORTED, False), (LATER, True)):
        producer.begin_transaction()
        for value in batch:
            producer.produce(topic, value=value, partition=0)
        producer.flush(30)
        if commit:
            producer.commit_transaction(30)
        else:
            producer.abort_transaction(30)


def test_kafka_python_and_aiokafka_read_committed_skip_librdkafkas_aborted_data(
    bootstrap: str, topic_name: str
) -> None:
    create_topic(bootstrap, topic_name)
    librdkafka_transactions(bootstrap, topic_name)
    tp = kafka.TopicPartition(topic_name, 0)
    consumer = kafka.KafkaConsumer(
        bootstrap_servers=bootstrap, isolation_level="read_committed", enable_auto_commit=False
    )
    try:
        consumer.assign([tp])
        consumer.seek(tp, 0)
        got: list[bytes] = []
        deadline = time.monotonic() + 20
        while len(got) < len(COMMITTED + LATER) and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                got += [r.value for r in records]
        assert got == COMMITTED + LATER
        assert consumer.poll(timeout_ms=300) == {}
    finally:
        consumer.close()

    async def consume() -> list[bytes]:
        consumer = aiokafka.AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed")
        await consumer.start()
        try:
            atp = aiokafka.TopicPartition(topic_name, 0)
            consumer.assign([atp])
            consumer.seek(atp, 0)
            out: list[bytes] = []
            while len(out) < len(COMMITTED + LATER):
                batch = await asyncio.wait_for(consumer.getmany(timeout_ms=200), 20)
                out += [r.value for records in batch.values() for r in records]
            assert await consumer.getmany(timeout_ms=300) == {}
            return out
        finally:
            await consumer.stop()

    assert asyncio.run(consume()) == COMMITTED + LATER
