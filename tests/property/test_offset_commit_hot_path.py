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
from odradek.protocol import offset_commit as oc_codec
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


_NAMES = st.text(max_size=3) | st.sampled_from(["é" * 40, "g" * 126, "g" * 127, "g" * 200])


def _common_request(
    group: str, generation: int, member: str, topic: str, index: int, offset: int, epoch: int
) -> msg.OffsetCommitRequest:
    partition = msg.OffsetCommitRequestPartition(index, offset, epoch, -1, "")
    return msg.OffsetCommitRequest(
        group_id=group,
        generation_id_or_member_epoch=generation,
        member_id=member,
        topics=[msg.OffsetCommitRequestTopic(name=topic, partitions=[partition])],
    )


@budget(40)
@given(
    version=st.sampled_from([8, 9]),
    names=st.tuples(_NAMES, _NAMES, _NAMES),
    generation=st.integers(-(2**31), 2**31 - 1),
    index=st.integers(0, 2**31 - 1),
    commits=st.lists(
        st.tuples(st.integers(-(2**63), 2**63 - 1), st.integers(-(2**31), 2**31 - 1)), min_size=2, max_size=4
    ),
)
def test_a_repeated_commit_layout_parses_as_the_codec(
    version: int, names: tuple[str, str, str], generation: int, index: int, commits: list[tuple[int, int]]
) -> None:
    """A synchronous commit's request (one partition, empty metadata) is parsed once, then from its
    remembered layout: the same objects as the codec's, for every offset and leader epoch."""
    group, member, topic = names
    for offset, epoch in commits:
        obj = _common_request(group, generation, member, topic, index, offset, epoch)
        raw = codec.encode_bytes(msg.REQUEST, version, obj)
        assert parse_offset_commit_request(bytearray(raw), 0, version) == obj
    assert bytes(raw[:-16]) in oc_codec._LAYOUTS


def test_a_remembered_layout_skips_the_parser_and_only_its_exact_bytes_hit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = codec.encode_bytes(msg.REQUEST, 9, _common_request("grp", 3, "m-1", "t", 2, 10, 0))
    assert parse_offset_commit_request(first, 0, 9).topics[0].partitions[0].committed_offset == 10
    calls: list[int] = []
    slow = oc_codec._parse
    monkeypatch.setattr(oc_codec, "_parse", lambda buf, pos, v: calls.append(pos) or slow(buf, pos, v))
    again = codec.encode_bytes(msg.REQUEST, 9, _common_request("grp", 3, "m-1", "t", 2, 11, 7))
    assert parse_offset_commit_request(b"xy" + again, 2, 9) == _common_request("grp", 3, "m-1", "t", 2, 11, 7)
    assert calls == []  # from the layout
    # anything else goes through the parser: another generation, metadata, an instance id, 2 partitions
    other_generation = _common_request("grp", 4, "m-1", "t", 2, 11, 7)
    with_metadata = _common_request("grp", 3, "m-1", "t", 2, 11, 7)
    with_metadata.topics[0].partitions[0].committed_metadata = "x"
    with_instance = _common_request("grp", 3, "m-1", "t", 2, 11, 7)
    with_instance.group_instance_id = "i"
    two = _common_request("grp", 3, "m-1", "t", 2, 11, 7)
    two.topics[0].partitions.append(msg.OffsetCommitRequestPartition(3, 1, 0, -1, ""))
    for obj in (other_generation, with_metadata, with_instance, two):
        raw = codec.encode_bytes(msg.REQUEST, 9, obj)
        assert parse_offset_commit_request(raw, 0, 9) == obj
    assert len(calls) == 4
    # trailing bytes after a known body are not read as part of it
    trailing = again + b"\x01\x00\x00\x00"
    assert parse_offset_commit_request(trailing, 0, 9) == codec.decode(msg.REQUEST, 9, trailing)[0]


@budget(40)
@given(
    version=st.sampled_from([8, 9]),
    name=_NAMES,
    index=st.integers(-(2**31), 2**31 - 1),
    error=st.integers(-(2**15), 2**15 - 1),
    throttle=st.integers(0, 2**31 - 1),
)
def test_a_one_partition_answer_is_written_as_the_codec_writes_it(
    version: int, name: str, index: int, error: int, throttle: int
) -> None:
    for _ in range(2):  # its topic's bytes are kept: the second answer uses them
        obj = msg.OffsetCommitResponse(
            throttle_time_ms=throttle,
            topics=[
                msg.OffsetCommitResponseTopic(
                    name=name, partitions=[msg.OffsetCommitResponsePartition(index, error)]
                )
            ],
        )
        written = b"".join(write_offset_commit_response(obj, version))
        assert written == codec.encode_bytes(msg.RESPONSE, version, obj)


def test_a_request_with_tagged_fields_leaves_no_layout_behind() -> None:
    """Only a request of exactly the common layout is remembered: one whose partition carries tagged
    fields must not teach a layout that a later request ending like the common one would hit."""
    raw = codec.encode_bytes(msg.REQUEST, 9, _common_request("tags", 1, "m", "t", 0, 5, 0))
    assert raw.endswith(b"\x01\x00\x00\x00")
    tagged = raw[:-3] + b"\x01\x00\x01\x7a" + b"\x00\x00"  # the partition: one unknown tag
    assert parse_offset_commit_request(tagged, 0, 9) == codec.decode(msg.REQUEST, 9, tagged)[0]
    lookalike = tagged[:-4] + b"\x01\x00\x00\x00"  # same bytes up to the last 4, the common tail
    assert parse_offset_commit_request(lookalike, 0, 9) == codec.decode(msg.REQUEST, 9, lookalike)[0]
