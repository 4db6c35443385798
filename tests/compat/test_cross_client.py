"""What one client library writes, the others read byte for byte: keys, values (null and empty),
headers (repeated, null and binary values), CreateTime timestamps and offsets, for every codec.

librdkafka (confluent-kafka) writes and kafka-python / aiokafka read; then kafka-python and
aiokafka write their own batches and librdkafka reads. The broker stores and serves batches
unchanged, so any difference is a broker bug in framing, offsets or restamping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka import TopicPartition as ATopicPartition
from compat_clients import (
    CODECS,
    KAFKA_PYTHON_WARNINGS,
    Out,
    Rec,
    assert_librdkafka_compressed,
    assert_stored_codec,
    consume_confluent,
    expected_recs,
    produce_confluent,
    sample_records,
)
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KTopicPartition

pytestmark = [pytest.mark.compat, KAFKA_PYTHON_WARNINGS]

N = 120
CREATE_TIME = 0


def _headers(raw: Sequence[tuple[str, bytes | None]] | None) -> tuple[tuple[str, bytes | None], ...]:
    return tuple((k, None if v is None else bytes(v)) for k, v in raw or ())


# --- kafka-python ------------------------------------------------------------------------------


def consume_kafka_python(bootstrap: str, topic: str, expected: int) -> list[Rec]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        tp = KTopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, 0)
        out: list[Rec] = []
        deadline = time.monotonic() + 20
        while len(out) < expected:
            assert time.monotonic() < deadline, f"stalled after {len(out)} of {expected}"
            for records in consumer.poll(timeout_ms=500).values():
                for r in records:
                    assert r.timestamp_type == CREATE_TIME
                    out.append(Rec(r.partition, r.offset, r.key, r.value, _headers(r.headers), r.timestamp))
        return out
    finally:
        consumer.close()


def produce_kafka_python(
    bootstrap: str, topic: str, records: Sequence[Out], codec: str
) -> list[tuple[int, int]]:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        compression_type=None if codec == "none" else codec,
        enable_idempotence=False,  # plain producer; idempotent ones: test_eos_interop.py
    )
    try:
        futures = [
            producer.send(
                topic,
                key=r.key,
                value=r.value,
                headers=list(r.headers),
                timestamp_ms=r.timestamp,
                partition=r.partition,
            )
            for r in records
        ]
        producer.flush(30)
        return [(m.partition, m.offset) for m in (f.get(timeout=30) for f in futures)]
    finally:
        producer.close()


# --- aiokafka ----------------------------------------------------------------------------------


async def _consume_aiokafka(bootstrap: str, topic: str, expected: int) -> list[Rec]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = ATopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, 0)
        out: list[Rec] = []
        deadline = time.monotonic() + 20
        while len(out) < expected:
            assert time.monotonic() < deadline, f"stalled after {len(out)} of {expected}"
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    assert r.timestamp_type == CREATE_TIME
                    out.append(Rec(r.partition, r.offset, r.key, r.value, _headers(r.headers), r.timestamp))
        return out
    finally:
        await consumer.stop()


def consume_aiokafka(bootstrap: str, topic: str, expected: int) -> list[Rec]:
    return asyncio.run(_consume_aiokafka(bootstrap, topic, expected))


async def _produce_aiokafka(
    bootstrap: str, topic: str, records: Sequence[Out], codec: str
) -> list[tuple[int, int]]:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        compression_type=None if codec == "none" else codec,
        enable_idempotence=False,  # plain producer; idempotent ones: test_eos_interop.py
    )
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic,
                key=r.key,
                value=r.value,
                headers=list(r.headers),
                timestamp_ms=r.timestamp,
                partition=r.partition,
            )
            for r in records
        ]
        return [(m.partition, m.offset) for m in await asyncio.gather(*futures)]
    finally:
        await producer.stop()


def produce_aiokafka(bootstrap: str, topic: str, records: Sequence[Out], codec: str) -> list[tuple[int, int]]:
    return asyncio.run(_produce_aiokafka(bootstrap, topic, records, codec))


# --- the tests ----------------------------------------------------------------------------------

READERS = {"kafka-python": consume_kafka_python, "aiokafka": consume_aiokafka}
WRITERS = {"kafka-python": produce_kafka_python, "aiokafka": produce_aiokafka}


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("reader", list(READERS))
def test_librdkafka_writes_python_clients_read(
    bootstrap: str, topic_name: str, reader: str, codec: str
) -> None:
    records = sample_records(N)
    placed = produce_confluent(bootstrap, topic_name, records, **{"compression.type": codec, "acks": "all"})
    assert placed == [(0, i) for i in range(N)]
    assert_librdkafka_compressed(bootstrap, topic_name, codec)
    assert READERS[reader](bootstrap, topic_name, N) == expected_recs(records, placed)


def writable(records: Sequence[Out]) -> list[Out]:
    """What kafka-python and aiokafka accept: no record with both key and value null, no null
    header value (both refuse them client-side)."""
    out = []
    for r in records:
        key = b"k" if r.key is None and r.value is None else r.key
        headers = tuple((k, b"" if v is None else v) for k, v in r.headers)
        out.append(Out(key, r.value, headers, r.timestamp, r.partition))
    return out


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("writer", list(WRITERS))
def test_python_clients_write_librdkafka_reads(
    bootstrap: str, topic_name: str, writer: str, codec: str
) -> None:
    records = writable(sample_records(N))
    assert any(r.key is None for r in records) and any(r.value is None for r in records)
    placed = WRITERS[writer](bootstrap, topic_name, records, codec)
    assert placed == [(0, i) for i in range(N)]
    assert_stored_codec(bootstrap, topic_name, codec)
    assert consume_confluent(bootstrap, topic_name, N) == expected_recs(records, placed)
