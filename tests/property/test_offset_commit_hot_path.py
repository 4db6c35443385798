"""The hand-written OffsetCommit codec (`protocol.offset_commit`) agrees with the generic codec.

Every version (v2-v10; the generic codec itself serves v2-v7): the parser builds the object
`codec.decode` builds and ignores trailing bytes as it does; on hostile bytes (truncations, huge
lengths, null markers, bit flips) it raises only `ProtocolError` and returns what `codec.decode`
returns. The response writer writes the bytes `codec.encode` writes.
"""

from __future__ import annotations

from typing import Any

import pytest
from codec_hostile import conforms, mutate
from codec_settings import budget
from codec_strategies import SMALL_SIZES, messages, versions
from hypothesis import given
from hypothesis import strategies as st

from odradek.protocol import codec
from odradek.protocol.messages import offset_commit as msg
from odradek.protocol.offset_commit import parse_offset_commit_request, write_offset_commit_response
from odradek.protocol.primitives import ProtocolError


@pytest.mark.parametrize("version", versions(msg.REQUEST))
@budget(25)
@given(data=st.data(), prefix=st.binary(max_size=3), suffix=st.binary(max_size=3))
def test_parser_matches_the_codec(version: int, data: Any, prefix: bytes, suffix: bytes) -> None:
    obj = data.draw(messages(msg.REQUEST, version))
    raw = codec.encode_bytes(msg.REQUEST, version, obj)
    parsed = parse_offset_commit_request(bytearray(prefix + raw + suffix), len(prefix), version)
    assert parsed == codec.decode(msg.REQUEST, version, raw)[0]
    assert parsed == obj


def _parse_hostile(buf: bytes, version: int) -> None:
    try:
        obj = parse_offset_commit_request(buf, 0, version)
    except ProtocolError:
        with pytest.raises(ProtocolError):
            codec.decode(msg.REQUEST, version, buf)
        return
    conforms(msg.REQUEST.root, version, obj)
    assert obj == codec.decode(msg.REQUEST, version, buf)[0]


@pytest.mark.parametrize("version", versions(msg.REQUEST))
@budget(10)
@given(data=st.data())
def test_parser_on_hostile_bytes(version: int, data: Any) -> None:
    obj = data.draw(messages(msg.REQUEST, version, sizes=SMALL_SIZES))
    raw = codec.encode_bytes(msg.REQUEST, version, obj)
    mutate(
        raw,
        data,
        lambda buf: parse_offset_commit_request(buf, 0, version),
        lambda buf: _parse_hostile(buf, version),
    )
    _parse_hostile(data.draw(st.binary(max_size=64)), version)


@pytest.mark.parametrize("version", versions(msg.RESPONSE))
@budget(25)
@given(data=st.data())
def test_writer_matches_the_codec(version: int, data: Any) -> None:
    obj = data.draw(messages(msg.RESPONSE, version))
    written = b"".join(write_offset_commit_response(obj, version))
    assert written == codec.encode_bytes(msg.RESPONSE, version, obj)


def test_single_partition_commit_bytes() -> None:
    """One partition at v9, as librdkafka's synchronous commit sends it (checked byte by byte)."""
    raw = bytes.fromhex(
        "0267"  # group_id "g"
        "00000005"  # generation
        "026d"  # member_id "m"
        "00"  # group_instance_id null
        "02"  # one topic
        "0274"  # name "t"
        "02"  # one partition
        "00000003"  # partition 3
        "000000000000002a"  # offset 42
        "ffffffff"  # leader epoch -1
        "01"  # metadata ""
        "000000"  # partition, topic and request tagged fields
    )
    parsed = parse_offset_commit_request(raw, 0, 9)
    partition = msg.OffsetCommitRequestPartition(3, 42, -1, -1, "")
    topic = msg.OffsetCommitRequestTopic(name="t", partitions=[partition])
    assert parsed == msg.OffsetCommitRequest("g", 5, "m", None, -1, [topic])
    answer = msg.OffsetCommitResponse(
        0, [msg.OffsetCommitResponseTopic("t", partitions=[msg.OffsetCommitResponsePartition(3, 0)])]
    )
    # throttle 0, one topic "t", one partition 3 with no error, then three empty tagged-field sections
    assert (
        b"".join(write_offset_commit_response(answer, 9)).hex()
        == "00000000" + "020274" + "02000000030000" + "000000"
    )
