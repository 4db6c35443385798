"""Hand-written OffsetCommit codec for the flexible versions (v8-v10): a synchronous commit's hot path.

A consumer that commits after every message sends one OffsetCommit per message, usually of one
partition; the generic codec's per-field closures cost more than the rest of the request's decoding.
This module builds exactly the objects of `messages.offset_commit` (the generic codec still serves
v2-v7), with straight-line unpacking. Layout (flexible: compact lengths, every struct ends with
tagged fields, none of them known here, so all are skipped):

    request   group_id, generation_id_or_member_epoch int32, member_id, group_instance_id (nullable),
              topics[name (v8-v9) | topic_id uuid (v10),
                     partitions[partition_index int32, committed_offset int64,
                                committed_leader_epoch int32, committed_metadata (nullable)]]
    response  throttle_time_ms int32, topics[name (v8-v9) | topic_id (v10),
                                             partitions[partition_index int32, error_code int16]]

As with the generic codec, a malformed body raises `ProtocolError` and bytes after the body are
ignored.
"""

from __future__ import annotations

import struct

from odradek.protocol import codec
from odradek.protocol import primitives as p
from odradek.protocol.messages import offset_commit as msg
from odradek.protocol.primitives import Buffer, ProtocolError
from odradek.protocol.schema import Chunk

FIRST_FLEXIBLE_VERSION = 8
FIRST_VERSION_WITH_TOPIC_IDS = 10
_PARTITION = struct.Struct(">iqi")
_INT32 = p.INT32
_PARTITION_ANSWER = struct.Struct(">ihB")
"""partition_index, error_code, and an empty tagged-field section."""


def _string(buf: Buffer, pos: int) -> tuple[str | None, int]:
    """(Inside the parser's try: IndexError, UnicodeDecodeError become ProtocolError there.)"""
    n = buf[pos]
    if 0 < n < 0x80:  # a one-byte length: the common case
        end = pos + n
        if end <= len(buf):
            return str(buf[pos + 1 : end], "utf-8"), end
    return _any_string(buf, pos)


def _any_string(buf: Buffer, pos: int) -> tuple[str | None, int]:
    n = buf[pos] if pos < len(buf) else 0x80
    if n & 0x80:
        n, pos = p.read_uvarint(buf, pos)
    else:
        pos += 1
    if n == 0:
        return None, pos
    end = pos + n - 1
    if end > len(buf):
        raise ProtocolError(f"string of {n - 1} bytes at {pos}, buffer has {len(buf)}")
    try:
        return str(buf[pos:end], "utf-8"), end
    except UnicodeDecodeError as exc:
        raise ProtocolError("invalid UTF-8 in string") from exc


def _required(name: str, value: str | None) -> str:
    if value is None:
        raise ProtocolError(f"non-nullable field {name} is null")
    return value


def _skip_tags(buf: Buffer, pos: int) -> int:
    if pos < len(buf) and buf[pos] == 0:  # no tagged fields: the common case
        return pos + 1
    return p.skip_tagged_fields(buf, pos)


def parse_offset_commit_request(buf: Buffer, pos: int, version: int) -> msg.OffsetCommitRequest:
    if version < FIRST_FLEXIBLE_VERSION:
        request, _end = codec.decode(msg.REQUEST, version, buf, pos)
        return request  # type: ignore[no-any-return]
    by_id = version >= FIRST_VERSION_WITH_TOPIC_IDS
    try:
        group_id, pos = _string(buf, pos)
        (generation,) = _INT32.unpack_from(buf, pos)
        member_id, pos = _string(buf, pos + 4)
        if buf[pos] == 0:  # no group instance id: the common case
            instance_id: str | None = None
            pos += 1
        else:
            instance_id, pos = _string(buf, pos)
        n_topics, pos = _array_length(buf, pos, "topics")
        topics: list[msg.OffsetCommitRequestTopic] = []
        for _ in range(n_topics):
            topic = msg.OffsetCommitRequestTopic()
            if by_id:
                topic.topic_id, pos = p.read_uuid(buf, pos)
            else:
                name, pos = _string(buf, pos)
                topic.name = _required("name", name)
            n_parts, pos = _array_length(buf, pos, "partitions")
            partitions = topic.partitions
            for _ in range(n_parts):
                index, offset, epoch = _PARTITION.unpack_from(buf, pos)
                pos += 16
                # committed_metadata, then the partition's tagged fields: usually "" (or null) and none
                if buf[pos] == 1 and buf[pos + 1] == 0:
                    metadata: str | None = ""
                    pos += 2
                else:
                    metadata, pos = _string(buf, pos)
                    pos = _skip_tags(buf, pos)
                partitions.append(msg.OffsetCommitRequestPartition(index, offset, epoch, -1, metadata))
            pos = _skip_tags(buf, pos)
            topics.append(topic)
        pos = _skip_tags(buf, pos)
    except (struct.error, IndexError) as exc:
        raise ProtocolError(f"truncated OffsetCommit v{version}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ProtocolError("invalid UTF-8 in string") from exc
    if group_id is None or member_id is None:
        raise ProtocolError(f"non-nullable field {'group_id' if group_id is None else 'member_id'} is null")
    return msg.OffsetCommitRequest(
        group_id=group_id,
        generation_id_or_member_epoch=generation,
        member_id=member_id,
        group_instance_id=instance_id,
        topics=topics,
    )


def _array_length(buf: Buffer, pos: int, name: str) -> tuple[int, int]:
    """A non-nullable compact array's length (bounded by the bytes left, as `read_array_length`)."""
    n = buf[pos] - 1  # (inside the parser's try: IndexError becomes ProtocolError there)
    if 0 <= n < 0x7F and n < len(buf) - pos:  # a one-byte length, in bounds: the common case
        return n, pos + 1
    if n < -1 or n >= 0x7F:
        return _long_array_length(buf, pos, name)
    if n < 0:
        raise ProtocolError(f"non-nullable array {name} is null")
    pos += 1
    if n > len(buf) - pos:
        raise ProtocolError(f"array length {n} exceeds the {len(buf) - pos} bytes left")
    return n, pos


def _long_array_length(buf: Buffer, pos: int, name: str) -> tuple[int, int]:
    n, pos = p.read_array_length(buf, pos, True)
    if n < 0:
        raise ProtocolError(f"non-nullable array {name} is null")
    return n, pos


def _write_string(out: bytearray, value: str) -> None:
    raw = value.encode()
    if len(raw) < 0x7F:
        out.append(len(raw) + 1)
    else:
        p.write_uvarint(out, len(raw) + 1)
    out += raw


def _write_length(out: bytearray, n: int) -> None:
    """A compact array's length (n + 1 as an unsigned varint)."""
    if n < 0x7F:
        out.append(n + 1)
    else:
        p.write_uvarint(out, n + 1)


def write_offset_commit_response(response: msg.OffsetCommitResponse, version: int) -> list[Chunk]:
    if version < FIRST_FLEXIBLE_VERSION:
        return codec.encode(msg.RESPONSE, version, response)
    by_id = version >= FIRST_VERSION_WITH_TOPIC_IDS
    out = bytearray(_INT32.pack(response.throttle_time_ms))
    _write_length(out, len(response.topics))
    pack = _PARTITION_ANSWER.pack
    for topic in response.topics:
        if by_id:
            out += topic.topic_id.bytes
        else:
            _write_string(out, topic.name)
        _write_length(out, len(topic.partitions))
        for partition in topic.partitions:
            out += pack(partition.partition_index, partition.error_code, 0)
        out.append(0)
    out.append(0)
    return [out]
