"""The decoders face hostile bytes: they may only raise `ProtocolError`, and never allocate unboundedly.

For every (schema, version): random bytes; every truncation of a valid encoding (which must fail,
since parsing is prefix-deterministic and the whole encoding was needed); every position of a valid
encoding overwritten with huge or negative int16/int32 lengths, a 5-byte uvarint and null markers;
random bit flips. Whatever decodes must conform to the schema (null only where nullable, values of
the declared types) and hold no more list elements than the input has bytes, and a tracemalloc probe
bounds the peak memory of decoding hostile 1 KiB inputs. The same for the request header parser and
the record batch helpers (`validate_batches`, `iter_headers`, `iter_records`).
"""

from __future__ import annotations

import contextlib
import tracemalloc
from typing import Any

import pytest
from codec_hostile import LENGTH_PATTERNS, conforms, elements, mutate, overwrites
from codec_settings import budget
from codec_strategies import SMALL_SIZES, case_id, cases, messages
from hypothesis import given
from hypothesis import strategies as st

from odradek.protocol import codec, framing, records
from odradek.protocol.primitives import ProtocolError
from odradek.protocol.schema import MessageSchema

CASES = cases()


def decode_hostile(schema: MessageSchema, version: int, buf: bytes) -> None:
    """Decode `buf`: ProtocolError is fine; anything else propagates; success must be bounded and
    conform to the schema."""
    try:
        obj, pos = codec.decode(schema, version, buf)
    except ProtocolError:
        return
    assert pos <= len(buf)
    assert elements(obj) <= len(buf)
    conforms(schema.root, version, obj)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@budget(4)
@given(buf=st.binary(max_size=64))
def test_random_bytes(case: tuple[MessageSchema, int], buf: bytes) -> None:
    schema, version = case
    decode_hostile(schema, version, buf)


@pytest.mark.parametrize("case", CASES, ids=case_id)
@budget(2)
@given(data=st.data())
def test_mutated_encodings(case: tuple[MessageSchema, int], data: Any) -> None:
    schema, version = case
    obj = data.draw(messages(schema, version, sizes=SMALL_SIZES))
    raw = codec.encode_bytes(schema, version, obj)
    mutate(
        raw,
        data,
        lambda buf: codec.decode(schema, version, buf),
        lambda buf: decode_hostile(schema, version, buf),
    )


PEAK_LIMIT = 2 * 1024 * 1024
"""Bytes of Python heap a hostile 1 KiB input may make the decoder hold at its peak."""
HUGE = (b"\x7f\xff\xff\xff", b"\x7f\xff", b"\xff\xff\xff\xff\x0f")


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_hostile_lengths_in_1kib_allocate_little(case: tuple[MessageSchema, int]) -> None:
    """The default message's encoding with a huge int32/int16/uvarint written at each of its first 48
    positions, padded to 1 KiB with 0x01 bytes (compact length 0, int8 1, true): the decoder's peak
    heap stays small."""
    schema, version = case
    raw = codec.encode_bytes(schema, version, schema.root.cls())
    codec.decode(schema, version, raw)  # compile the codec outside the measurement
    inputs = [raw[:at] + huge + raw[at + len(huge) :] for at in range(min(len(raw), 48)) for huge in HUGE]
    tracemalloc.start()
    try:
        for buf in inputs:
            padded = (buf + b"\x01" * 1024)[:1024]
            tracemalloc.reset_peak()
            decode_hostile(schema, version, padded)
            _, peak = tracemalloc.get_traced_memory()
            assert peak < PEAK_LIMIT, f"{peak} bytes at peak for a {len(padded)}-byte input"
    finally:
        tracemalloc.stop()


# --- request headers ---------------------------------------------------------------------------


def _header_bytes(
    api_key: int, version: int, correlation_id: int, client_id: str | None, flex: bool
) -> bytes:
    header = framing.RequestHeader(api_key, version, correlation_id, client_id)
    return framing.request_header_bytes(header, flex)


@budget(200)
@given(buf=st.binary(max_size=48), flexible=st.booleans())
def test_request_header_random_bytes(buf: bytes, flexible: bool) -> None:
    try:
        header, pos = framing.read_request_header(buf, flexible)
    except ProtocolError:
        return
    assert 10 <= pos <= len(buf)
    assert header.client_id is None or len(header.client_id.encode()) <= len(buf) - 10


@budget(50)
@given(
    key=st.integers(-(2**15), 2**15 - 1),
    version=st.integers(-(2**15), 2**15 - 1),
    correlation_id=st.integers(-(2**31), 2**31 - 1),
    client_id=st.none() | st.text(max_size=8),
    flexible=st.booleans(),
    body=st.binary(max_size=4),
)
def test_request_header_mutations(
    key: int, version: int, correlation_id: int, client_id: str | None, flexible: bool, body: bytes
) -> None:
    raw = _header_bytes(key, version, correlation_id, client_id, flexible)
    header, pos = framing.read_request_header(raw + body, flexible)
    assert (header, pos) == (framing.RequestHeader(key, version, correlation_id, client_id), len(raw))
    for n in range(len(raw)):
        with pytest.raises(ProtocolError):
            framing.read_request_header(raw[:n], flexible)
    for buf in overwrites(raw):
        with contextlib.suppress(ProtocolError):
            framing.read_request_header(buf, flexible)


# --- record batches ----------------------------------------------------------------------------

_record = st.tuples(
    st.none() | st.binary(max_size=8),
    st.none() | st.binary(max_size=8),
    st.lists(st.tuples(st.text(max_size=4), st.none() | st.binary(max_size=4)), max_size=2),
    st.integers(0, 2**40),
)
_batches = st.builds(
    records.build_batch,
    st.lists(_record, min_size=1, max_size=3),
    st.builds(records.BatchSpec, compression=st.sampled_from([0, 1, 2, 3, 4])),
)


def _walk_batches(buf: bytes) -> None:
    """Everything a broker or tool does with untrusted batch bytes; only ProtocolError may escape."""
    with contextlib.suppress(records.CorruptBatchError):
        records.validate_batches(buf)
    for pos, header in records.iter_headers(buf):
        assert pos >= 0
        assert pos + header.size <= len(buf)
        try:
            for _record in records.iter_records(buf, pos, header):
                pass
        except ProtocolError:  # CorruptBatchError, UnsupportedCompressionError included
            pass


@budget(100)
@given(buf=st.binary(max_size=200))
def test_random_record_batches(buf: bytes) -> None:
    _walk_batches(buf)


@budget(30)
@given(batches=st.lists(_batches, min_size=1, max_size=2), data=st.data())
def test_mutated_record_batches(batches: list[bytes], data: Any) -> None:
    raw = b"".join(batches)
    assert [h.size for h in records.validate_batches(raw)] == [len(b) for b in batches]
    boundaries = {sum(len(b) for b in batches[:i]) for i in range(1, len(batches))}
    for n in range(len(raw)):
        if n not in boundaries:  # a cut between two batches leaves whole, valid batches
            with pytest.raises(records.CorruptBatchError):
                records.validate_batches(raw[:n])
    flips = data.draw(st.lists(st.integers(0, len(raw) * 8 - 1), min_size=1, max_size=6))
    flipped = bytearray(raw)
    for bit in flips:
        flipped[bit // 8] ^= 1 << (bit % 8)
        _walk_batches(bytes(flipped))
    at = data.draw(st.integers(0, len(raw) - 1))
    for pattern in LENGTH_PATTERNS:
        _walk_batches(raw[:at] + pattern + raw[at + len(pattern) :])


@budget(30)
@given(batch=_batches, data=st.data())
def test_batches_with_crc_fixed_after_mutation(batch: bytes, data: Any) -> None:
    """Mutations behind a recomputed CRC reach the record parser and the decompressors."""
    buf = bytearray(batch)
    for bit in data.draw(st.lists(st.integers(records.ATTRIBUTES_OFFSET * 8, len(buf) * 8 - 1), max_size=6)):
        buf[bit // 8] ^= 1 << (bit % 8)
    crc = records.crc_of(buf, 0, len(buf))
    buf[records.CRC_OFFSET : records.CRC_OFFSET + 4] = crc.to_bytes(4, "big")
    _walk_batches(bytes(buf))
