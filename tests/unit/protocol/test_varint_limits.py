"""Varint widths as Kafka's ByteUtils has them: a varint takes at most 5 bytes, a varlong at most 10;
a longer encoding is a ProtocolError (CorruptBatchError inside a record batch)."""

from __future__ import annotations

import pytest

from odradek.protocol import codec
from odradek.protocol.messages import find_coordinator
from odradek.protocol.primitives import ProtocolError, read_uvarint, read_varint, read_varlong
from odradek.protocol.raw_records import iter_raw_records
from odradek.protocol.records import (
    CorruptBatchError,
    build_batch,
    iter_records,
    read_header,
    records_payload,
)

NOW = 1_700_000_000_000


def test_uvarint_of_five_bytes_is_read() -> None:
    assert read_uvarint(b"\xff\xff\xff\xff\x0f", 0) == (0xFFFFFFFF, 5)
    assert read_uvarint(b"\x80\x80\x80\x80\x00", 0) == (0, 5)  # padded, still 5 bytes: accepted
    assert read_uvarint(b"\x07\x96\x01", 1) == (150, 3)


def test_uvarint_of_six_bytes_is_rejected() -> None:
    with pytest.raises(ProtocolError, match="varint too long"):
        read_uvarint(b"\x80\x80\x80\x80\x80\x00", 0)
    with pytest.raises(ProtocolError, match="varint too long"):
        read_varint(b"\xff\xff\xff\xff\xff\x01", 0)


def test_fifth_byte_bits_past_32_are_dropped() -> None:
    assert read_uvarint(b"\xff\xff\xff\xff\x7f", 0) == (0xFFFFFFFF, 5)
    assert read_varint(b"\xfe\xff\xff\xff\x0f", 0) == (2**31 - 1, 5)
    assert read_varint(b"\xff\xff\xff\xff\x7f", 0) == (-(2**31), 5)


def test_truncated_varint_is_rejected() -> None:
    for buf in (b"", b"\x80", b"\xff\xff\xff\xff"):
        with pytest.raises(ProtocolError, match="truncated varint"):
            read_uvarint(buf, 0)
    with pytest.raises(ProtocolError, match="truncated varint"):
        read_varlong(b"\xff" * 9, 0)


def test_varlong_of_ten_bytes_is_read() -> None:
    assert read_varlong(b"\xff" * 9 + b"\x01", 0) == (-(2**63), 10)
    assert read_varlong(b"\xfe" + b"\xff" * 8 + b"\x01", 0) == (2**63 - 1, 10)
    assert read_varlong(b"\xff" * 9 + b"\x7f", 0) == (-(2**63), 10)  # bits past 64 dropped
    assert read_varlong(b"\x80\x80\x80\x80\x80\x01", 0) == (2**34, 6)


def test_varlong_of_eleven_bytes_is_rejected() -> None:
    with pytest.raises(ProtocolError, match="varint too long"):
        read_varlong(b"\x80" * 10 + b"\x00", 0)


def test_timestamp_delta_past_32_bits_survives_both_record_walks() -> None:
    late = NOW + 2**40
    raw = build_batch([(b"k", b"v", [], NOW), (b"k", b"w", [], late)])
    header = read_header(raw)
    assert [r.timestamp for r in iter_records(raw, 0, header)] == [NOW, late]
    assert [r.timestamp_delta for r in iter_raw_records(records_payload(raw, 0, header), 2)] == [0, 2**40]


def _record(offset_delta: bytes) -> bytes:
    # attributes 0, timestampDelta 0, the given offsetDelta, null key, null value, no headers
    body = b"\x00\x00" + offset_delta + b"\x01\x01\x00"
    return bytes([len(body) * 2]) + body


def test_overlong_varint_in_a_record_is_a_corrupt_batch() -> None:
    assert next(iter_raw_records(_record(b"\x80\x80\x80\x80\x00"), 1)).offset_delta == 0
    with pytest.raises(CorruptBatchError, match="varint too long"):
        list(iter_raw_records(_record(b"\x80\x80\x80\x80\x80\x00"), 1))


def test_overlong_compact_length_in_a_request_is_a_protocol_error() -> None:
    schema = find_coordinator.REQUEST
    request = find_coordinator.FindCoordinatorRequest(key="g")
    raw = codec.encode_bytes(schema, 3, request)
    assert raw[:2] == b"\x02g"  # compact string "g": uvarint(1 + 1)
    assert codec.decode(schema, 3, b"\x82\x80\x80\x80\x00" + raw[1:])[0].key == "g"
    with pytest.raises(ProtocolError, match="varint too long"):
        codec.decode(schema, 3, b"\x82\x80\x80\x80\x80\x00" + raw[1:])
