"""Bad input that needs broker state a subprocess cannot be given yet (internal topics, topic
configs): a real `Broker` in process, reached through in-memory connections."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import fetch, metadata, produce
from odradek.protocol.records import build_batch
from odradek.testing.in_process import InMemoryConnection, InProcessBroker


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessBroker]:
    with InProcessBroker(tmp_path_factory.mktemp("in-process")) as b:
        b.create_topic("__consumer_offsets", 2)
        b.create_topic("small", 1, **{"max.message.bytes": "200"})
        b.create_topic("strict", 1, **{"min.insync.replicas": "2"})
        yield b


def batch(value: bytes = b"v") -> bytes:
    return build_batch([(b"k", value, [], 1_700_000_000_000)])


def produce_one(
    conn: InMemoryConnection,
    topic: str,
    records: bytes,
    acks: int = -1,
    version: int = 9,
    topic_id: uuid.UUID | None = None,
) -> produce.PartitionProduceResponse:
    data = produce.TopicProduceData(name=topic, partition_data=[produce.PartitionProduceData(0, records)])
    if topic_id is not None:
        data.topic_id = topic_id
    response = conn.call(
        ApiKey.PRODUCE, version, produce.ProduceRequest(acks=acks, timeout_ms=1000, topic_data=[data])
    )
    [[part]] = [t.partition_responses for t in response.responses]
    return part


def high_watermark(conn: InMemoryConnection, topic: str) -> int:
    request = fetch.FetchRequest(
        max_wait_ms=0,
        topics=[
            fetch.FetchTopic(
                topic=topic, partitions=[fetch.FetchPartition(partition=0, partition_max_bytes=1)]
            )
        ],
    )
    [[part]] = [t.partitions for t in conn.call(ApiKey.FETCH, 12, request).responses]
    assert part.error_code == 0
    return part.high_watermark


def test_produce_to_existing_internal_topic_is_invalid_topic(broker: InProcessBroker) -> None:
    conn = broker.connect()
    for version in (3, 9):
        result = produce_one(conn, "__consumer_offsets", batch(), version=version)
        assert (result.error_code, result.base_offset) == (ErrorCode.INVALID_TOPIC_EXCEPTION, -1)
    assert high_watermark(conn, "__consumer_offsets") == 0


def test_acks_zero_to_internal_topic_closes_the_connection(broker: InProcessBroker) -> None:
    conn = broker.connect()
    conn.send(
        ApiKey.PRODUCE,
        9,
        produce.ProduceRequest(
            acks=0,
            timeout_ms=1000,
            topic_data=[
                produce.TopicProduceData(
                    name="__consumer_offsets", partition_data=[produce.PartitionProduceData(0, batch())]
                )
            ],
        ),
    )
    conn.settle()
    assert conn.closed and conn.next_frame() is None


def test_topic_max_message_bytes_applies(broker: InProcessBroker) -> None:
    conn = broker.connect()
    assert produce_one(conn, "small", batch(b"x" * 300)).error_code == ErrorCode.MESSAGE_TOO_LARGE
    ok = produce_one(conn, "small", batch(b"x" * 10))
    assert (ok.error_code, ok.base_offset) == (0, 0)
    assert high_watermark(conn, "small") == 1


def test_acks_all_below_min_insync_replicas(broker: InProcessBroker) -> None:
    conn = broker.connect()
    assert produce_one(conn, "strict", batch(), acks=-1).error_code == ErrorCode.NOT_ENOUGH_REPLICAS
    assert produce_one(conn, "strict", batch(), acks=1).error_code == 0  # acks=1 ignores min ISR
    assert high_watermark(conn, "strict") == 1


def test_produce_v13_unknown_topic_id(broker: InProcessBroker) -> None:
    conn = broker.connect()
    result = produce_one(conn, "", batch(), version=13, topic_id=uuid.uuid4())
    assert result.error_code == ErrorCode.UNKNOWN_TOPIC_ID


def test_metadata_never_auto_creates_internal_topics(tmp_path: Path) -> None:
    with InProcessBroker(tmp_path) as fresh:
        conn = fresh.connect()
        request = metadata.MetadataRequest(
            topics=[metadata.MetadataRequestTopic(name="__transaction_state")], allow_auto_topic_creation=True
        )
        [topic] = conn.call(ApiKey.METADATA, 12, request).topics
        assert topic.error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        assert (
            produce_one(conn, "__transaction_state", batch()).error_code
            == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        )
