"""Produce with timestamps outside `message.timestamp.before/after.max.ms` (KIP-937), through the
Produce handler of an in-process broker on a fake clock: INVALID_TIMESTAMP, nothing appended."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.batch_validation import INVALID_TIMESTAMP_MESSAGE
from odradek.protocol.messages import fetch, produce
from odradek.protocol.records import build_batch
from odradek.testing.clock import FakeClock
from odradek.testing.in_process import InMemoryConnection, InProcessBroker

NOW = 1_700_000_000_000
HOUR = 3_600_000
LONG_MAX = 2**63 - 1


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessBroker]:
    with InProcessBroker(tmp_path_factory.mktemp("ts"), clock=FakeClock(NOW)) as b:
        b.create_topic("plain")
        b.create_topic("recent", **{"message.timestamp.before.max.ms": "60000"})
        b.create_topic(
            "stamped",
            **{"message.timestamp.type": "LogAppendTime", "message.timestamp.before.max.ms": "0"},
        )
        yield b


def produce_one(conn: InMemoryConnection, topic: str, *timestamps: int) -> produce.PartitionProduceResponse:
    records = build_batch([(b"k", b"v", [], ts) for ts in timestamps])
    data = produce.TopicProduceData(name=topic, partition_data=[produce.PartitionProduceData(0, records)])
    request = produce.ProduceRequest(acks=-1, timeout_ms=1000, topic_data=[data])
    [[part]] = [t.partition_responses for t in conn.call(ApiKey.PRODUCE, 9, request).responses]
    return part


def high_watermark(conn: InMemoryConnection, topic: str) -> int:
    partition = fetch.FetchPartition(partition=0, partition_max_bytes=1)
    topics = [fetch.FetchTopic(topic=topic, partitions=[partition])]
    request = fetch.FetchRequest(max_wait_ms=0, topics=topics)
    [[part]] = [t.partitions for t in conn.call(ApiKey.FETCH, 12, request).responses]
    return part.high_watermark


def test_future_timestamp_is_refused_with_kafkas_answer(broker: InProcessBroker) -> None:
    conn = broker.connect()
    result = produce_one(conn, "plain", NOW + 2 * HOUR)
    assert (result.error_code, result.base_offset) == (ErrorCode.INVALID_TIMESTAMP, -1)
    assert result.error_message == INVALID_TIMESTAMP_MESSAGE
    assert [(e.batch_index, e.batch_index_error_message) for e in result.record_errors] == [
        (
            0,
            f"Timestamp {NOW + 2 * HOUR} of message with offset 0 is out of range. The timestamp should be "
            f"within [{NOW - LONG_MAX}, {NOW + HOUR}]",
        )
    ]
    several = produce_one(conn, "plain", NOW, NOW + 2 * HOUR, NOW + 1)
    assert several.error_code == ErrorCode.INVALID_TIMESTAMP
    assert [e.batch_index for e in several.record_errors] == [1]  # exactly the record out of bounds
    assert high_watermark(conn, "plain") == 0
    ok = produce_one(conn, "plain", NOW + HOUR, NOW - 10 * 365 * 24 * HOUR)
    assert (ok.error_code, ok.base_offset) == (ErrorCode.NO_ERROR, 0)
    assert high_watermark(conn, "plain") == 2


def test_before_max_ms_refuses_old_timestamps(broker: InProcessBroker) -> None:
    conn = broker.connect()
    assert produce_one(conn, "recent", NOW - 60_001).error_code == ErrorCode.INVALID_TIMESTAMP
    assert produce_one(conn, "recent", NOW - 60_000).error_code == ErrorCode.NO_ERROR
    assert high_watermark(conn, "recent") == 1


def test_log_append_time_topics_accept_any_timestamp(broker: InProcessBroker) -> None:
    conn = broker.connect()
    assert produce_one(conn, "stamped", NOW + 2 * HOUR).error_code == ErrorCode.NO_ERROR
    assert produce_one(conn, "stamped", 0).error_code == ErrorCode.NO_ERROR
    assert high_watermark(conn, "stamped") == 2
