"""Produce to a compacted topic: Kafka's INVALID_RECORD for records without a key."""

from __future__ import annotations

from odradek.broker.handlers.produce import _keys_present
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol import compression
from odradek.protocol.messages import produce as msg
from odradek.protocol.records import BatchSpec, build_batch, build_control_batch, read_header

TP = TopicPartition("users", 3)
REASON = "Compacted topic cannot accept message without key in topic partition users-3."


def check(raw: bytes) -> tuple[bool, msg.PartitionProduceResponse]:
    result = msg.PartitionProduceResponse(index=3)
    return _keys_present(TP, memoryview(raw), read_header(raw), result), result


def test_keyed_records_pass() -> None:
    ok, result = check(build_batch([(b"k", b"v", [], 0), (b"", None, [], 0)]))
    assert ok and result.error_code == ErrorCode.NO_ERROR


def test_each_keyless_record_is_reported_as_kafka_does() -> None:
    records = [(None, b"a", [], 0), (b"k", b"b", [], 0), (None, b"c", [], 0)]
    ok, result = check(build_batch(records, BatchSpec(compression=compression.LZ4)))
    assert not ok
    assert result.error_code == ErrorCode.INVALID_RECORD
    assert [(e.batch_index, e.batch_index_error_message) for e in result.record_errors] == [
        (0, REASON),
        (2, REASON),
    ]
    assert result.error_message == (
        "One or more records have been rejected due to 2 record errors in total, and only showing the "
        f"first three errors at most: [RecordError(batchIndex=0, message='{REASON}'), "
        f"RecordError(batchIndex=2, message='{REASON}')]"
    )


def test_undecodable_records_are_corrupt() -> None:
    raw = bytearray(build_batch([(b"k", b"v" * 50, [], 0)], BatchSpec(compression=compression.GZIP)))
    raw[65:75] = b"\x00" * 10
    ok, result = check(bytes(raw))
    assert not ok and result.error_code == ErrorCode.CORRUPT_MESSAGE


def test_control_batches_are_not_checked() -> None:
    ok, _ = check(
        build_control_batch(1, producer_id=1, producer_epoch=0, coordinator_epoch=0, timestamp_ms=0)
    )
    assert ok
