"""Records of a batch as raw byte ranges, for rewriting a batch without re-encoding what it keeps.

The log cleaner keeps some records of a batch and drops the others. Every kept record must come out
byte for byte as it went in (attributes, header keys that need not be UTF-8, varint widths), so the
cleaner works on the ranges `iter_raw_records` yields instead of on `records.Record` objects, and
`assemble_batch` wraps the kept bytes in a new header (compressed again with the batch's codec).
The Produce path of compacted topics uses the same walk to find records without a key.

Record layout (inside the possibly compressed records section of a v2 batch, see `records.py`)::

    length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
    keyLength varint (-1 = null) | key | valueLength varint (-1 = null: a tombstone) | value |
    headerCount varint | headers...

A record's timestamp is `baseTimestamp + timestampDelta`; its offset `baseOffset + offsetDelta`.
When a batch gets a new `baseTimestamp` (the cleaner's delete horizon, KIP-534), each kept record
gets its delta shifted by `rebase_timestamp` so that its timestamp stays the same.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

from odradek.protocol import compression
from odradek.protocol.primitives import Buffer, ProtocolError, read_varint, read_varlong, write_varint
from odradek.protocol.records import (
    COMPRESSION_MASK,
    CONTROL_BIT,
    CRC_OFFSET,
    HEADER,
    HEADER_SIZE,
    LOG_OVERHEAD,
    MAGIC_V2,
    NO_TIMESTAMP,
    TIMESTAMP_TYPE_BIT,
    TRANSACTIONAL_BIT,
    BatchHeader,
    CorruptBatchError,
    crc_of,
    records_payload,
)

_CRC = struct.Struct(">I")


class RawRecord(NamedTuple):
    start: int  # first byte of the length varint, in the records section
    end: int  # first byte after the record
    attributes_at: int  # the attributes byte, right after the length varint
    timestamp_end: int  # first byte after the timestampDelta varint
    timestamp_delta: int
    offset_delta: int
    key: bytes | None
    has_value: bool  # False for a tombstone


def iter_raw_records(payload: Buffer, count: int) -> Iterator[RawRecord]:
    """The `count` records of a decompressed records section; raises CorruptBatchError."""
    end_of_payload = len(payload)
    p = 0
    try:
        for _ in range(count):
            # Varints of one byte (values -64..63) are by far the most common: decoded inline.
            b = payload[p]
            length, body = ((b >> 1) ^ -(b & 1), p + 1) if b < 0x80 else read_varint(payload, p)
            end = body + length
            if length < 1 or end > end_of_payload:
                raise CorruptBatchError("record length does not fit")
            b = payload[body + 1]
            timestamp_delta, timestamp_end = (
                ((b >> 1) ^ -(b & 1), body + 2) if b < 0x80 else read_varlong(payload, body + 1)
            )
            b = payload[timestamp_end]
            offset_delta, q = (
                ((b >> 1) ^ -(b & 1), timestamp_end + 1) if b < 0x80 else read_varint(payload, timestamp_end)
            )
            b = payload[q]
            key_length, q = ((b >> 1) ^ -(b & 1), q + 1) if b < 0x80 else read_varint(payload, q)
            key = None
            if key_length >= 0:
                if q + key_length > end:
                    raise CorruptBatchError("record key overruns the record")
                key = bytes(payload[q : q + key_length])
                q += key_length
            b = payload[q]
            value_length, q = ((b >> 1) ^ -(b & 1), q + 1) if b < 0x80 else read_varint(payload, q)
            if q + max(value_length, 0) > end:
                raise CorruptBatchError("record fields overrun the record")
            yield RawRecord(
                p, end, body, timestamp_end, timestamp_delta, offset_delta, key, value_length >= 0
            )
            p = end
    except (ProtocolError, IndexError) as exc:
        if isinstance(exc, CorruptBatchError):
            raise
        raise CorruptBatchError(f"truncated record: {exc}") from exc
    if p != end_of_payload:
        raise CorruptBatchError("bytes left after the last record")


def _payload(batch: Buffer, header: BatchHeader) -> Buffer:
    try:
        return records_payload(batch, 0, header)
    except ProtocolError as exc:
        raise CorruptBatchError(str(exc)) from exc


def batch_records(batch: Buffer, header: BatchHeader) -> tuple[Buffer, list[RawRecord]]:
    """The decompressed records section of a whole batch (starting at 0) and its records."""
    payload = _payload(batch, header)
    return payload, list(iter_raw_records(payload, header.record_count))


def rebase_timestamp(out: bytearray, payload: Buffer, record: RawRecord, shift: int) -> None:
    """Append `record` to `out` with its timestampDelta increased by `shift`, every other byte kept."""
    body = bytearray(payload[record.attributes_at : record.attributes_at + 1])
    write_varint(body, record.timestamp_delta + shift)
    body += payload[record.timestamp_end : record.end]
    write_varint(out, len(body))
    out += body


def assemble_batch(
    header: BatchHeader,
    records: Buffer,
    record_count: int,
    *,
    attributes: int,
    base_timestamp: int,
    max_timestamp: int,
) -> bytes:
    """A v2 batch with `header`'s offsets, epoch and producer fields around uncompressed `records`.

    The records are compressed with the codec in `attributes`; `lastOffsetDelta` stays the original
    batch's even when its last record is gone (Kafka keeps it so the producer's last sequence and the
    offsets after the batch stay as they were).
    """
    codec = attributes & COMPRESSION_MASK
    payload: Buffer = compression.compress(codec, bytes(records)) if codec else records
    out = bytearray(HEADER_SIZE)
    HEADER.pack_into(
        out,
        0,
        header.base_offset,
        HEADER_SIZE - LOG_OVERHEAD + len(payload),
        header.partition_leader_epoch,
        MAGIC_V2,
        0,
        attributes,
        header.last_offset_delta,
        base_timestamp,
        max_timestamp,
        header.producer_id,
        header.producer_epoch,
        header.base_sequence,
        record_count,
    )
    out += payload
    _CRC.pack_into(out, CRC_OFFSET, crc_of(out, 0, len(out)))
    return bytes(out)


def empty_batch(header: BatchHeader) -> bytes:
    """The batch with no records at all, as Kafka's cleaner writes it to keep a batch's offsets and
    producer fields: no compression, baseTimestamp -1, maxTimestamp kept, recordsCount 0."""
    kept_bits = header.attributes & (TIMESTAMP_TYPE_BIT | TRANSACTIONAL_BIT | CONTROL_BIT)
    return assemble_batch(
        header, b"", 0, attributes=kept_bits, base_timestamp=NO_TIMESTAMP, max_timestamp=header.max_timestamp
    )


def records_without_key(batch: Buffer, header: BatchHeader) -> list[int]:
    """Indexes (within the batch) of the records whose key is null; raises CorruptBatchError."""
    payload = _payload(batch, header)
    return [i for i, r in enumerate(iter_raw_records(payload, header.record_count)) if r.key is None]
