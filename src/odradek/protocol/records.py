"""Record batches, magic v2: the unit that crosses the wire and lies on disk unchanged.

Batch layout (big-endian; offsets in bytes from the batch start)::

    0  baseOffset            int64   restamped by the broker on append
    8  batchLength           int32   bytes after this field (so batch size = batchLength + 12)
   12  partitionLeaderEpoch  int32   restamped by the broker on append
   16  magic                 int8    2
   17  crc                   uint32  CRC-32C of bytes 21..end (attributes onward)
   21  attributes            int16   bits 0-2 compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd),
                                     bit 3 timestamp type (1 = LogAppendTime), bit 4 transactional,
                                     bit 5 control, bit 6 has delete horizon (compaction)
   23  lastOffsetDelta       int32
   27  baseTimestamp         int64
   35  maxTimestamp          int64
   43  producerId            int64
   51  producerEpoch         int16
   53  baseSequence          int32
   57  recordsCount          int32
   61  records...            (compressed as a whole when compression != 0)

Record layout: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
keyLength varint (-1 null), key, valueLength varint (-1 null), value, headerCount varint, then per
header keyLength varint, key (UTF-8), valueLength varint (-1 null), value.

Control records (transaction markers) have key = version int16 (0), type int16 (0 abort, 1 commit)
and value = version int16 (0), coordinatorEpoch int32.

Because the CRC starts at ``attributes``, the broker may rewrite baseOffset and
partitionLeaderEpoch without recomputing it; nothing on the Produce/Fetch path decodes records.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from odradek.protocol import compression
from odradek.protocol.checksum import crc32c as _crc32c
from odradek.protocol.primitives import (
    Buffer,
    ProtocolError,
    read_varint,
    read_varlong,
    write_varint,
)

HEADER = struct.Struct(">qiibIhiqqqhii")
HEADER_SIZE = HEADER.size  # 61
LOG_OVERHEAD = 12  # baseOffset + batchLength
CRC_OFFSET = 17
ATTRIBUTES_OFFSET = 21
BASE_TIMESTAMP_OFFSET = 27
MAX_TIMESTAMP_OFFSET = 35
_BASE_OFFSET_AND_LENGTH = struct.Struct(">qi")
_BASE_AND_EPOCH = struct.Struct(">q")
_EPOCH = struct.Struct(">i")
_ATTR = struct.Struct(">h")
_CRC = struct.Struct(">I")
_TS = struct.Struct(">q")
_I16 = struct.Struct(">h")
_CONTROL_VALUE = struct.Struct(">hi")

MAGIC_V2 = 2
COMPRESSION_MASK = 0x07
TIMESTAMP_TYPE_BIT = 0x08
TRANSACTIONAL_BIT = 0x10
CONTROL_BIT = 0x20
DELETE_HORIZON_BIT = 0x40

CONTROL_ABORT = 0
CONTROL_COMMIT = 1

NO_TIMESTAMP = -1


class CorruptBatchError(ProtocolError):
    """CRC mismatch, bad magic, or a length that does not fit: Kafka's CORRUPT_MESSAGE."""


class UnsupportedMagicError(CorruptBatchError):
    """A batch whose magic is not 2: Kafka answers INVALID_RECORD to Produce v3+ (KIP-896 dropped
    the older formats), CORRUPT_MESSAGE elsewhere."""


class BatchHeader(NamedTuple):
    base_offset: int
    batch_length: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    record_count: int

    @property
    def size(self) -> int:
        return self.batch_length + LOG_OVERHEAD

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def next_offset(self) -> int:
        return self.base_offset + self.last_offset_delta + 1

    @property
    def compression(self) -> int:
        return self.attributes & COMPRESSION_MASK

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & TRANSACTIONAL_BIT)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & CONTROL_BIT)

    @property
    def log_append_time(self) -> bool:
        return bool(self.attributes & TIMESTAMP_TYPE_BIT)

    @property
    def last_sequence(self) -> int:
        if self.base_sequence < 0:
            return -1
        return (self.base_sequence + self.last_offset_delta) & 0x7FFFFFFF


def read_header(buf: Buffer, pos: int = 0) -> BatchHeader:
    if pos + HEADER_SIZE > len(buf):
        raise CorruptBatchError("truncated record batch header")
    return BatchHeader._make(HEADER.unpack_from(buf, pos))


def crc_of(buf: Buffer, pos: int, size: int) -> int:
    """CRC-32C over attributes..end of the batch at `pos` with total `size`."""
    view = memoryview(buf)[pos + ATTRIBUTES_OFFSET : pos + size]
    return int(_crc32c(view))


def validate_batches(buf: Buffer, verify_crc: bool = True) -> list[BatchHeader]:
    """Split a Produce request's records into batch headers, checking each one.

    Raises `CorruptBatchError` for anything not a sequence of whole, valid v2 batches. Work is per
    batch (a header unpack and one CRC in C), never per record.
    """
    headers: list[BatchHeader] = []
    pos = 0
    end = len(buf)
    if end == 0:
        raise CorruptBatchError("empty record set")
    while pos < end:
        if end - pos < HEADER_SIZE:
            raise CorruptBatchError("truncated record batch")
        header = BatchHeader._make(HEADER.unpack_from(buf, pos))
        size = header.batch_length + LOG_OVERHEAD
        if header.batch_length < HEADER_SIZE - LOG_OVERHEAD or pos + size > end:
            raise CorruptBatchError(f"record batch length {header.batch_length} does not fit")
        if header.magic != MAGIC_V2:
            raise UnsupportedMagicError(f"unsupported record batch magic {header.magic}")
        if header.record_count < 0 or header.last_offset_delta < 0:
            raise CorruptBatchError("negative record count or offset delta")
        if verify_crc and crc_of(buf, pos, size) != header.crc:
            raise CorruptBatchError("record batch CRC mismatch")
        headers.append(header)
        pos += size
    return headers


def iter_headers(buf: Buffer, pos: int = 0) -> Iterator[tuple[int, BatchHeader]]:
    """Batches in a log buffer as ``(position, header)``; stops at a torn tail without raising."""
    end = len(buf)
    while end - pos >= HEADER_SIZE:
        header = BatchHeader._make(HEADER.unpack_from(buf, pos))
        size = header.batch_length + LOG_OVERHEAD
        if header.batch_length < HEADER_SIZE - LOG_OVERHEAD or pos + size > end:
            return
        yield pos, header
        pos += size


def restamp(buf: bytearray | memoryview, pos: int, base_offset: int, leader_epoch: int) -> None:
    """Assign the batch its log offset and leader epoch in place; the CRC stays valid."""
    _BASE_AND_EPOCH.pack_into(buf, pos, base_offset)
    _EPOCH.pack_into(buf, pos + 12, leader_epoch)


def set_log_append_time(buf: bytearray | memoryview, pos: int, size: int, timestamp_ms: int) -> None:
    """For `message.timestamp.type=LogAppendTime`: stamp maxTimestamp, set the type bit, redo the CRC."""
    (attributes,) = _ATTR.unpack_from(buf, pos + ATTRIBUTES_OFFSET)
    _ATTR.pack_into(buf, pos + ATTRIBUTES_OFFSET, attributes | TIMESTAMP_TYPE_BIT)
    _TS.pack_into(buf, pos + MAX_TIMESTAMP_OFFSET, timestamp_ms)
    _CRC.pack_into(buf, pos + CRC_OFFSET, crc_of(buf, pos, size))


# --- records (decoded only off the hot path: compaction, tools, internal topics) ---------------


@dataclass(slots=True)
class Record:
    """One decoded record of a batch (tools and tests; the broker never decodes records)."""

    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]] = field(default_factory=list)


def _read_varbytes(buf: Buffer, pos: int) -> tuple[bytes | None, int]:
    n, pos = read_varint(buf, pos)
    if n < 0:
        return None, pos
    if pos + n > len(buf):
        raise CorruptBatchError("truncated record field")
    return bytes(buf[pos : pos + n]), pos + n


def records_payload(buf: Buffer, pos: int, header: BatchHeader) -> bytes | memoryview:
    """The (decompressed) records section of a batch."""
    body = memoryview(buf)[pos + HEADER_SIZE : pos + header.size]
    if header.compression:
        return compression.decompress(header.compression, body)
    return body


def iter_records(buf: Buffer, pos: int, header: BatchHeader) -> Iterator[Record]:
    payload = records_payload(buf, pos, header)
    p = 0
    for _ in range(header.record_count):
        length, p = read_varint(payload, p)
        end = p + length
        if length < 0 or end > len(payload):
            raise CorruptBatchError("record length does not fit")
        p += 1  # attributes (unused)
        ts_delta, p = read_varlong(payload, p)
        off_delta, p = read_varint(payload, p)
        key, p = _read_varbytes(payload, p)
        value, p = _read_varbytes(payload, p)
        n_headers, p = read_varint(payload, p)
        headers: list[tuple[str, bytes | None]] = []
        for _ in range(n_headers):
            hk, p = _read_varbytes(payload, p)
            hv, p = _read_varbytes(payload, p)
            headers.append(((hk or b"").decode("utf-8", "replace"), hv))
        if p != end:
            raise CorruptBatchError("record length mismatch")
        timestamp = header.max_timestamp if header.log_append_time else header.base_timestamp + ts_delta
        yield Record(header.base_offset + off_delta, timestamp, key, value, headers)


def _write_varbytes(out: bytearray, value: bytes | None) -> None:
    if value is None:
        write_varint(out, -1)
    else:
        write_varint(out, len(value))
        out += value


def encode_record(
    out: bytearray,
    offset_delta: int,
    timestamp_delta: int,
    key: bytes | None,
    value: bytes | None,
    headers: Iterable[tuple[str, bytes | None]] = (),
) -> None:
    body = bytearray(b"\x00")
    write_varint(body, timestamp_delta)
    write_varint(body, offset_delta)
    _write_varbytes(body, key)
    _write_varbytes(body, value)
    hs = list(headers)
    write_varint(body, len(hs))
    for hk, hv in hs:
        _write_varbytes(body, hk.encode())
        _write_varbytes(body, hv)
    write_varint(out, len(body))
    out += body


@dataclass(slots=True)
class BatchSpec:
    """What a new batch carries besides its records."""

    base_offset: int = 0
    partition_leader_epoch: int = -1
    compression: int = 0
    producer_id: int = -1
    producer_epoch: int = -1
    base_sequence: int = -1
    is_transactional: bool = False
    is_control: bool = False
    log_append_time: bool = False


_NO_SPEC = BatchSpec()
"""`build_batch`'s default (read, never changed)."""


def build_batch(
    records: Iterable[tuple[bytes | None, bytes | None, list[tuple[str, bytes | None]], int]],
    spec: BatchSpec | None = None,
    offset_deltas: Iterable[int] | None = None,
) -> bytes:
    """Encode ``(key, value, headers, timestamp_ms)`` tuples as one v2 batch.

    `offset_deltas` keeps original offsets when rewriting (compaction); by default 0, 1, 2...
    """
    spec = spec or _NO_SPEC
    items = records if type(records) is list else list(records)
    if not items:
        raise ValueError("a record batch needs at least one record")
    deltas = list(offset_deltas) if offset_deltas is not None else range(len(items))
    if len(items) == 1:  # a coordinator's record, a control record: no scans
        base_ts = max_ts = items[0][3]
    else:
        base_ts = min(ts for *_, ts in items)
        max_ts = max(ts for *_, ts in items)
    body = bytearray()
    for (key, value, headers, ts), delta in zip(items, deltas, strict=True):
        encode_record(body, delta, ts - base_ts, key, value, headers)
    payload: bytes | bytearray = body
    if spec.compression:
        payload = compression.compress(spec.compression, bytes(body))
    attributes = spec.compression
    if spec.log_append_time:
        attributes |= TIMESTAMP_TYPE_BIT
    if spec.is_transactional:
        attributes |= TRANSACTIONAL_BIT
    if spec.is_control:
        attributes |= CONTROL_BIT
    batch_length = HEADER_SIZE - LOG_OVERHEAD + len(payload)
    out = bytearray(HEADER_SIZE)
    HEADER.pack_into(
        out,
        0,
        spec.base_offset,
        batch_length,
        spec.partition_leader_epoch,
        MAGIC_V2,
        0,
        attributes,
        deltas[-1],
        base_ts,
        max_ts,
        spec.producer_id,
        spec.producer_epoch,
        spec.base_sequence,
        len(items),
    )
    out += payload
    _CRC.pack_into(out, CRC_OFFSET, crc_of(out, 0, len(out)))
    return bytes(out)


def build_control_batch(
    marker_type: int,
    producer_id: int,
    producer_epoch: int,
    coordinator_epoch: int,
    timestamp_ms: int,
    base_offset: int = 0,
) -> bytes:
    """A COMMIT (1) or ABORT (0) transaction marker batch."""
    key = _I16.pack(0) + _I16.pack(marker_type)
    value = _CONTROL_VALUE.pack(0, coordinator_epoch)
    spec = BatchSpec(
        base_offset=base_offset,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        is_transactional=True,
        is_control=True,
    )
    return build_batch([(key, value, [], timestamp_ms)], spec)


def build_plain_batch(
    records: Sequence[tuple[bytes | None, bytes | None]],
    timestamp_ms: int,
    producer_id: int = -1,
    producer_epoch: int = -1,
    is_transactional: bool = False,
) -> tuple[bytearray, BatchHeader]:
    """`build_batch` of uncompressed records without headers, all stamped `timestamp_ms` (what a
    coordinator appends: one OffsetCommit record per committed partition), written straight into
    one buffer; also returns the header it wrote. The same bytes as `build_batch` (a test compares
    them)."""
    if not records:
        raise ValueError("a record batch needs at least one record")
    if len(records) == 1:
        key, value = records[0]
        if (
            key is not None
            and value is not None
            and producer_id == producer_epoch == -1
            and not is_transactional
        ):
            # a coordinator's usual batch: one record, the same key again and again (one group's
            # partition), a value of the same size; everything but the value, the timestamps and
            # the CRC is kept per (key, value size), header included
            template = _SINGLE_TEMPLATES.get((key, len(value)))
            if template is None:
                template = _single_template(key, len(value))
            out = bytearray(template[0])
            out += value
            out.append(0)  # no headers
            _TIMESTAMPS.pack_into(out, BASE_TIMESTAMP_OFFSET, timestamp_ms, timestamp_ms)
            crc = int(_crc32c(memoryview(out)[ATTRIBUTES_OFFSET:]))
            _CRC.pack_into(out, CRC_OFFSET, crc)
            return out, BatchHeader(
                0, template[1], -1, MAGIC_V2, crc, 0, 0, timestamp_ms, timestamp_ms, -1, -1, -1, 1
            )
        out = bytearray(HEADER_SIZE)
        _put_single(out, key, value)
    else:
        out = bytearray(HEADER_SIZE)
        _put_records(out, records)
    attributes = TRANSACTIONAL_BIT if is_transactional else 0
    header = [0, len(out) - LOG_OVERHEAD, -1, MAGIC_V2, 0, attributes, len(records) - 1]
    header += (timestamp_ms, timestamp_ms, producer_id, producer_epoch, -1, len(records))
    HEADER.pack_into(out, 0, *header)
    header[4] = crc = int(_crc32c(memoryview(out)[ATTRIBUTES_OFFSET:]))
    _CRC.pack_into(out, CRC_OFFSET, crc)
    return out, BatchHeader._make(header)


_TIMESTAMPS = struct.Struct(">qq")
"""A batch's base and max timestamps."""
_SINGLE_TEMPLATES: dict[tuple[bytes, int], tuple[bytes, int]] = {}
_MAX_SINGLE_TEMPLATES = 16_384


def _single_template(key: bytes, value_size: int) -> tuple[bytes, int]:
    """A plain (no producer) single-record batch up to its value, and its batch length: the header
    with timestamps and CRC 0, then the record's length, attributes, deltas, key and value length."""
    out = bytearray(HEADER_SIZE)
    _put_single(out, key, bytes(value_size))
    length = len(out) - LOG_OVERHEAD
    HEADER.pack_into(out, 0, 0, length, -1, MAGIC_V2, 0, 0, 0, 0, 0, -1, -1, -1, 1)
    template = (bytes(out[: len(out) - value_size - 1]), length)
    if len(_SINGLE_TEMPLATES) >= _MAX_SINGLE_TEMPLATES:
        _SINGLE_TEMPLATES.clear()
    _SINGLE_TEMPLATES[(key, value_size)] = template
    return template


_NO_DELTAS = b"\x00\x00\x00"
"""A record's attributes, timestamp delta and offset delta when all three are 0 (a batch's first)."""


def _put_single(out: bytearray, key: bytes | None, value: bytes | None) -> None:
    """The one record of a batch, without building it apart first (its length comes first)."""
    size = 6 + (0 if key is None else len(key)) + (0 if value is None else len(value))
    if key is not None and len(key) >= 0x40:
        size += len(_varint_bytes(len(key))) - 1
    if value is not None and len(value) >= 0x40:
        size += len(_varint_bytes(len(value))) - 1
    _put_varint(out, size)
    out += _NO_DELTAS
    if key is None:
        out.append(1)  # zigzag(-1)
    else:
        _put_varint(out, len(key))
        out += key
    if value is None:
        out.append(1)
    else:
        _put_varint(out, len(value))
        out += value
    out.append(0)


def _varint_bytes(value: int) -> bytearray:
    out = bytearray()
    write_varint(out, value)
    return out


def _put_records(out: bytearray, records: Sequence[tuple[bytes | None, bytes | None]]) -> None:
    for delta, (key, value) in enumerate(records):
        # attributes 0, timestamp delta 0, then the offset delta, key, value and no headers
        body = bytearray(b"\x00\x00")
        _put_varint(body, delta)
        if key is None:
            body.append(1)  # zigzag(-1)
        else:
            _put_varint(body, len(key))
            body += key
        if value is None:
            body.append(1)
        else:
            _put_varint(body, len(value))
            body += value
        body.append(0)
        _put_varint(out, len(body))
        out += body


def _put_varint(out: bytearray, value: int) -> None:
    if 0 <= value < 0x40:  # one byte: the usual length or offset delta
        out.append(value << 1)
    else:
        write_varint(out, value)


def control_type(record_key: bytes | None) -> int:
    """COMMIT or ABORT from a control record's key; -1 when unknown."""
    if record_key is None or len(record_key) < 4:
        return -1
    return int(_I16.unpack_from(record_key, 2)[0])


def split_batches(buf: Buffer) -> list[memoryview]:
    view = memoryview(buf)
    return [view[p : p + h.size] for p, h in iter_headers(view)]


def base_offset_and_length(buf: Buffer, pos: int) -> tuple[int, int]:
    base_offset, length = _BASE_OFFSET_AND_LENGTH.unpack_from(buf, pos)
    return int(base_offset), int(length)
