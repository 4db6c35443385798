"""The header-versus-records decisions of protocol/batch_validation.py, one lying header at a time.

Each test builds an honest batch with `build_batch`, makes its header lie with `with_header` (which
recomputes the CRC, as a deliberate liar would), and checks the verdict: accepted as is (the O(1)
hot path), repaired in place (the rare path), or refused with Kafka's error.
"""

from __future__ import annotations

import pytest

from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol import compression
from odradek.protocol.batch_validation import (
    DELETE_HORIZON,
    INVALID_TIMESTAMP_MESSAGE,
    MAX_TIMESTAMP,
    TIMESTAMP_TYPE,
    Rejection,
    Rewritten,
    check_produce_batch,
    check_produce_gate,
)
from odradek.protocol.raw_records import assemble_batch
from odradek.protocol.records import (
    DELETE_HORIZON_BIT,
    TIMESTAMP_TYPE_BIT,
    TRANSACTIONAL_BIT,
    BatchHeader,
    BatchSpec,
    build_batch,
    encode_record,
    iter_records,
    read_header,
    validate_batches,
)
from odradek.storage.log_config import LONG_MAX, LogConfig
from odradek.testing.lying_batches import with_header

NOW = 1_700_000_000_000
HOUR = 3_600_000
TP = TopicPartition("t", 0)
DEFAULT = LogConfig()
APPEND_TIME = LogConfig(message_timestamp_type="LogAppendTime")


def batch(*timestamps: int, spec: BatchSpec | None = None, **lies: int) -> bytearray:
    honest = build_batch([(b"k", b"v", [], ts) for ts in timestamps], spec)
    return bytearray(with_header(honest, **lies) if lies else honest)


def judge(buf: bytearray, config: LogConfig = DEFAULT) -> BatchHeader | Rewritten | Rejection:
    return check_produce_batch(memoryview(buf), read_header(buf), config, NOW, TP)


def rejected(buf: bytearray, config: LogConfig = DEFAULT) -> Rejection:
    verdict = judge(buf, config)
    assert isinstance(verdict, Rejection), verdict
    return verdict


def rewritten(buf: bytearray, config: LogConfig = DEFAULT) -> Rewritten:
    verdict = judge(buf, config)
    assert isinstance(verdict, Rewritten), verdict
    (stored,) = validate_batches(buf)  # the CRC matches the rewritten header
    assert stored == verdict.header
    return verdict


# --- the hot path ---------------------------------------------------------------------------


def test_an_honest_batch_is_accepted_as_is() -> None:
    buf = batch(NOW - 5, NOW, NOW - 2)
    before = bytes(buf)
    assert judge(buf) == read_header(before)
    assert bytes(buf) == before
    for codec in compression.NAMES:
        assert isinstance(judge(batch(NOW, NOW + 1, spec=BatchSpec(compression=codec))), BatchHeader)


def test_records_without_timestamps_are_plausible() -> None:
    buf = batch(NOW, base_timestamp=-1, max_timestamp=-1)
    assert isinstance(judge(buf), BatchHeader)


# --- maxTimestamp ---------------------------------------------------------------------------


def test_max_timestamp_minus_one_is_recomputed_from_the_records() -> None:
    # Debian's sarama 1.22 writes every batch so.
    buf = batch(NOW - 7, NOW - 3, NOW - 5, max_timestamp=-1)
    verdict = rewritten(buf)
    assert verdict.fields == (MAX_TIMESTAMP,)
    assert verdict.header.max_timestamp == NOW - 3
    assert [r.timestamp for r in iter_records(buf, 0, verdict.header)] == [NOW - 7, NOW - 3, NOW - 5]


@pytest.mark.parametrize("codec", sorted(compression.NAMES))
def test_max_timestamp_below_the_first_is_recomputed_in_every_codec(codec: int) -> None:
    buf = batch(NOW - 10, NOW, spec=BatchSpec(compression=codec), max_timestamp=NOW - 20)
    verdict = rewritten(buf)
    assert (verdict.fields, verdict.header.max_timestamp) == ((MAX_TIMESTAMP,), NOW)


def test_a_max_timestamp_beyond_the_future_bound_is_repaired_when_the_records_are_in_bounds() -> None:
    buf = batch(NOW, NOW + 1, max_timestamp=NOW + 5 * HOUR)
    assert rewritten(buf).header.max_timestamp == NOW + 1


def test_known_gap_an_understated_but_plausible_max_timestamp_is_trusted() -> None:
    buf = batch(NOW - 10, NOW, max_timestamp=NOW - 5)
    assert judge(buf) == read_header(buf)


# --- baseTimestamp and the bounds (KIP-937) -------------------------------------------------


def test_one_record_past_the_future_bound_gets_kafkas_record_error() -> None:
    assert rejected(batch(NOW + HOUR + 1)) == Rejection(
        ErrorCode.INVALID_TIMESTAMP,
        INVALID_TIMESTAMP_MESSAGE,
        (
            (
                0,
                f"Timestamp {NOW + HOUR + 1} of message with offset 0 is out of range. The timestamp "
                f"should be within [{NOW - LONG_MAX}, {NOW + HOUR}]",
            ),
        ),
    )
    assert isinstance(judge(batch(NOW + HOUR)), BatchHeader)  # the bound itself is allowed


def test_each_record_out_of_bounds_is_named_as_kafka_does() -> None:
    refused = rejected(batch(NOW, NOW + 2 * HOUR, NOW + 1, NOW + 3 * HOUR, base_offset=100))
    assert [i for i, _ in refused.record_errors] == [1, 3]
    assert "of message with offset 101 is out of range" in refused.record_errors[0][1]


def test_before_bound_refuses_old_records() -> None:
    config = LogConfig(message_timestamp_before_max_ms=60_000)
    assert isinstance(judge(batch(NOW - 60_000), config), BatchHeader)
    refused = rejected(batch(NOW - 60_001, NOW), config)
    assert refused.record_errors[0][1].endswith(f"within [{NOW - 60_000}, {NOW + HOUR}]")


def test_a_first_timestamp_out_of_bounds_is_judged_record_by_record() -> None:
    # baseTimestamp far in the past, but every record's own timestamp (base + delta) is recent.
    config = LogConfig(message_timestamp_before_max_ms=60_000)
    body = bytearray()
    encode_record(body, 0, 120_000, b"k", b"v")
    encode_record(body, 1, 120_001, b"k", b"v")
    template = read_header(build_batch([(b"k", b"v", [], NOW)] * 2))
    far_base = bytearray(
        assemble_batch(template, body, 2, attributes=0, base_timestamp=NOW - 120_000, max_timestamp=NOW + 1)
    )
    verdict = judge(far_base, config)
    assert verdict == Rewritten(read_header(far_base), ())  # walked, nothing to change
    # Out of order the other way: the first record is the newest and a later one too old.
    out_of_order = batch(NOW, NOW - 120_000, base_timestamp=NOW - 120_000, max_timestamp=NOW)
    assert rejected(out_of_order, config).error_code == ErrorCode.INVALID_TIMESTAMP


def test_known_gap_an_old_record_behind_an_in_bounds_first_record_is_not_seen() -> None:
    config = LogConfig(message_timestamp_before_max_ms=1000)
    records = [(b"k", b"v", [], NOW - 10), (b"k", b"v", [], NOW - 5000), (b"k", b"v", [], NOW)]
    out_of_order = bytearray(with_header(build_batch(records), base_timestamp=NOW - 10))
    assert isinstance(judge(out_of_order, config), BatchHeader)


def test_bounds_in_the_message_wrap_like_java_longs() -> None:
    config = LogConfig(message_timestamp_before_max_ms=0, message_timestamp_after_max_ms=LONG_MAX)
    refused = rejected(batch(NOW - 1), config)
    assert refused.record_errors[0][1].endswith(f"within [{NOW}, {NOW + LONG_MAX - 2**64}]")


def test_log_append_time_topics_never_check_bounds() -> None:
    assert isinstance(judge(batch(NOW + 5 * HOUR, max_timestamp=-1), APPEND_TIME), BatchHeader)


# --- attributes -------------------------------------------------------------------------------


def test_log_append_time_from_a_producer_follows_kafka() -> None:
    lat = batch(NOW, NOW + 1, spec=BatchSpec(log_append_time=True))
    refused = rejected(lat, APPEND_TIME)
    assert refused.error_code == ErrorCode.INVALID_TIMESTAMP
    assert [i for i, _ in refused.record_errors] == [0, 1]
    assert "should not set timestamp type to LogAppendTime" in refused.record_errors[0][1]
    assert rejected(batch(NOW, spec=BatchSpec(log_append_time=True), max_timestamp=-1)).error_code == (
        ErrorCode.INVALID_TIMESTAMP
    )
    # On a CreateTime topic with a max timestamp, Kafka keeps it as CreateTime.
    verdict = rewritten(batch(NOW - 3, NOW - 1, spec=BatchSpec(log_append_time=True), max_timestamp=NOW + 9))
    assert verdict.fields == (TIMESTAMP_TYPE, MAX_TIMESTAMP)
    assert not verdict.header.attributes & TIMESTAMP_TYPE_BIT
    assert verdict.header.max_timestamp == NOW - 1


@pytest.mark.parametrize("config", [DEFAULT, APPEND_TIME], ids=["CreateTime", "LogAppendTime"])
def test_a_producer_set_delete_horizon_is_cleared(config: LogConfig) -> None:
    buf = batch(NOW, attributes=DELETE_HORIZON_BIT)
    verdict = rewritten(buf, config)
    assert verdict.fields == (DELETE_HORIZON,)
    assert verdict.header.attributes == 0
    assert verdict.header.max_timestamp == NOW


def test_unused_attribute_bits_are_stored_as_sent() -> None:
    buf = batch(NOW, attributes=0x0180)
    assert judge(buf) == read_header(buf)


def test_control_batches_and_unknown_codecs_are_invalid_records() -> None:
    control = rejected(batch(NOW, spec=BatchSpec(is_control=True, producer_id=1, producer_epoch=0)))
    assert control == Rejection(
        ErrorCode.INVALID_RECORD, "Clients are not allowed to write control records in topic partition t-0"
    )
    for codec in (5, 6, 7):
        assert (
            rejected(batch(NOW, attributes=codec)).message
            == f"Unknown compression type id: {codec} in topic partition t-0"
        )


@pytest.mark.parametrize("codec", [compression.GZIP, compression.LZ4, compression.ZSTD])
def test_a_compressed_body_that_is_not_its_codecs_frame_is_corrupt(codec: int) -> None:
    other = compression.GZIP if codec != compression.GZIP else compression.ZSTD
    buf = batch(NOW, NOW, spec=BatchSpec(compression=other), attributes=codec)
    refused = rejected(buf)
    assert refused.error_code == ErrorCode.CORRUPT_MESSAGE
    assert compression.NAMES[codec] in refused.message


# --- record count and last offset delta -----------------------------------------------------


def test_record_count_must_match_the_last_offset_delta() -> None:
    refused = rejected(batch(NOW, NOW, record_count=3))
    assert refused == Rejection(
        ErrorCode.INVALID_RECORD,
        "Inconsistent batch offset range [0, 1] and count of records 3 in topic partition t-0",
    )
    assert rejected(batch(NOW, NOW, last_offset_delta=5)).error_code == ErrorCode.INVALID_RECORD
    zero = rejected(batch(NOW, record_count=0, last_offset_delta=-1))
    assert zero.message == "Invalid reported count for record batch: 0 in topic partition t-0"


def test_a_one_record_batch_must_be_exactly_its_record() -> None:
    two = bytearray(build_batch([(b"k", b"v", [], NOW), (b"k", b"v", [], NOW)]))
    liar = bytearray(with_header(bytes(two), record_count=1, last_offset_delta=0))
    assert rejected(liar).error_code == ErrorCode.CORRUPT_MESSAGE


def test_known_gap_a_multi_record_count_is_trusted_until_the_rare_path() -> None:
    three = build_batch([(b"k", b"v", [], NOW)] * 3)
    liar = bytearray(with_header(three, record_count=4, last_offset_delta=3))
    assert isinstance(judge(liar), BatchHeader)  # counting would mean walking every batch
    # ... but a batch on the rare path is walked, and the lie found there.
    walked = bytearray(with_header(three, record_count=4, last_offset_delta=3, max_timestamp=-1))
    assert rejected(walked).error_code == ErrorCode.CORRUPT_MESSAGE


# --- producer fields --------------------------------------------------------------------------


def test_a_producer_id_needs_a_sequence_and_a_transaction_needs_a_producer() -> None:
    idempotent = batch(NOW, spec=BatchSpec(producer_id=7, producer_epoch=0, base_sequence=-1))
    assert rejected(idempotent).message == (
        "Invalid sequence number -1 in record batch with producerId 7 in topic partition t-0"
    )
    orphan = batch(NOW, attributes=TRANSACTIONAL_BIT)
    assert (
        rejected(orphan).message == "Transactional record batch without a producer id in topic partition t-0"
    )
    ok = batch(NOW, spec=BatchSpec(producer_id=7, producer_epoch=0, base_sequence=0, is_transactional=True))
    assert isinstance(judge(ok), BatchHeader)


# --- version gates ----------------------------------------------------------------------------


def test_zstd_needs_produce_v7() -> None:
    zstd = read_header(build_batch([(b"k", b"v", [], NOW)], BatchSpec(compression=compression.ZSTD)))
    gate = check_produce_gate(zstd, 6)
    assert gate == Rejection(
        ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
        "Produce requests with version 6 are not allowed to use ZStandard compression",
    )
    assert check_produce_gate(zstd, 7) is None
    lz4 = read_header(build_batch([(b"k", b"v", [], NOW)], BatchSpec(compression=compression.LZ4)))
    assert check_produce_gate(lz4, 3) is None
