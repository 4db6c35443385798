"""What the broker trusts in a produced batch's header, and what it checks or recomputes.

A v2 batch header (`records.py`) restates facts about its records: how many there are, the last
offset delta, the first and largest timestamps, the codec. Kafka's broker does not trust them: its
LogValidator walks every record of every batch and writes back what it found. odradek never walks
records on the hot path (no per-record Python work in Produce), so each field the broker relies on
gets one of three treatments:

* **O(1)**: checked against the other header fields and the topic on every batch; a failure is
  refused, or sends the batch down the rare path;
* **rare path**: only for a batch that failed an O(1) plausibility check, the records are walked
  (decompressed if needed), the field recomputed, written back into the header and the CRC32C
  redone in place; the Produce handler counts each such batch in
  ``odradek_batches_rewritten_total{field}``;
* **trusted**: stored as sent. The CRC covers the header from the attributes on, so only a
  producer that builds the lie on purpose can send one; what it then costs is written down.

Field by field (used for -> treatment -> the answer to a lie):

* ``baseOffset``, ``partitionLeaderEpoch`` -> nothing -> overwritten at append.
* ``batchLength`` -> framing -> O(1): whole batches, exactly one per partition -> CORRUPT_MESSAGE
  or INVALID_RECORD.
* ``magic`` -> format -> O(1): 2 -> INVALID_RECORD. ``crc`` -> integrity -> C, every batch ->
  CORRUPT_MESSAGE.
* attributes, codec -> readers decompress -> O(1): 0-4 (INVALID_RECORD); zstd only from Produce v7
  (UNSUPPORTED_COMPRESSION_TYPE); the body starts with the codec's frame magic for gzip, lz4 and
  zstd (CORRUPT_MESSAGE).
* attributes, timestamp type (LogAppendTime) -> record timestamps -> O(1): refused on LogAppendTime
  topics and when maxTimestamp is -1 (INVALID_TIMESTAMP, Kafka's rule); otherwise rare path: the
  bit is cleared and maxTimestamp recomputed (Kafka too stores such a batch as CreateTime).
* attributes, transactional -> LSO, aborted reads -> O(1): needs a producer id (INVALID_RECORD) and
  a ``transactional_id`` in the request (Produce handler: TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
* attributes, control -> transaction markers -> O(1): clients may not write them (INVALID_RECORD).
* attributes, delete horizon (bit 6) -> the cleaner's tombstone expiry -> O(1) test and rewrite:
  cleared, since a producer-set horizon would let the cleaner drop tombstones early.
* attributes, bits 7-15 -> nothing -> trusted, stored as sent (Kafka ignores them too).
* ``lastOffsetDelta`` -> offsets, the last sequence -> O(1): recordsCount - 1 (INVALID_RECORD, as
  Kafka's LogValidator).
* ``recordsCount`` -> metrics, readers -> O(1): >= 1 and lastOffsetDelta + 1 (INVALID_RECORD); an
  uncompressed batch's first record fits its body, and is the whole body for a one-record batch
  (CORRUPT_MESSAGE); beyond that trusted (below).
* ``baseTimestamp`` -> record timestamps (base + delta), bounds -> O(1): within
  ``message.timestamp.before/after.max.ms`` and <= maxTimestamp; else rare path: every record
  judged (INVALID_TIMESTAMP with Kafka's record_errors, one per record out of bounds).
* ``maxTimestamp`` -> time index, ListOffsets by time and MAX_TIMESTAMP, time retention, segment
  rolling -> O(1): not -1 (unless baseTimestamp is -1 too), >= baseTimestamp, within the bounds;
  else rare path: recomputed from the records and written back.
* ``producerId``, ``producerEpoch``, ``baseSequence`` -> idempotence, fencing, deduplication ->
  O(1): a producer id needs a sequence >= 0 (INVALID_RECORD, Kafka's rule); then the producer state
  (storage/producer_state.py): INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER, ...

What stays trusted, and what a deliberate lie then costs:

* recordsCount of a multi-record batch against its body (counting means walking): readers get the
  records that are there (librdkafka reads until the body ends); the offsets the header claims
  but no record holds are gaps, as after compaction. Whoever decodes the batch later (ListOffsets
  by time, the cleaner) treats it as corrupt and answers at batch level.
- a compressed body whose frame magic is right but whose content is not (decompressing is the
  per-record work this module avoids): readers fail to decompress that one batch.
* a maxTimestamp that is plausible (>= baseTimestamp, within bounds) but not the records' largest:
  the time index and ListOffsets by time place the batch by the header; a record later than the
  claimed maximum is found by a timestamp lookup only at the batch after it. A record older than
  ``before.max.ms`` behind an in-bounds first record, or later than ``after.max.ms`` behind an
  understated maximum, is accepted (Kafka refuses it).
* record offset deltas (Kafka does not check them for uncompressed batches either).

All of it is pure: no I/O, no clock (``now_ms`` is a parameter). `check_produce_batch` is the one
entry point; the rare path is `_walk_records`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol import compression
from odradek.protocol.primitives import ProtocolError, read_varint, read_varlong
from odradek.protocol.raw_records import batch_records
from odradek.protocol.records import (
    ATTRIBUTES_OFFSET,
    COMPRESSION_MASK,
    CONTROL_BIT,
    CRC_OFFSET,
    DELETE_HORIZON_BIT,
    HEADER_SIZE,
    MAX_TIMESTAMP_OFFSET,
    NO_TIMESTAMP,
    TIMESTAMP_TYPE_BIT,
    TRANSACTIONAL_BIT,
    BatchHeader,
    CorruptBatchError,
    crc_of,
    records_payload,
)

INVALID_TIMESTAMP_MESSAGE = "One or more records have been rejected due to invalid timestamp"
PRODUCE_ZSTD_SINCE = 7  # KIP-110: Produce v7 is the first that may carry zstd batches

# Rewritten fields, the label of odradek_batches_rewritten_total.
MAX_TIMESTAMP = "max_timestamp"
TIMESTAMP_TYPE = "timestamp_type"
DELETE_HORIZON = "delete_horizon"

_SUSPECT_BITS = CONTROL_BIT | TIMESTAMP_TYPE_BIT | DELETE_HORIZON_BIT
_LONG = 1 << 64
_LONG_MIN = -(1 << 63)
_ATTR = struct.Struct(">h")
_TS = struct.Struct(">q")
_CRC = struct.Struct(">I")
# Leading bytes of each codec's frame; snappy (xerial or raw blocks) has no fixed one.
_FRAME_MAGIC = {
    compression.GZIP: b"\x1f\x8b",
    compression.LZ4: b"\x04\x22\x4d\x18",
    compression.ZSTD: b"\x28\xb5\x2f\xfd",
}


class TimestampRules(Protocol):
    """The topic configs the checks read (`storage.log_config.LogConfig` has them)."""

    @property
    def log_append_time(self) -> bool: ...
    @property
    def message_timestamp_before_max_ms(self) -> int: ...
    @property
    def message_timestamp_after_max_ms(self) -> int: ...


class Rejection(NamedTuple):
    """The partition's answer for a refused batch; nothing is appended."""

    error_code: ErrorCode
    message: str
    record_errors: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Rewritten:
    """The batch was repaired in place: its new header and the fields that changed."""

    header: BatchHeader
    fields: tuple[str, ...]


def check_produce_gate(header: BatchHeader, api_version: int) -> Rejection | None:
    """Kafka's ProduceRequest.validateRecords, after magic and framing: zstd needs Produce v7+."""
    if header.attributes & COMPRESSION_MASK == compression.ZSTD and api_version < PRODUCE_ZSTD_SINCE:
        return Rejection(
            ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
            f"Produce requests with version {api_version} are not allowed to use ZStandard compression",
        )
    return None


def check_produce_batch(
    batch: memoryview, header: BatchHeader, rules: TimestampRules, now_ms: int, tp: TopicPartition
) -> BatchHeader | Rewritten | Rejection:
    """Judge one produced batch (CRC already checked): the same header when every O(1) check holds,
    a `Rewritten` header after the rare path repaired `batch` in place, or a `Rejection`."""
    _, _, _, _, _, attributes, last_delta, base, largest, producer_id, _, sequence, count = header
    if (
        not attributes & _SUSPECT_BITS
        and 0 < count == last_delta + 1
        and attributes & COMPRESSION_MASK <= compression.ZSTD
        and (sequence >= 0 if producer_id >= 0 else not attributes & TRANSACTIONAL_BIT)
        and _body_error(batch, header, attributes & COMPRESSION_MASK) is None
        and (
            rules.log_append_time
            or (
                base <= largest
                and (largest != NO_TIMESTAMP or base == NO_TIMESTAMP)
                and now_ms - base <= rules.message_timestamp_before_max_ms
                and largest - now_ms <= rules.message_timestamp_after_max_ms
            )
        )
    ):
        return header  # the hot path: every fact the header states is plausible
    return _judge(batch, header, rules, now_ms, tp)


def _judge(
    batch: memoryview, header: BatchHeader, rules: TimestampRules, now_ms: int, tp: TopicPartition
) -> Rewritten | Rejection:
    """A batch that failed an O(1) check: which one, and the answer (refused, or the rare path)."""
    attributes = header.attributes
    count = header.record_count
    if attributes & CONTROL_BIT:
        return _invalid(f"Clients are not allowed to write control records in topic partition {tp}")
    if count <= 0:
        return _invalid(f"Invalid reported count for record batch: {count} in topic partition {tp}")
    if header.last_offset_delta + 1 != count:
        return _invalid(
            f"Inconsistent batch offset range [{header.base_offset}, {header.last_offset}] and count of "
            f"records {count} in topic partition {tp}",
        )
    codec = attributes & COMPRESSION_MASK
    if codec > compression.ZSTD:
        return _invalid(f"Unknown compression type id: {codec} in topic partition {tp}")
    if header.producer_id >= 0 and header.base_sequence < 0:
        return _invalid(
            f"Invalid sequence number {header.base_sequence} in record batch with producerId "
            f"{header.producer_id} in topic partition {tp}",
        )
    if attributes & TRANSACTIONAL_BIT and header.producer_id < 0:
        return _invalid(f"Transactional record batch without a producer id in topic partition {tp}")
    body_error = _body_error(batch, header, codec)
    if body_error is not None:
        return Rejection(ErrorCode.CORRUPT_MESSAGE, f"{body_error} in topic partition {tp}")
    if rules.log_append_time:
        if attributes & TIMESTAMP_TYPE_BIT:
            return _log_append_time_from_producer(batch, header)
        unmarked = attributes & ~DELETE_HORIZON_BIT  # the only other suspect bit
        return _rewrite(batch, header, unmarked, header.max_timestamp, (DELETE_HORIZON,))
    return _rare_path(batch, header, rules, now_ms, tp)


def _body_error(batch: memoryview, header: BatchHeader, codec: int) -> str | None:
    """O(1) look at the records section: a compressed one starts with its codec's frame magic; an
    uncompressed one starts with a whole first record (which is the whole body for one record)."""
    size = header.size
    if size <= HEADER_SIZE:
        return "Record batch with records but an empty body"
    if codec:
        magic = _FRAME_MAGIC.get(codec)
        if magic is not None and batch[HEADER_SIZE : HEADER_SIZE + len(magic)] != magic:
            return f"Record batch body is not a {compression.NAMES[codec]} frame"
        return None
    b = batch[HEADER_SIZE]
    if b < 0x80:  # the first record's length, a one-byte varint (records under 64 bytes)
        length, start = (b >> 1) ^ -(b & 1), HEADER_SIZE + 1
    else:
        try:
            length, start = read_varint(batch, HEADER_SIZE)
        except ProtocolError:
            return "Record batch's first record has a malformed length"
    end = start + length
    if length < 1 or end > size or (header.record_count == 1 and end != size):
        return "Record batch's first record does not fit its body"
    return None


def _log_append_time_from_producer(batch: memoryview, header: BatchHeader) -> Rejection:
    """Kafka refuses every record of a LogAppendTime batch sent by a producer (one record error each)."""
    try:
        _, records = batch_records(batch, header)
    except CorruptBatchError as exc:
        return Rejection(ErrorCode.CORRUPT_MESSAGE, str(exc))
    reason = "Invalid timestamp type in message. Producer should not set timestamp type to LogAppendTime."
    errors = tuple((i, reason) for i in range(len(records)))
    return Rejection(ErrorCode.INVALID_TIMESTAMP, INVALID_TIMESTAMP_MESSAGE, errors)


def _rare_path(
    batch: memoryview, header: BatchHeader, rules: TimestampRules, now_ms: int, tp: TopicPartition
) -> Rewritten | Rejection:
    """CreateTime topic, a header whose timestamp facts are implausible: walk the records."""
    attributes = header.attributes
    fields: list[str] = []
    if attributes & TIMESTAMP_TYPE_BIT:
        if header.max_timestamp == NO_TIMESTAMP:
            return _log_append_time_from_producer(batch, header)
        # Kafka keeps such a batch and stores it as CreateTime; its records' own timestamps
        # (base + delta) then count, and the maximum is recomputed from them below.
        attributes &= ~TIMESTAMP_TYPE_BIT
        fields.append(TIMESTAMP_TYPE)
    if attributes & DELETE_HORIZON_BIT:
        attributes &= ~DELETE_HORIZON_BIT
        fields.append(DELETE_HORIZON)
    largest = _largest_timestamp_in_bounds(batch, header, rules, now_ms)
    if largest is None:  # some record is out of bounds (or unreadable): the full walk says which
        walked = _walk_records(batch, header, rules, now_ms)
        if isinstance(walked, str):
            return Rejection(ErrorCode.CORRUPT_MESSAGE, f"{walked} in topic partition {tp}")
        largest, refused = walked
        if refused:
            return Rejection(ErrorCode.INVALID_TIMESTAMP, INVALID_TIMESTAMP_MESSAGE, refused)
    if largest != header.max_timestamp:
        fields.append(MAX_TIMESTAMP)
    if not fields:
        return Rewritten(header, ())  # walked, nothing to change (e.g. records without timestamps)
    return _rewrite(batch, header, attributes, largest, tuple(fields))


def _largest_timestamp_in_bounds(
    batch: memoryview, header: BatchHeader, rules: TimestampRules, now_ms: int
) -> int | None:
    """The quick walk (Debian's sarama sends every batch down the rare path): per record only its
    length and timestampDelta are read. The records' largest timestamp when every record is within
    the bounds and the framing adds up; None otherwise."""
    try:
        payload = records_payload(batch, 0, header)
    except ProtocolError:
        return None
    end = len(payload)
    p = 0
    lowest = highest = None
    try:
        for _ in range(header.record_count):
            b = payload[p]
            length, body = ((b >> 1) ^ -(b & 1), p + 1) if b < 0x80 else read_varint(payload, p)
            b = payload[body + 1]  # after the attributes byte
            delta = (b >> 1) ^ -(b & 1) if b < 0x80 else read_varlong(payload, body + 1)[0]
            if lowest is None or highest is None:
                lowest = highest = delta
            elif delta > highest:
                highest = delta
            elif delta < lowest:
                lowest = delta
            p = body + length
            if length < 3 or p > end:
                return None
    except (IndexError, ProtocolError):
        return None
    if p != end or lowest is None or highest is None:
        return None
    base = header.base_timestamp
    first, last = base + lowest, base + highest
    before = rules.message_timestamp_before_max_ms
    after = rules.message_timestamp_after_max_ms
    if NO_TIMESTAMP in (first, last) or now_ms - first > before or last - now_ms > after:
        return None  # -1 is exempt record by record: let the full walk judge
    return max(last, NO_TIMESTAMP)


def _walk_records(
    batch: memoryview, header: BatchHeader, rules: TimestampRules, now_ms: int
) -> tuple[int, tuple[tuple[int, str], ...]] | str:
    """The records' largest timestamp and Kafka's record errors for those out of bounds, or why
    the records cannot be read (count not matching the body, bad framing, bad compression)."""
    try:
        _, records = batch_records(batch, header)
    except CorruptBatchError as exc:
        return str(exc)
    if len(records) != header.record_count:  # batch_records reads exactly that many or raises
        return "Record batch count does not match its records"
    before = rules.message_timestamp_before_max_ms
    after = rules.message_timestamp_after_max_ms
    base = header.base_timestamp
    largest = NO_TIMESTAMP
    refused: list[tuple[int, str]] = []
    for index, record in enumerate(records):
        ts = base + record.timestamp_delta
        largest = max(largest, ts)
        if ts != NO_TIMESTAMP and (now_ms - ts > before or ts - now_ms > after):
            offset = header.base_offset + record.offset_delta  # as sent: Kafka names it so
            refused.append(
                (
                    index,
                    f"Timestamp {ts} of message with offset {offset} is out of range. The timestamp "
                    f"should be within [{_as_long(now_ms - before)}, {_as_long(now_ms + after)}]",
                )
            )
    return largest, tuple(refused)


def _rewrite(
    batch: memoryview, header: BatchHeader, attributes: int, max_timestamp: int, fields: tuple[str, ...]
) -> Rewritten:
    """Write attributes and maxTimestamp into the batch's header and redo its CRC32C, in place."""
    _ATTR.pack_into(batch, ATTRIBUTES_OFFSET, attributes)
    _TS.pack_into(batch, MAX_TIMESTAMP_OFFSET, max_timestamp)
    crc = crc_of(batch, 0, header.size)
    _CRC.pack_into(batch, CRC_OFFSET, crc)
    return Rewritten(header._replace(attributes=attributes, max_timestamp=max_timestamp, crc=crc), fields)


def _invalid(message: str) -> Rejection:
    return Rejection(ErrorCode.INVALID_RECORD, message)


def _as_long(value: int) -> int:
    """Kafka prints its bounds computed in Java longs (`now + Long.MAX_VALUE` wraps)."""
    return (value - _LONG_MIN) % _LONG + _LONG_MIN
