"""Produce-time timestamp bounds (KIP-937): `message.timestamp.before.max.ms` / `.after.max.ms`.

Kafka's rule (LogValidator): on a ``CreateTime`` topic, a record whose timestamp ``ts`` is not
``NO_TIMESTAMP`` (-1) is refused when ``now - ts > before.max.ms`` (too old) or
``ts - now > after.max.ms`` (too far in the future), ``now`` being the broker clock. One refused
record fails the whole batch: the partition answers INVALID_TIMESTAMP (32), nothing is appended,
``error_message`` is "One or more records have been rejected due to invalid timestamp", and
``record_errors`` holds one entry per refused record. ``LogAppendTime`` topics are not checked:
the broker stamps their batches. Defaults: before = Long.MAX_VALUE (never), after = one hour.

What this module checks, from the 61-byte batch header only (no record is decoded, so Produce
stays free of per-record Python work):

- the batch's ``baseTimestamp``, which both the Java client and librdkafka set to the timestamp of
  the batch's first record;
- the batch's ``maxTimestamp``, which the producer sets to the largest record timestamp, so every
  record too far in the future is caught through it;

each against both bounds, with -1 exempt as in Kafka.

How that differs from Kafka's per-record check:

- A record older than the first one (a negative timestamp delta, when an application sets
  out-of-order timestamps) and beyond ``before.max.ms`` is accepted here if the first record and
  the maximum are within bounds; Kafka refuses it.
- ``maxTimestamp`` is trusted: a producer writing a smaller value than its records' largest
  timestamp gets past the future bound.
- ``record_errors``: Kafka lists each refused record by index. Here the refused records cannot be
  named without decoding, so a one-record batch gets Kafka's exact entry (index 0, Kafka's message)
  and a larger batch gets none. Clients then fail every record of the batch with INVALID_TIMESTAMP
  (librdkafka: the partition error for each message; with Kafka's list, the records that were not
  listed get librdkafka's local ``_INVALID_DIFFERENT_RECORD`` instead). For the usual cause, a
  producer whose clock is off, every record is out of bounds and the two answers coincide.
"""

from __future__ import annotations

from dataclasses import dataclass

from odradek.protocol.records import NO_TIMESTAMP, BatchHeader
from odradek.storage.log_config import LogConfig

INVALID_TIMESTAMP_MESSAGE = "One or more records have been rejected due to invalid timestamp"
_LONG = 1 << 64
_LONG_MIN = -(1 << 63)


@dataclass(frozen=True, slots=True)
class TimestampRejection:
    """Why a batch was refused: the partition's error message and its ``record_errors``."""

    error_message: str
    record_errors: tuple[tuple[int, str], ...]


def check_timestamps(header: BatchHeader, config: LogConfig, now_ms: int) -> TimestampRejection | None:
    """None if the batch header is within the topic's bounds, else the INVALID_TIMESTAMP answer."""
    if config.log_append_time:
        return None
    before = config.message_timestamp_before_max_ms
    after = config.message_timestamp_after_max_ms
    refused = [
        ts
        for ts in (header.base_timestamp, header.max_timestamp)
        if ts != NO_TIMESTAMP and (now_ms - ts > before or ts - now_ms > after)
    ]
    if not refused:
        return None
    if header.record_count != 1:
        return TimestampRejection(INVALID_TIMESTAMP_MESSAGE, ())
    # Kafka's message names the record's offset as sent (the client's base offset, usually 0) and
    # the bounds computed in Java longs (so `now + Long.MAX_VALUE` wraps, as Kafka prints it).
    reason = (
        f"Timestamp {refused[0]} of message with offset {header.base_offset} is out of range. The "
        f"timestamp should be within [{_as_long(now_ms - before)}, {_as_long(now_ms + after)}]"
    )
    return TimestampRejection(INVALID_TIMESTAMP_MESSAGE, ((0, reason),))


def _as_long(value: int) -> int:
    return (value - _LONG_MIN) % _LONG + _LONG_MIN
