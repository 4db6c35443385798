"""KIP-937 timestamp bounds, judged from the batch header (storage/timestamp_bounds.py)."""

from __future__ import annotations

from odradek.protocol.records import BatchHeader, BatchSpec, build_batch, read_header
from odradek.storage.log_config import LONG_MAX, LogConfig
from odradek.storage.timestamp_bounds import INVALID_TIMESTAMP_MESSAGE, TimestampRejection, check_timestamps

NOW = 1_700_000_000_000
HOUR = 3_600_000
DEFAULT = LogConfig()


def header(*timestamps: int, log_append_time: bool = False) -> BatchHeader:
    records = [(b"k", b"v", [], ts) for ts in timestamps]
    return read_header(build_batch(records, BatchSpec(log_append_time=log_append_time)))


def test_defaults_accept_the_past_and_up_to_one_hour_ahead() -> None:
    assert check_timestamps(header(0), DEFAULT, NOW) is None
    assert check_timestamps(header(NOW - 10 * 365 * 24 * HOUR), DEFAULT, NOW) is None
    assert check_timestamps(header(NOW + HOUR), DEFAULT, NOW) is None  # the bound itself is allowed


def test_one_record_past_the_future_bound_gets_kafkas_record_error() -> None:
    assert check_timestamps(header(NOW + HOUR + 1), DEFAULT, NOW) == TimestampRejection(
        INVALID_TIMESTAMP_MESSAGE,
        (
            (
                0,
                f"Timestamp {NOW + HOUR + 1} of message with offset 0 is out of range. The timestamp "
                f"should be within [{NOW - LONG_MAX}, {NOW + HOUR}]",
            ),
        ),
    )


def test_before_bound_refuses_old_first_records() -> None:
    config = LogConfig(message_timestamp_before_max_ms=60_000)
    assert check_timestamps(header(NOW - 60_000), config, NOW) is None
    rejection = check_timestamps(header(NOW - 60_001), config, NOW)
    assert rejection == TimestampRejection(
        INVALID_TIMESTAMP_MESSAGE,
        (
            (
                0,
                f"Timestamp {NOW - 60_001} of message with offset 0 is out of range. The timestamp "
                f"should be within [{NOW - 60_000}, {NOW + HOUR}]",
            ),
        ),
    )


def test_a_multi_record_batch_is_refused_without_naming_records() -> None:
    # The maximum is out of bounds; which record holds it is not known from the header.
    assert check_timestamps(header(NOW, NOW + 2 * HOUR, NOW), DEFAULT, NOW) == TimestampRejection(
        INVALID_TIMESTAMP_MESSAGE, ()
    )
    config = LogConfig(message_timestamp_before_max_ms=1000)
    assert check_timestamps(header(NOW - 5000, NOW, NOW), config, NOW) == TimestampRejection(
        INVALID_TIMESTAMP_MESSAGE, ()
    )
    assert check_timestamps(header(NOW - 1000, NOW + HOUR), config, NOW) is None


def test_every_timestamp_too_old_is_caught_through_the_maximum_even_without_a_first_timestamp() -> None:
    config = LogConfig(message_timestamp_before_max_ms=1000)
    no_first = header(NOW - 5000, NOW - 4000)._replace(base_timestamp=-1)
    assert check_timestamps(no_first, config, NOW) == TimestampRejection(INVALID_TIMESTAMP_MESSAGE, ())


def test_no_timestamp_is_exempt() -> None:
    config = LogConfig(message_timestamp_before_max_ms=0, message_timestamp_after_max_ms=0)
    assert check_timestamps(header(NOW)._replace(base_timestamp=-1, max_timestamp=-1), config, NOW) is None
    assert check_timestamps(header(NOW), config, NOW) is None
    assert check_timestamps(header(NOW + 1), config, NOW) is not None


def test_log_append_time_topics_are_never_checked() -> None:
    config = LogConfig(message_timestamp_type="LogAppendTime", message_timestamp_before_max_ms=0)
    assert check_timestamps(header(NOW + 5 * HOUR), config, NOW) is None
    assert check_timestamps(header(0), config, NOW) is None


def test_known_gap_a_record_older_than_the_first_one_is_not_seen() -> None:
    # Documented difference from Kafka: the first record (baseTimestamp) and the maximum are within
    # bounds, a later record with a negative timestamp delta is not; Kafka would refuse the batch.
    config = LogConfig(message_timestamp_before_max_ms=1000)
    out_of_order = header(NOW - 5000, NOW)._replace(base_timestamp=NOW - 10)
    assert check_timestamps(out_of_order, config, NOW) is None


def test_bounds_in_the_message_wrap_like_java_longs() -> None:
    config = LogConfig(message_timestamp_before_max_ms=0, message_timestamp_after_max_ms=LONG_MAX)
    rejection = check_timestamps(header(NOW - 1), config, NOW)
    assert rejection is not None
    assert rejection.record_errors[0][1].endswith(f"within [{NOW}, {NOW + LONG_MAX - 2**64}]")
