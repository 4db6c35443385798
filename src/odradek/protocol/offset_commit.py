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

from odradek.model.topic_partition import ZERO_UUID
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
    if version < FIRST_VERSION_WITH_TOPIC_IDS:
        size = len(buf)
        if size - pos > _COMMON_SUFFIX and buf[size - 4 : size] == _COMMON_TAIL:
            known = _LAYOUTS.get(bytes(buf[pos : size - 16]))
            if known is not None:
                group_id, generation, member_id, name, index = known
                offset, epoch = _OFFSET_AND_EPOCH.unpack_from(buf, size - 16)
                partition = msg.OffsetCommitRequestPartition(index, offset, epoch, -1, "")
                return msg.OffsetCommitRequest(
                    group_id,
                    generation,
                    member_id,
                    None,
                    -1,
                    [msg.OffsetCommitRequestTopic(name, ZERO_UUID, [partition])],
                )
    return _parse(buf, pos, version)


_COMMON_TAIL = b"\x01\x00\x00\x00"
"""A partition's empty metadata, then empty tagged fields (the partition's, the topic's, the request's)."""
_COMMON_SUFFIX = 20
"""The one partition's index, offset and leader epoch (16 bytes), then `_COMMON_TAIL`."""
_OFFSET_AND_EPOCH = struct.Struct(">qi")
_LAYOUTS: dict[bytes, tuple[str, int, str, str, int]] = {}
"""A v8-v9 request of one topic and one partition with empty metadata, no group instance id and no
tagged fields (a synchronous commit's request) up to its offset -> (group id, generation, member
id, topic, partition): the same member commits the same partition again and again, and only the
offset and leader epoch after these bytes change. Filled by `_parse` from requests it parsed whole,
of exactly that layout; the bytes before the offset decide everything the parser reads there (the
length of the whole is that of the key plus the fixed suffix), so a hit parses as `_parse` would."""
_MAX_LAYOUTS = 4_096


def _parse(buf: Buffer, pos: int, version: int) -> msg.OffsetCommitRequest:
    start = pos
    last_partition = -1
    by_id = version >= FIRST_VERSION_WITH_TOPIC_IDS
    size = len(buf)
    try:
        # (`_string` and `_array_length` inline for one-byte lengths: the usual request)
        n = buf[pos]
        if 0 < n < 0x80 and pos + n <= size:
            group_id: str | None = str(buf[pos + 1 : pos + n], "utf-8")
            pos += n
        else:
            group_id, pos = _any_string(buf, pos)
        (generation,) = _INT32.unpack_from(buf, pos)
        pos += 4
        n = buf[pos]
        if 0 < n < 0x80 and pos + n <= size:
            member_id: str | None = str(buf[pos + 1 : pos + n], "utf-8")
            pos += n
        else:
            member_id, pos = _any_string(buf, pos)
        if buf[pos] == 0:  # no group instance id: the common case
            instance_id: str | None = None
            pos += 1
        else:
            instance_id, pos = _string(buf, pos)
        n_topics = buf[pos] - 1
        if 0 <= n_topics < 0x7F and n_topics < size - pos:
            pos += 1
        else:
            n_topics, pos = _array_length(buf, pos, "topics")
        topics: list[msg.OffsetCommitRequestTopic] = []
        for _ in range(n_topics):
            if by_id:
                topic = msg.OffsetCommitRequestTopic()
                topic.topic_id, pos = p.read_uuid(buf, pos)
            else:
                n = buf[pos]
                if 0 < n < 0x80 and pos + n <= size:
                    name: str | None = str(buf[pos + 1 : pos + n], "utf-8")
                    pos += n
                else:
                    name, pos = _any_string(buf, pos)
                topic = msg.OffsetCommitRequestTopic(_required("name", name))
            n_parts = buf[pos] - 1
            if 0 <= n_parts < 0x7F and n_parts < size - pos:
                pos += 1
            else:
                n_parts, pos = _array_length(buf, pos, "partitions")
            partitions = topic.partitions
            for _ in range(n_parts):
                last_partition = pos
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
            if pos < size and buf[pos] == 0:
                pos += 1
            else:
                pos = p.skip_tagged_fields(buf, pos)
            topics.append(topic)
        pos = _skip_tags(buf, pos)
    except (struct.error, IndexError) as exc:
        raise ProtocolError(f"truncated OffsetCommit v{version}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ProtocolError("invalid UTF-8 in string") from exc
    if group_id is None or member_id is None:
        raise ProtocolError(f"non-nullable field {'group_id' if group_id is None else 'member_id'} is null")
    if (
        pos == size
        and last_partition == size - _COMMON_SUFFIX
        and not by_id
        and instance_id is None
        and len(topics) == 1
        and len(topics[0].partitions) == 1
        and topics[0].partitions[0].committed_metadata == ""
    ):
        # exactly the common layout (anything longer than one byte in the tail would end it later)
        if len(_LAYOUTS) >= _MAX_LAYOUTS:
            _LAYOUTS.clear()
        topic = topics[0]
        _LAYOUTS[bytes(buf[start : size - 16])] = (
            group_id,
            generation,
            member_id,
            topic.name,
            topic.partitions[0].partition_index,
        )
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
    topics = response.topics
    if len(topics) == 1 and not by_id:
        topic = topics[0]
        if len(topic.partitions) == 1:  # a synchronous commit's answer: one topic, one partition
            head = _ONE_TOPIC_HEADS.get(topic.name)
            if head is None:
                head = _one_topic_head(topic.name)
            partition = topic.partitions[0]
            return [
                _INT32.pack(response.throttle_time_ms)
                + head
                + _PARTITION_ANSWER.pack(partition.partition_index, partition.error_code, 0)
                + b"\x00\x00"  # the topic's and the response's tagged fields
            ]
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


_ONE_TOPIC_HEADS: dict[str, bytes] = {}
_MAX_ONE_TOPIC_HEADS = 4_096


def _one_topic_head(name: str) -> bytes:
    """A one-topic, one-partition answer (v8-v9) between the throttle time and the partition."""
    out = bytearray(b"\x02")
    _write_string(out, name)
    out.append(2)
    if len(_ONE_TOPIC_HEADS) >= _MAX_ONE_TOPIC_HEADS:
        _ONE_TOPIC_HEADS.clear()
    head = _ONE_TOPIC_HEADS[name] = bytes(out)
    return head
