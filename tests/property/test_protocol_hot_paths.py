"""The hand-written hot paths agree with the generic codec, which the oracle tests tie to Kafka.

* `protocol.produce.parse_produce_request` (v3-v13) builds the object `codec.decode` builds, keeps
  records as views into the frame, ignores trailing bytes as the codec's callers do, and on
  hostile bytes (truncations, huge lengths, null markers, bit flips) raises only `ProtocolError`
  and returns only schema-conforming objects.
* `protocol.produce.write_produce_response` (v3-v13) writes the bytes `codec.encode` writes, on
  the struct-per-partition path (answers without record errors, error messages, current leaders or
  node endpoints) and on the generic one.
* `protocol.fetch_request.parse_fetch_request` (v4-v18), the same for Fetch requests (consumers'
  polls and followers' rounds), tagged fields (`cluster_id`, `replica_state`, per-partition
  `replica_directory_id` / `high_watermark`) included.
* `protocol.fetch.write_fetch_response` (v4-v18) writes the bytes `codec.encode` writes, passing
  records chunks through as the very same objects.
"""

from __future__ import annotations

from typing import Any

import pytest
from codec_hostile import conforms, elements, mutate
from codec_settings import budget
from codec_strategies import SMALL_SIZES, chunk_records, messages, versions
from hypothesis import given
from hypothesis import strategies as st

from odradek.protocol import codec
from odradek.protocol.fetch import write_fetch_response
from odradek.protocol.fetch_request import parse_fetch_request
from odradek.protocol.messages import fetch, produce
from odradek.protocol.primitives import ProtocolError
from odradek.protocol.produce import parse_produce_request, write_produce_response


@pytest.mark.parametrize("version", versions(produce.REQUEST))
@budget(25)
@given(data=st.data(), prefix=st.binary(max_size=3), suffix=st.binary(max_size=3))
def test_produce_parser_matches_the_codec(version: int, data: Any, prefix: bytes, suffix: bytes) -> None:
    """Also with bytes after the request's last field, which both ignore."""
    obj = data.draw(messages(produce.REQUEST, version))
    raw = codec.encode_bytes(produce.REQUEST, version, obj)
    frame = bytearray(prefix + raw + suffix)
    parsed = parse_produce_request(frame, len(prefix), version)
    assert parsed == obj
    for topic in parsed.topic_data:
        for part in topic.partition_data:
            assert part.records is None or isinstance(part.records, memoryview)


def _parse_hostile(buf: bytes, version: int) -> None:
    try:
        obj = parse_produce_request(buf, 0, version)
    except ProtocolError:
        return
    assert elements(obj) <= len(buf)
    conforms(produce.REQUEST.root, version, obj)
    assert obj == codec.decode(produce.REQUEST, version, buf)[0]


@pytest.mark.parametrize("version", versions(produce.REQUEST))
@budget(10)
@given(data=st.data())
def test_produce_parser_on_hostile_bytes(version: int, data: Any) -> None:
    obj = data.draw(messages(produce.REQUEST, version, sizes=SMALL_SIZES))
    raw = codec.encode_bytes(produce.REQUEST, version, obj)
    mutate(
        raw,
        data,
        lambda buf: parse_produce_request(buf, 0, version),
        lambda buf: _parse_hostile(buf, version),
    )
    _parse_hostile(data.draw(st.binary(max_size=64)), version)


@pytest.mark.parametrize("version", versions(produce.RESPONSE))
@budget(25)
@given(data=st.data(), plain=st.booleans())
def test_produce_writer_matches_the_codec(version: int, data: Any, plain: bool) -> None:
    """`plain`: the error-only fields cleared, so the struct-per-partition path writes it."""
    obj = data.draw(messages(produce.RESPONSE, version))
    if plain:
        obj.node_endpoints = []
        for topic in obj.responses:
            for part in topic.partition_responses:
                part.record_errors, part.error_message = [], None
                part.current_leader = produce.LeaderIdAndEpoch()
    written = b"".join(write_produce_response(obj, version))
    assert written == codec.encode_bytes(produce.RESPONSE, version, obj)


@pytest.mark.parametrize("version", versions(fetch.RESPONSE))
@budget(25)
@given(data=st.data())
def test_fetch_writer_matches_the_codec(version: int, data: Any) -> None:
    obj = data.draw(messages(fetch.RESPONSE, version))
    chunks: list[bytes] = []

    def cut(value: bytes) -> list[bytes]:
        points = sorted(data.draw(st.lists(st.integers(0, len(value)), max_size=3)))
        pieces = [value[a:b] for a, b in zip([0, *points], [*points, len(value)], strict=True)]
        chunks.extend(p for p in pieces if p)
        return pieces

    chunked = chunk_records(fetch.RESPONSE.root, version, obj, cut) if data.draw(st.booleans()) else obj
    out = write_fetch_response(chunked, version)
    assert b"".join(out) == codec.encode_bytes(fetch.RESPONSE, version, obj)
    for chunk in chunks:
        assert any(piece is chunk for piece in out)


@pytest.mark.parametrize("version", versions(fetch.REQUEST))
@budget(25)
@given(data=st.data(), prefix=st.binary(max_size=3), suffix=st.binary(max_size=3))
def test_fetch_request_parser_matches_the_codec(
    version: int, data: Any, prefix: bytes, suffix: bytes
) -> None:
    obj = data.draw(messages(fetch.REQUEST, version))
    raw = codec.encode_bytes(fetch.REQUEST, version, obj)
    frame = bytearray(prefix + raw + suffix)
    assert parse_fetch_request(frame, len(prefix), version) == obj


def _parse_fetch_hostile(buf: bytes, version: int) -> None:
    try:
        obj = parse_fetch_request(buf, 0, version)
    except ProtocolError:
        with pytest.raises(ProtocolError):  # as strict as the codec, no stricter
            codec.decode(fetch.REQUEST, version, buf)
        return
    assert elements(obj) <= len(buf)
    conforms(fetch.REQUEST.root, version, obj)
    assert obj == codec.decode(fetch.REQUEST, version, buf)[0]


@pytest.mark.parametrize("version", versions(fetch.REQUEST))
@budget(10)
@given(data=st.data())
def test_fetch_request_parser_on_hostile_bytes(version: int, data: Any) -> None:
    obj = data.draw(messages(fetch.REQUEST, version, sizes=SMALL_SIZES))
    raw = codec.encode_bytes(fetch.REQUEST, version, obj)
    mutate(
        raw,
        data,
        lambda buf: parse_fetch_request(buf, 0, version),
        lambda buf: _parse_fetch_hostile(buf, version),
    )
    _parse_fetch_hostile(data.draw(st.binary(max_size=64)), version)
