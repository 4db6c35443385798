"""Kafka protocol primitive types.

Readers take a buffer (``bytes``/``memoryview``) and a position and return ``(value, new_position)``;
they raise `ProtocolError` when the buffer ends early or a length is invalid, never IndexError.
Writers append to a ``bytearray``.

Wire formats (all big-endian):

* ``int8/int16/int32/int64``, ``uint16/uint32``, ``float64``: fixed width, two's complement.
* ``varint``/``varlong``: zig-zag encoded signed integers, 7 bits per byte, low group first
  (record batch fields). ``uvarint``: the same without zig-zag (compact lengths, tags). As in
  Kafka, a varint (32 bits) takes at most 5 bytes and a varlong (64 bits) at most 10; a longer
  encoding is a `ProtocolError`, and bits past the width in the last byte are dropped.
* ``string``: int16 length then UTF-8 bytes; -1 means null. ``compact_string``: uvarint(length + 1),
  0 means null.
* ``bytes``: int32 length; ``compact_bytes``: uvarint(length + 1).
* arrays: int32 count (-1 null) or uvarint(count + 1) (0 null) in flexible versions.
* ``uuid``: 16 raw bytes.
* tagged fields (KIP-482): uvarint count, then per field uvarint tag, uvarint size, data.
"""

from __future__ import annotations

import struct
import uuid

INT8 = struct.Struct(">b")
INT16 = struct.Struct(">h")
UINT16 = struct.Struct(">H")
INT32 = struct.Struct(">i")
UINT32 = struct.Struct(">I")
INT64 = struct.Struct(">q")
FLOAT64 = struct.Struct(">d")

Buffer = bytes | bytearray | memoryview


class ProtocolError(Exception):
    """The bytes do not form a valid message (truncated, bad length, bad UTF-8...)."""


def _need(buf: Buffer, pos: int, n: int) -> None:
    if n < 0 or pos + n > len(buf):
        raise ProtocolError(f"need {n} bytes at {pos}, buffer has {len(buf)}")


def read_int8(buf: Buffer, pos: int) -> tuple[int, int]:
    _need(buf, pos, 1)
    return INT8.unpack_from(buf, pos)[0], pos + 1


def read_bool(buf: Buffer, pos: int) -> tuple[bool, int]:
    _need(buf, pos, 1)
    return buf[pos] != 0, pos + 1


def read_int16(buf: Buffer, pos: int) -> tuple[int, int]:
    _need(buf, pos, 2)
    return INT16.unpack_from(buf, pos)[0], pos + 2


def read_uint16(buf: Buffer, pos: int) -> tuple[int, int]:
    _need(buf, pos, 2)
    return UINT16.unpack_from(buf, pos)[0], pos + 2


def read_int32(buf: Buffer, pos: int) -> tuple[int, int]:
    _need(buf, pos, 4)
    return INT32.unpack_from(buf, pos)[0], pos + 4


def read_uint32(buf: Buffer, pos: int) -> tuple[int, int]:
    _need(buf, pos, 4)
    return UINT32.unpack_from(buf, pos)[0], pos + 4


def read_int64(buf: Buffer, pos: int) -> tuple[int, int]:
    _need(buf, pos, 8)
    return INT64.unpack_from(buf, pos)[0], pos + 8


def read_float64(buf: Buffer, pos: int) -> tuple[float, int]:
    _need(buf, pos, 8)
    return FLOAT64.unpack_from(buf, pos)[0], pos + 8


def read_uuid(buf: Buffer, pos: int) -> tuple[uuid.UUID, int]:
    _need(buf, pos, 16)
    return uuid.UUID(bytes=bytes(buf[pos : pos + 16])), pos + 16


def read_uvarint(buf: Buffer, pos: int) -> tuple[int, int]:
    """An unsigned 32-bit varint: at most 5 bytes (Kafka rejects longer encodings)."""
    end = len(buf)
    if pos >= end:
        raise ProtocolError("truncated varint")
    b = buf[pos]
    pos += 1
    if b < 0x80:  # one byte: by far the most common
        return b, pos
    result = b & 0x7F
    shift = 7
    while True:
        if pos >= end:
            raise ProtocolError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            # Bits past 32 are dropped, as Java's int arithmetic drops them.
            return result & 0xFFFFFFFF, pos
        shift += 7
        if shift > 28:
            raise ProtocolError("varint too long")


def read_varint(buf: Buffer, pos: int) -> tuple[int, int]:
    """A zig-zag signed 32-bit varint (at most 5 bytes)."""
    raw, pos = read_uvarint(buf, pos)
    return (raw >> 1) ^ -(raw & 1), pos


def read_varlong(buf: Buffer, pos: int) -> tuple[int, int]:
    """A zig-zag signed 64-bit varint: at most 10 bytes (only timestampDelta in records is one)."""
    # Its own loop rather than a width parameter on read_uvarint: that one is on every hot path.
    raw = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise ProtocolError("truncated varint")
        b = buf[pos]
        pos += 1
        raw |= (b & 0x7F) << shift
        if b < 0x80:
            raw &= 0xFFFFFFFFFFFFFFFF  # bits past 64 are dropped, as in Java
            return (raw >> 1) ^ -(raw & 1), pos
        shift += 7
        if shift > 63:
            raise ProtocolError("varint too long")


def _decode_utf8(raw: Buffer) -> str:
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError("invalid UTF-8 in string") from exc


def read_string(buf: Buffer, pos: int) -> tuple[str | None, int]:
    n, pos = read_int16(buf, pos)
    if n < 0:
        if n != -1:
            raise ProtocolError(f"invalid string length {n}")
        return None, pos
    _need(buf, pos, n)
    return _decode_utf8(buf[pos : pos + n]), pos + n


def read_compact_string(buf: Buffer, pos: int) -> tuple[str | None, int]:
    n, pos = read_uvarint(buf, pos)
    if n == 0:
        return None, pos
    n -= 1
    _need(buf, pos, n)
    return _decode_utf8(buf[pos : pos + n]), pos + n


def read_bytes(buf: Buffer, pos: int) -> tuple[memoryview | None, int]:
    """Bytes are returned as a memoryview slice of the input: no copy."""
    n, pos = read_int32(buf, pos)
    if n < 0:
        if n != -1:
            raise ProtocolError(f"invalid bytes length {n}")
        return None, pos
    _need(buf, pos, n)
    return memoryview(buf)[pos : pos + n], pos + n


def read_compact_bytes(buf: Buffer, pos: int) -> tuple[memoryview | None, int]:
    n, pos = read_uvarint(buf, pos)
    if n == 0:
        return None, pos
    n -= 1
    _need(buf, pos, n)
    return memoryview(buf)[pos : pos + n], pos + n


def read_array_length(buf: Buffer, pos: int, compact: bool) -> tuple[int, int]:
    """-1 for a null array. Lengths are bounded by the bytes left (each element is >= 1 byte)."""
    if compact:
        n, pos = read_uvarint(buf, pos)
        n -= 1
    else:
        n, pos = read_int32(buf, pos)
        if n < -1:
            raise ProtocolError(f"invalid array length {n}")
    if n > len(buf) - pos:
        raise ProtocolError(f"array length {n} exceeds the {len(buf) - pos} bytes left")
    return n, pos


def skip_tagged_fields(buf: Buffer, pos: int) -> int:
    count, pos = read_uvarint(buf, pos)
    for _ in range(count):
        _tag, pos = read_uvarint(buf, pos)
        size, pos = read_uvarint(buf, pos)
        _need(buf, pos, size)
        pos += size
    return pos


# --- writers ---------------------------------------------------------------------------------


def write_uvarint(out: bytearray, value: int) -> None:
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def write_varint(out: bytearray, value: int) -> None:
    write_uvarint(out, (value << 1) ^ (value >> 63))


def uvarint_size(value: int) -> int:
    size = 1
    while value > 0x7F:
        value >>= 7
        size += 1
    return size


def varint_size(value: int) -> int:
    return uvarint_size((value << 1) ^ (value >> 63))


def write_string(out: bytearray, value: str | None) -> None:
    if value is None:
        out += b"\xff\xff"
        return
    raw = value.encode()
    out += INT16.pack(len(raw))
    out += raw


def write_compact_string(out: bytearray, value: str | None) -> None:
    if value is None:
        out.append(0)
        return
    raw = value.encode()
    write_uvarint(out, len(raw) + 1)
    out += raw


def write_bytes(out: bytearray, value: Buffer | None) -> None:
    if value is None:
        out += b"\xff\xff\xff\xff"
        return
    out += INT32.pack(len(value))
    out += value


def write_compact_bytes(out: bytearray, value: Buffer | None) -> None:
    if value is None:
        out.append(0)
        return
    write_uvarint(out, len(value) + 1)
    out += value


def write_array_length(out: bytearray, n: int, compact: bool) -> None:
    """`n` = -1 writes a null array."""
    if compact:
        write_uvarint(out, n + 1)
    else:
        out += INT32.pack(n)
