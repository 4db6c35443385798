"""Helpers shared by the client compatibility tests: produce with delivery reports, consume by
assignment (no consumer groups needed), and a client-neutral view of a consumed record."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from confluent_kafka import TIMESTAMP_CREATE_TIME, Consumer, KafkaError, Message, Producer, TopicPartition

with warnings.catch_warnings():
    # kafka-python loads its JSON message specs with the deprecated importlib.resources.read_text
    warnings.simplefilter("ignore", DeprecationWarning)
    import aiokafka
    import kafka
    import kafka.admin
    import kafka.consumer
    import kafka.producer

from odradek.protocol import compression
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import api_versions, fetch
from odradek.protocol.records import iter_headers
from odradek.testing.raw_client import RawClient

KAFKA_PYTHON_WARNINGS = pytest.mark.filterwarnings("ignore:read_text is deprecated:DeprecationWarning")
"""For tests that run kafka-python, in case it loads more specs while running."""

__all__ = ["aiokafka", "kafka"]

Headers = list[tuple[str, bytes | None]]
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


@dataclass(frozen=True)
class Rec:
    """One record as every client should see it."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]
    timestamp: int


@dataclass(frozen=True)
class Out:
    """One record to produce (timestamp 0 = let the client stamp it)."""

    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    timestamp: int = 0
    partition: int = 0


def sample_records(n: int, base_ts: int = 1_600_000_000_000) -> list[Out]:
    """Keys, null keys, null and empty values, repeated and null headers, explicit timestamps."""
    out = []
    for i in range(n):
        key = None if i % 5 == 1 else f"key-{i}".encode()
        value: bytes | None = f"value-{i}-".encode() * (i % 7 + 1)
        if i % 6 == 2:
            value = None  # tombstone
        elif i % 6 == 4:
            value = b""
        headers: tuple[tuple[str, bytes | None], ...] = ()
        if i % 3 == 0:
            headers = (
                ("trace", f"t{i}".encode()),
                ("dup", b"1"),
                ("dup", b"2"),
                ("nothing", None),
                ("empty", b""),
            )
        elif i % 3 == 1:
            headers = (("bin", bytes(range(256))),)
        out.append(Out(key, value, headers, base_ts + i * 1000 - (i % 4) * 1500))
    return out


def produce_confluent(
    bootstrap: str, topic: str, records: Sequence[Out], **conf: Any
) -> list[tuple[int, int]]:
    """Produce with librdkafka and return (partition, offset) per record in order; fails on any error."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, **conf})
    results: list[tuple[int, int] | None] = [None] * len(records)
    errors: list[str] = []

    def report(i: int) -> Any:
        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                errors.append(f"record {i}: {err}")
            else:
                results[i] = (msg.partition(), msg.offset())

        return on_delivery

    for i, r in enumerate(records):
        kwargs: dict[str, Any] = {"partition": r.partition, "on_delivery": report(i)}
        if r.key is not None:
            kwargs["key"] = r.key
        if r.value is not None:
            kwargs["value"] = r.value
        if r.headers:
            kwargs["headers"] = list(r.headers)
        if r.timestamp:
            kwargs["timestamp"] = r.timestamp
        while True:
            try:
                producer.produce(topic, **kwargs)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    assert producer.flush(30) == 0, "undelivered records"
    assert errors == []
    return [r for r in results if r is not None]


def consumer_confluent(bootstrap: str, **conf: Any) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "unused-no-groups-yet",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
            **conf,
        }
    )


def rec_from_confluent(m: Message) -> Rec:
    headers = tuple(m.headers() or ())
    kind, timestamp = m.timestamp()
    assert kind == TIMESTAMP_CREATE_TIME
    return Rec(m.partition(), m.offset(), m.key(), m.value(), headers, timestamp)


def consume_confluent(
    bootstrap: str,
    topic: str,
    expected: int,
    partitions: Iterable[int] = (0,),
    timeout: float = 20,
    **conf: Any,
) -> list[Rec]:
    """Assign `partitions` from offset 0 and read `expected` records (fails on a stall)."""
    consumer = consumer_confluent(bootstrap, **conf)
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        out: list[Rec] = []
        deadline = time.monotonic() + timeout
        while len(out) < expected:
            assert time.monotonic() < deadline, f"stalled after {len(out)} of {expected} records"
            for m in consumer.consume(min(expected - len(out), 10000), timeout=0.5):
                assert m.error() is None, m.error()
                out.append(rec_from_confluent(m))
        # nothing more arrives
        extra = consumer.consume(100, timeout=0.2)
        assert [m for m in extra if m.error() is None] == []
        return out
    finally:
        consumer.close()


def expected_recs(records: Sequence[Out], placed: Sequence[tuple[int, int]]) -> list[Rec]:
    return [
        Rec(p, o, r.key, r.value, r.headers, r.timestamp) for r, (p, o) in zip(records, placed, strict=True)
    ]


def stored_codecs(bootstrap: str, topic: str, partition: int = 0) -> set[str]:
    """The compression codecs of the batches the broker holds (read raw, so the clients' own
    decompression cannot hide what was actually written)."""
    request = fetch.FetchRequest(
        max_bytes=64 << 20,
        topics=[
            fetch.FetchTopic(
                topic=topic,
                partitions=[
                    fetch.FetchPartition(partition=partition, fetch_offset=0, partition_max_bytes=64 << 20)
                ],
            )
        ],
    )
    with RawClient.connect(bootstrap) as client:
        [[part]] = [t.partitions for t in client.call(ApiKey.FETCH, 12, request).responses]
    assert part.error_code == 0
    records = part.records
    data = b"".join(bytes(c) for c in records) if isinstance(records, list) else bytes(records or b"")
    return {compression.NAMES[h.compression] for _, h in iter_headers(data)}


def librdkafka_codec(bootstrap: str, codec: str) -> str:
    """The codec librdkafka really writes when asked for `codec`.

    librdkafka enables LZ4 only when the broker serves FindCoordinator (its old proxy for "broker
    >= 0.8.2", rdkafka_feature.c; any version since 2.11.1, v0 before) and silently produces
    uncompressed batches otherwise.
    """
    if codec != "lz4":
        return codec
    with RawClient.connect(bootstrap) as client:
        versions = client.call(ApiKey.API_VERSIONS, 3, api_versions.ApiVersionsRequest("compat", "1"))
    serves_find_coordinator = any(v.api_key == ApiKey.FIND_COORDINATOR for v in versions.api_keys)
    return "lz4" if serves_find_coordinator else "none"


def assert_stored_codec(bootstrap: str, topic: str, codec: str) -> None:
    """Every batch is compressed with `codec`, except batches a client left uncompressed because
    compressing them would not have made them smaller (librdkafka, kafka-python and aiokafka all
    do that with small batches)."""
    stored = stored_codecs(bootstrap, topic)
    assert stored - {"none"} == {codec} - {"none"}, stored


def assert_librdkafka_compressed(bootstrap: str, topic: str, codec: str) -> None:
    assert_stored_codec(bootstrap, topic, librdkafka_codec(bootstrap, codec))
