"""Fetch long polling over raw sockets: a fetch at the log end waits `max_wait_ms` when nothing
arrives, and answers as soon as an append reaches `min_bytes`."""

from __future__ import annotations

import threading
import time

from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import fetch, metadata, produce
from odradek.protocol.records import build_batch
from odradek.testing.raw_client import RawClient


def fetch_request(topic: str, offset: int, max_wait_ms: int, min_bytes: int) -> fetch.FetchRequest:
    return fetch.FetchRequest(
        max_wait_ms=max_wait_ms,
        min_bytes=min_bytes,
        topics=[
            fetch.FetchTopic(
                topic=topic,
                partitions=[
                    fetch.FetchPartition(partition=0, fetch_offset=offset, partition_max_bytes=1 << 20)
                ],
            )
        ],
    )


def produce_request(topic: str, value: bytes) -> produce.ProduceRequest:
    batch = build_batch([(None, value, [], int(time.time() * 1000))])
    data = produce.TopicProduceData(name=topic, partition_data=[produce.PartitionProduceData(0, batch)])
    return produce.ProduceRequest(acks=1, timeout_ms=1000, topic_data=[data])


def records_size(part: fetch.PartitionData) -> int:
    records = part.records
    return 0 if records is None else len(records)  # type: ignore[arg-type]


def test_fetch_waits_max_wait_when_nothing_arrives(bootstrap: str, topic_name: str) -> None:
    with RawClient.connect(bootstrap) as client:
        client.call(
            ApiKey.METADATA,
            12,
            metadata.MetadataRequest(topics=[metadata.MetadataRequestTopic(name=topic_name)]),
        )
        started = time.monotonic()
        response = client.call(ApiKey.FETCH, 12, fetch_request(topic_name, 0, max_wait_ms=400, min_bytes=1))
        waited = time.monotonic() - started
    [[part]] = [t.partitions for t in response.responses]
    assert (part.error_code, records_size(part)) == (0, 0)
    assert 0.38 <= waited < 2.0, waited


def test_fetch_answers_when_an_append_arrives(bootstrap: str, topic_name: str) -> None:
    """Within a second of the append, against a 10 s max wait. A first record is produced before the
    fetch, so the broker's first Produce (its handler is loaded on first use) is not timed."""
    with RawClient.connect(bootstrap) as consumer, RawClient.connect(bootstrap) as producer:
        producer.call(
            ApiKey.METADATA,
            12,
            metadata.MetadataRequest(topics=[metadata.MetadataRequestTopic(name=topic_name)]),
        )
        first = producer.call(ApiKey.PRODUCE, 9, produce_request(topic_name, b"first"))
        assert first.responses[0].partition_responses[0].error_code == 0
        produced_at: list[float] = []

        def produce_later() -> None:
            time.sleep(0.3)
            produced_at.append(time.monotonic())
            response = producer.call(ApiKey.PRODUCE, 9, produce_request(topic_name, b"wake up"))
            assert response.responses[0].partition_responses[0].error_code == 0

        thread = threading.Thread(target=produce_later)
        thread.start()
        response = consumer.call(
            ApiKey.FETCH, 12, fetch_request(topic_name, 1, max_wait_ms=10_000, min_bytes=1)
        )
        answered_at = time.monotonic()
        thread.join()
    [[part]] = [t.partitions for t in response.responses]
    assert part.error_code == 0 and records_size(part) > 0
    assert part.high_watermark == 2
    assert answered_at - produced_at[0] < 1.0, answered_at - produced_at[0]


def test_fetch_keeps_waiting_until_min_bytes(bootstrap: str, topic_name: str) -> None:
    """Appends that do not reach min_bytes wake the fetch, which goes back to waiting."""
    with RawClient.connect(bootstrap) as consumer, RawClient.connect(bootstrap) as producer:
        producer.call(
            ApiKey.METADATA,
            12,
            metadata.MetadataRequest(topics=[metadata.MetadataRequestTopic(name=topic_name)]),
        )

        def produce_three() -> None:
            for i in range(3):
                time.sleep(0.15)
                producer.call(ApiKey.PRODUCE, 9, produce_request(topic_name, b"x" * 100 + bytes([i])))

        thread = threading.Thread(target=produce_three)
        started = time.monotonic()
        thread.start()
        # one batch is ~170 bytes: 400 needs all three
        response = consumer.call(
            ApiKey.FETCH, 12, fetch_request(topic_name, 0, max_wait_ms=10_000, min_bytes=400)
        )
        waited = time.monotonic() - started
        thread.join()
    [[part]] = [t.partitions for t in response.responses]
    assert part.high_watermark == 3 and records_size(part) >= 400
    assert 0.4 <= waited < 2.0, waited
