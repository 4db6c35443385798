"""Round trips through our codec alone, for every (schema, version) it knows.

encode -> decode gives an equal object and consumes exactly the encoded bytes; encode(decode(b)) is
b again (the encoding is canonical); decoding at an offset inside a larger buffer works the same.
Also: records given as chunks are written as those very chunks; unknown tags are skipped; the
hand-written request header parser in `framing` agrees with the generated header schema.
"""

from __future__ import annotations

from typing import Any

import pytest
from codec_settings import budget
from codec_strategies import case_id, cases, chunk_records, has_records, messages
from hypothesis import given
from hypothesis import strategies as st

from odradek.protocol import codec, framing
from odradek.protocol import primitives as p
from odradek.protocol.messages import headers
from odradek.protocol.schema import MessageSchema, in_range

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=case_id)
@budget(4)
@given(data=st.data())
def test_roundtrip(case: tuple[MessageSchema, int], data: Any) -> None:
    schema, version = case
    obj = data.draw(messages(schema, version))
    raw = codec.encode_bytes(schema, version, obj)
    decoded, pos = codec.decode(schema, version, raw)
    assert pos == len(raw)
    assert decoded == obj
    assert codec.encode_bytes(schema, version, decoded) == raw
    prefix = data.draw(st.binary(max_size=3))
    framed = memoryview(prefix + raw + b"\xee")
    again, end = codec.decode(schema, version, framed, len(prefix))
    assert (again, end) == (obj, len(prefix) + len(raw))


RECORDS_CASES = [c for c in CASES if has_records(c[0].root, c[1])]


@pytest.mark.parametrize("case", RECORDS_CASES, ids=case_id)
@budget(10)
@given(data=st.data())
def test_records_chunks_are_written_unjoined(case: tuple[MessageSchema, int], data: Any) -> None:
    schema, version = case
    obj = data.draw(messages(schema, version))
    chunks: list[bytes] = []

    def cut(value: bytes) -> list[bytes]:
        points = sorted(data.draw(st.lists(st.integers(0, len(value)), max_size=3)))
        pieces = [value[a:b] for a, b in zip([0, *points], [*points, len(value)], strict=True)]
        chunks.extend(p for p in pieces if p)
        return pieces

    chunked = chunk_records(schema.root, version, obj, cut)
    out = codec.encode(schema, version, chunked)
    assert b"".join(out) == codec.encode_bytes(schema, version, obj)
    for chunk in chunks:  # each non-empty chunk is passed through as the very same object
        assert any(piece is chunk for piece in out)


FLEXIBLE_CASES = [c for c in CASES if c[0].is_flexible(c[1])]


@pytest.mark.parametrize("case", FLEXIBLE_CASES, ids=case_id)
@budget(2)
@given(data=st.data(), tag=st.integers(64, 2**31 - 1), payload=st.binary(max_size=20))
def test_unknown_tagged_fields_are_skipped(
    case: tuple[MessageSchema, int], data: Any, tag: int, payload: bytes
) -> None:
    schema, version = case
    obj = data.draw(messages(schema, version))
    defaults = schema.root.cls()
    for f in schema.root.fields:  # an empty root tag section makes the encoding end in 0x00
        if f.tag is not None and in_range(f.tagged, version) and in_range(f.versions, version):
            setattr(obj, f.attr, getattr(defaults, f.attr))
    raw = codec.encode_bytes(schema, version, obj)
    assert raw[-1] == 0
    section = bytearray()
    for value in (1, tag, len(payload)):
        p.write_uvarint(section, value)
    buf = raw[:-1] + bytes(section) + payload
    assert codec.decode(schema, version, buf) == (obj, len(buf))


@budget(100)
@given(
    key=st.integers(-(2**15), 2**15 - 1),
    api_version=st.integers(-(2**15), 2**15 - 1),
    correlation_id=st.integers(-(2**31), 2**31 - 1),
    client_id=st.none() | st.text(max_size=8),
    header_version=st.sampled_from([1, 2]),
)
def test_framing_header_agrees_with_the_header_schema(
    key: int, api_version: int, correlation_id: int, client_id: str | None, header_version: int
) -> None:
    flexible = header_version == 2
    ours = framing.RequestHeader(key, api_version, correlation_id, client_id)
    generated = headers.RequestHeader(key, api_version, correlation_id, client_id)
    raw = framing.request_header_bytes(ours, flexible)
    assert raw == codec.encode_bytes(headers.REQUEST_HEADER, header_version, generated)
    assert framing.read_request_header(raw, flexible) == (ours, len(raw))
