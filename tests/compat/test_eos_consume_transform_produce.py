"""Consume-transform-produce, exactly once, with confluent-kafka: a consumer group reads the input, a
transactional producer writes the output and commits the consumed offsets in the same transaction
(`send_offsets_to_transaction`: AddOffsetsToTxn + TxnOffsetCommit). An aborted round leaves neither
output nor offsets behind, so the records are processed again and the output holds each exactly once.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from compat_clients import KAFKA_PYTHON_WARNINGS, aiokafka, kafka
from confluent_kafka import Consumer, Message, Producer, TopicPartition
from eos_clients import conf, create_topic, read_to_end, values

pytestmark = pytest.mark.compat

N = 60


def poll_n(consumer: Consumer, n: int, timeout: float = 30) -> list[Message]:
    out: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        assert time.monotonic() < deadline, f"got {len(out)} of {n} records"
        for m in consumer.consume(n - len(out), timeout=0.5):
            assert m.error() is None, m.error()
            out.append(m)
    return out


def committed_offset(consumer: Consumer, topic: str) -> int:
    [tp] = consumer.committed([TopicPartition(topic, 0)], timeout=10)
    return int(tp.offset)


def test_consume_transform_produce_commits_output_and_offsets_together(
    bootstrap: str, topic_name: str
) -> None:
    source, sink, group = f"{topic_name}-in", f"{topic_name}-out", f"{topic_name}-g"
    create_topic(bootstrap, source)
    create_topic(bootstrap, sink)
    feeder = Producer(conf(bootstrap))
    for i in range(N):
        feeder.produce(source, value=b"%d" % i)
    assert feeder.flush(30) == 0

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
        }
    )
    producer = Producer(conf(bootstrap, **{"transactional.id": f"{topic_name}-tx"}))
    producer.init_transactions(30)
    try:
        consumer.subscribe([source])

        def round_trip(count: int, commit: bool) -> None:
            batch = poll_n(consumer, count)
            producer.begin_transaction()
            for m in batch:
                value = m.value()
                assert value is not None
                producer.produce(sink, value=b"x" + value)
            producer.send_offsets_to_transaction(
                consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), 30
            )
            if commit:
                producer.commit_transaction(30)
            else:
                assert producer.flush(30) == 0  # the output reaches the log before the abort
                producer.abort_transaction(30)

        round_trip(25, commit=True)
        assert committed_offset(consumer, source) == 25
        round_trip(20, commit=False)  # a failed round: output and offsets are thrown away
        assert committed_offset(consumer, source) == 25
        consumer.seek(TopicPartition(source, 0, 25))  # ... and processing resumes from the last commit
        round_trip(N - 25, commit=True)
        assert committed_offset(consumer, source) == N
    finally:
        consumer.close()

    assert values(read_to_end(bootstrap, sink, "read_committed")) == [b"x%d" % i for i in range(N)]
    assert len(read_to_end(bootstrap, sink, "read_uncommitted")) == N + 20


@KAFKA_PYTHON_WARNINGS
def test_aiokafka_and_kafka_python_commit_offsets_in_their_transactions(
    bootstrap: str, topic_name: str
) -> None:
    """Offsets sent with only a group id (no group metadata): the old sendOffsetsToTransaction form."""
    source = f"{topic_name}-in"
    create_topic(bootstrap, source)

    async def aiokafka_round() -> None:
        producer = aiokafka.AIOKafkaProducer(
            bootstrap_servers=bootstrap, transactional_id=f"{topic_name}-aio"
        )
        await producer.start()
        try:
            await producer.begin_transaction()
            await producer.send_offsets_to_transaction({aiokafka.TopicPartition(source, 0): 7}, "aio-group")
            await producer.commit_transaction()
            await producer.begin_transaction()
            await producer.send_offsets_to_transaction({aiokafka.TopicPartition(source, 0): 9}, "aio-group")
            await producer.abort_transaction()
        finally:
            await producer.stop()

    asyncio.run(aiokafka_round())
    producer = kafka.KafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"{topic_name}-kp")
    try:
        producer.init_transactions()
        producer.begin_transaction()
        producer.send_offsets_to_transaction(
            {kafka.TopicPartition(source, 0): kafka.OffsetAndMetadata(11, "", -1)}, "kp-group"
        )
        producer.commit_transaction()
    finally:
        producer.close()
    for group, expected in (("aio-group", 7), ("kp-group", 11)):
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
        try:
            assert committed_offset(consumer, source) == expected
        finally:
            consumer.close()
