"""Hand-written parser of Fetch requests (v4-v18): every consumer poll and every follower round.

It builds the same objects as the generic codec (`messages.fetch.FetchRequest`), with the fixed
fields of each struct read by one precompiled `struct` call per version instead of one call per
field. A replicated write costs the leader one Fetch per follower and the consumer's one more, so
this parse is on the path of every committed record. Layout per version: see
``messages/fetch.py``; v12+ are flexible (compact lengths, tagged fields after each struct:
`cluster_id` (tag 0) and `replica_state` (tag 1) at the top, `replica_directory_id` (tag 0, v17+)
and `high_watermark` (tag 1, v18+) per partition); v13+ names topics by id instead of name.

It is exactly as strict as the codec (a property test holds them together): a truncated field, a
null where the schema has none, a tagged field whose value does not fill its size raise
`ProtocolError`. Bytes after the last field are ignored, as the codec's callers and Kafka do.
"""

from __future__ import annotations

import struct
import uuid

from odradek.model.topic_partition import ZERO_UUID
from odradek.protocol import primitives as p
from odradek.protocol.messages.fetch import (
    FetchPartition,
    FetchRequest,
    FetchTopic,
    ForgottenTopic,
    ReplicaState,
)
from odradek.protocol.primitives import Buffer, ProtocolError

_NO_HIGH_WATERMARK = FetchPartition().high_watermark


def _head(version: int) -> struct.Struct:
    """replica_id (v<15), max_wait_ms, min_bytes, max_bytes, isolation_level, session id/epoch (v7+)."""
    return struct.Struct(">" + ("i" if version < 15 else "") + "iiib" + ("ii" if version >= 7 else ""))


def _partition(version: int) -> struct.Struct:
    """partition, current_leader_epoch (v9+), fetch_offset, last_fetched_epoch (v12+),
    log_start_offset (v5+), partition_max_bytes."""
    return struct.Struct(
        ">i"
        + ("i" if version >= 9 else "")
        + "q"
        + ("i" if version >= 12 else "")
        + ("q" if version >= 5 else "")
        + "i"
    )


_HEADS = {v: _head(v) for v in range(4, 19)}
_PARTITIONS = {v: _partition(v) for v in range(4, 19)}
_REPLICA_STATE = struct.Struct(">iq")
_INT64 = struct.Struct(">q")
_UUIDS: dict[bytes, uuid.UUID] = {}
"""Topic ids seen (a UUID is immutable): building one costs more than the rest of a partition."""
_MAX_UUIDS = 4096


def _uuid(buf: Buffer, pos: int) -> tuple[uuid.UUID, int]:
    end = pos + 16
    if end > len(buf):
        raise ProtocolError(f"need 16 bytes at {pos}, buffer has {len(buf)}")
    raw = bytes(buf[pos:end])
    found = _UUIDS.get(raw)
    if found is None:
        if len(_UUIDS) >= _MAX_UUIDS:
            _UUIDS.clear()
        found = _UUIDS[raw] = uuid.UUID(bytes=raw)
    return found, end


def _count(buf: Buffer, pos: int, flexible: bool) -> tuple[int, int]:
    """An array length (-1: null), as `primitives.read_array_length`, one-byte compact ones inline."""
    if flexible and pos < len(buf) and buf[pos] < 0x80:
        n = buf[pos] - 1
        pos += 1
        if n > len(buf) - pos:
            raise ProtocolError(f"array length {n} exceeds the {len(buf) - pos} bytes left")
        return n, pos
    return p.read_array_length(buf, pos, flexible)


def parse_fetch_request(buf: Buffer, pos: int, version: int) -> FetchRequest:
    flexible = version >= 12
    read_name = p.read_compact_string if flexible else p.read_string
    head = _HEADS[version]
    end = pos + head.size
    if end > len(buf):
        raise ProtocolError("truncated fetch request")
    fields = head.unpack_from(buf, pos)
    pos = end
    request = FetchRequest()
    if version < 15:
        request.replica_id = fields[0]
        fields = fields[1:]
    request.max_wait_ms, request.min_bytes, request.max_bytes, request.isolation_level = fields[:4]
    if version >= 7:
        request.session_id, request.session_epoch = fields[4:]
    n_topics, pos = _count(buf, pos, flexible)
    if n_topics < 0:
        raise ProtocolError("non-nullable array topics is null")
    layout = _PARTITIONS[version]
    size = layout.size
    topics = request.topics
    for _ in range(n_topics):
        topic = FetchTopic()
        if version >= 13:
            topic.topic_id, pos = _uuid(buf, pos)
        else:
            name, pos = read_name(buf, pos)
            if name is None:
                raise ProtocolError("non-nullable field topic is null")
            topic.topic = name
        n_parts, pos = _count(buf, pos, flexible)
        if n_parts < 0:
            raise ProtocolError("non-nullable array partitions is null")
        parts = topic.partitions
        for _ in range(n_parts):
            end = pos + size
            if end > len(buf):
                raise ProtocolError("truncated fetch partition")
            values = layout.unpack_from(buf, pos)
            pos = end
            part = _fetch_partition(values, version)
            if flexible:
                pos = _partition_tags(buf, pos, part, version)
            parts.append(part)
        if flexible:
            pos = pos + 1 if pos < len(buf) and buf[pos] == 0 else p.skip_tagged_fields(buf, pos)
        topics.append(topic)
    if version >= 7:
        pos = _forgotten(buf, pos, request, version, flexible)
    if version >= 11:
        rack, pos = read_name(buf, pos)
        if rack is None:
            raise ProtocolError("non-nullable field rack_id is null")
        request.rack_id = rack
    if flexible and (pos >= len(buf) or buf[pos] != 0):
        _request_tags(buf, pos, request, version)
    return request


def _fetch_partition(values: tuple[int, ...], version: int) -> FetchPartition:
    if version >= 12:
        partition, leader_epoch, offset, last_epoch, log_start, max_bytes = values
        return FetchPartition(partition, leader_epoch, offset, last_epoch, log_start, max_bytes)
    if version >= 9:
        partition, leader_epoch, offset, log_start, max_bytes = values
        return FetchPartition(partition, leader_epoch, offset, -1, log_start, max_bytes)
    if version >= 5:
        partition, offset, log_start, max_bytes = values
        return FetchPartition(partition, -1, offset, -1, log_start, max_bytes)
    partition, offset, max_bytes = values
    return FetchPartition(partition, -1, offset, -1, -1, max_bytes)


def _tagged(buf: Buffer, pos: int) -> tuple[list[tuple[int, int, int]], int]:
    """The tagged fields section at `pos`: (tag, start, end) of each, and the position after it."""
    count, pos = p.read_uvarint(buf, pos)
    found = []
    for _ in range(count):
        tag, pos = p.read_uvarint(buf, pos)
        size, pos = p.read_uvarint(buf, pos)
        end = pos + size
        if end > len(buf):
            raise ProtocolError("truncated tagged field")
        found.append((tag, pos, end))
        pos = end
    return found, pos


def _partition_tags(buf: Buffer, pos: int, part: FetchPartition, version: int) -> int:
    if pos < len(buf) and buf[pos] == 0:  # no tagged fields: by far the most common
        return pos + 1
    found, pos = _tagged(buf, pos)
    for tag, start, end in found:
        if tag == 0 and version >= 17:
            value, used = p.read_uuid(buf, start)
            _fills(used, end, tag)
            part.replica_directory_id = value
        elif tag == 1 and version >= 18:
            _fills(start + 8, end, tag)
            part.high_watermark = _INT64.unpack_from(buf, start)[0]
    return pos


def _request_tags(buf: Buffer, pos: int, request: FetchRequest, version: int) -> int:
    found, pos = _tagged(buf, pos)
    for tag, start, end in found:
        if tag == 0:
            request.cluster_id, used = p.read_compact_string(buf, start)
            _fills(used, end, tag)
        elif tag == 1 and version >= 15:
            if start + _REPLICA_STATE.size > len(buf):
                raise ProtocolError("truncated replica_state")
            replica_id, replica_epoch = _REPLICA_STATE.unpack_from(buf, start)
            used = p.skip_tagged_fields(buf, start + _REPLICA_STATE.size)
            _fills(used, end, tag)
            request.replica_state = ReplicaState(replica_id, replica_epoch)
    return pos


def _fills(used: int, end: int, tag: int) -> None:
    if used != end:
        raise ProtocolError(f"tagged field {tag} has wrong size")


def _forgotten(buf: Buffer, pos: int, request: FetchRequest, version: int, flexible: bool) -> int:
    n, pos = _count(buf, pos, flexible)
    if n < 0:
        raise ProtocolError("non-nullable array forgotten_topics_data is null")
    read_name = p.read_compact_string if flexible else p.read_string
    for _ in range(n):
        topic_id: uuid.UUID = ZERO_UUID
        name = ""
        if version >= 13:
            topic_id, pos = _uuid(buf, pos)
        else:
            read, pos = read_name(buf, pos)
            if read is None:
                raise ProtocolError("non-nullable field topic is null")
            name = read
        count, pos = _count(buf, pos, flexible)
        if count < 0:
            raise ProtocolError("non-nullable array partitions is null")
        end = pos + 4 * count
        if end > len(buf):
            raise ProtocolError("truncated array partitions")
        partitions = list(struct.unpack_from(f">{count}i", buf, pos))
        pos = end
        if flexible:
            pos = p.skip_tagged_fields(buf, pos)
        request.forgotten_topics_data.append(ForgottenTopic(name, topic_id, partitions))
    return pos
