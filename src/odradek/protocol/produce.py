"""Hand-written parser of Produce requests and writer of their responses (v3-v13): the hot path of
every write (librdkafka sends one request per partition, so a producer writing to 20,000 partitions
makes 20,000 of each).

It builds the same objects as the generic codec (`messages.produce.ProduceRequest`), but with
straight-line struct unpacking, and each partition's ``records`` is a memoryview into the request
frame: record bytes are never copied or decoded here. The frame is a writable ``bytearray``, so the
log can restamp batches in place. Layout per version: see ``messages/produce.py``; v9+ are flexible
(compact lengths, tagged fields after each struct); v13 names topics by id instead of name.

Bytes after the last field the schema defines are ignored, as the generic codec's callers do and as
Kafka does (it reads the fields it knows from the buffer and never checks that nothing is left).

`write_produce_response` writes the bytes `codec.encode` writes, one struct per partition; a
response carrying what only errors carry (record errors, an error message, a current leader,
node endpoints) is left to the generic codec.
"""

from __future__ import annotations

import struct

from odradek.protocol import codec
from odradek.protocol import primitives as p
from odradek.protocol.messages import produce as msg
from odradek.protocol.messages.produce import PartitionProduceData, ProduceRequest, TopicProduceData
from odradek.protocol.primitives import Buffer, ProtocolError
from odradek.protocol.records import ATTRIBUTES_OFFSET, TRANSACTIONAL_BIT
from odradek.protocol.schema import Chunk

FIRST_FLEXIBLE_VERSION = 9
FIRST_VERSION_WITH_TOPIC_IDS = 13
_ATTRIBUTES_END = ATTRIBUTES_OFFSET + 1
_ACKS_TIMEOUT = struct.Struct(">hi")
_INT32 = p.INT32  # the low byte of the big-endian int16 attributes
_TXN_BIT = TRANSACTIONAL_BIT
_BUFFERS = (bytes, bytearray, memoryview)  # (a tuple: `bytes | ...` would build a union per call)


def parse_produce_request(buf: Buffer, pos: int, version: int) -> ProduceRequest:
    if version >= FIRST_FLEXIBLE_VERSION:
        return _parse_flexible(buf, pos, version)
    transactional_id, pos = p.read_string(buf, pos)
    acks, pos = p.read_int16(buf, pos)
    timeout_ms, pos = p.read_int32(buf, pos)
    n_topics, pos = p.read_array_length(buf, pos, False)
    topics: list[TopicProduceData] = []
    if n_topics < 0:
        raise ProtocolError("null topic array")
    for _ in range(n_topics):
        topic = TopicProduceData()
        name, pos = p.read_string(buf, pos)
        topic.name = _non_null(name)
        n_parts, pos = p.read_array_length(buf, pos, False)
        parts = topic.partition_data
        if n_parts < 0:
            raise ProtocolError("null partition array")
        for _ in range(n_parts):
            index, pos = p.read_int32(buf, pos)
            records, pos = p.read_bytes(buf, pos)
            parts.append(PartitionProduceData(index, records))
        topics.append(topic)
    return ProduceRequest(transactional_id, acks, timeout_ms, topics)


def _parse_flexible(buf: Buffer, pos: int, version: int) -> ProduceRequest:
    """v9+, straight-line: one-byte lengths and empty tagged-field sections (what every client
    sends) are read inline, anything longer through `primitives`."""
    size = len(buf)
    n = buf[pos] if pos < size else 0x80
    if n < 0x80:
        pos += 1
    else:
        n, pos = p.read_uvarint(buf, pos)
    if n == 0:
        transactional_id = None
    else:
        transactional_id, pos = _utf8(buf, pos, n - 1)
    if pos + 6 > size:
        raise ProtocolError(f"need 6 bytes at {pos}, buffer has {size}")
    acks, timeout_ms = _ACKS_TIMEOUT.unpack_from(buf, pos)
    n_topics, pos = _array_length(buf, pos + 6)
    if n_topics < 0:
        raise ProtocolError("null topic array")
    by_id = version >= FIRST_VERSION_WITH_TOPIC_IDS
    view = memoryview(buf)
    topics: list[TopicProduceData] = []
    for _ in range(n_topics):
        topic = TopicProduceData()
        if by_id:
            topic.topic_id, pos = p.read_uuid(buf, pos)
        else:
            n = buf[pos] if pos < size else 0x80
            if n < 0x80:
                pos += 1
            else:
                n, pos = p.read_uvarint(buf, pos)
            if n == 0:
                raise ProtocolError("null topic name")
            topic.name, pos = _utf8(buf, pos, n - 1)
        n_parts, pos = _array_length(buf, pos)
        if n_parts < 0:
            raise ProtocolError("null partition array")
        parts = topic.partition_data
        for _ in range(n_parts):
            if pos + 5 > size:
                raise ProtocolError(f"need 5 bytes at {pos}, buffer has {size}")
            (index,) = _INT32.unpack_from(buf, pos)
            pos += 4
            n = buf[pos]
            if n < 0x80:
                pos += 1
            else:
                n, pos = p.read_uvarint(buf, pos)
            if n == 0:
                records = None
            else:
                end = pos + n - 1
                if end > size:
                    raise ProtocolError(f"need {n - 1} bytes at {pos}, buffer has {size}")
                records, pos = view[pos:end], end
            pos = _skip_tags(buf, pos)
            parts.append(PartitionProduceData(index, records))
        pos = _skip_tags(buf, pos)
        topics.append(topic)
    _skip_tags(buf, pos)
    return ProduceRequest(transactional_id, acks, timeout_ms, topics)


def _utf8(buf: Buffer, pos: int, n: int) -> tuple[str, int]:
    end = pos + n
    if end > len(buf):
        raise ProtocolError(f"need {n} bytes at {pos}, buffer has {len(buf)}")
    try:
        return str(buf[pos:end], "utf-8"), end
    except UnicodeDecodeError as exc:
        raise ProtocolError("invalid UTF-8 in string") from exc


def _array_length(buf: Buffer, pos: int) -> tuple[int, int]:
    """A compact array's length (-1: null), bounded by the bytes left, as `read_array_length`."""
    n = buf[pos] if pos < len(buf) else 0x80
    if n < 0x80:
        pos += 1
    else:
        n, pos = p.read_uvarint(buf, pos)
    n -= 1
    if n > len(buf) - pos:
        raise ProtocolError(f"array length {n} exceeds the {len(buf) - pos} bytes left")
    return n, pos


def _skip_tags(buf: Buffer, pos: int) -> int:
    if pos < len(buf) and buf[pos] == 0:  # no tagged fields: the common case
        return pos + 1
    return p.skip_tagged_fields(buf, pos)


def has_transactional_batch(request: ProduceRequest) -> bool:
    """Does any partition's (first) batch have the transactional bit? One attributes read each."""
    for topic in request.topic_data:
        for part in topic.partition_data:
            records = part.records
            if (
                isinstance(records, _BUFFERS)
                and len(records) > _ATTRIBUTES_END
                and records[_ATTRIBUTES_END] & _TXN_BIT
            ):
                return True
    return False


def _non_null(name: str | None) -> str:
    if name is None:
        raise ProtocolError("null topic name")
    return name


# A partition's answer without record errors, error message or current leader, per version range:
# index int32, error_code int16, base_offset int64, log_append_time_ms int64 (v2+), log_start_offset
# int64 (v5+); v8 adds an empty record_errors array and a null error_message; v9+ write those as
# compact (0x01, 0x00) and end the struct with an empty tagged-field section (0x00).
_PARTITION_V3 = struct.Struct(">ihqq")
_PARTITION_V5 = struct.Struct(">ihqqq")
_PARTITION_V8 = struct.Struct(">ihqqqih")
_PARTITION_FLEXIBLE = struct.Struct(">ihqqqBBB")
_INT16 = struct.Struct(">h")


def _plain(response: msg.ProduceResponse) -> bool:
    """Nothing only errors carry: the struct-per-partition path writes it."""
    if response.node_endpoints:
        return False
    for topic in response.responses:
        for part in topic.partition_responses:
            leader = part.current_leader
            if (
                part.record_errors
                or part.error_message is not None
                or leader.leader_id != -1
                or leader.leader_epoch != -1
            ):
                return False
    return True


def write_produce_response(response: msg.ProduceResponse, version: int) -> list[Chunk]:
    if not _plain(response):
        return codec.encode(msg.RESPONSE, version, response)
    flexible = version >= FIRST_FLEXIBLE_VERSION
    topics = response.responses
    out = bytearray()
    if flexible:
        p.write_uvarint(out, len(topics) + 1)
    else:
        out += _INT32.pack(len(topics))
    for topic in topics:
        if version >= FIRST_VERSION_WITH_TOPIC_IDS:
            out += topic.topic_id.bytes
        else:
            name = topic.name.encode()
            if flexible:
                p.write_uvarint(out, len(name) + 1)
            else:
                out += _INT16.pack(len(name))
            out += name
        parts = topic.partition_responses
        if flexible:
            p.write_uvarint(out, len(parts) + 1)
            pack = _PARTITION_FLEXIBLE.pack
            for r in parts:
                out += pack(
                    r.index, r.error_code, r.base_offset, r.log_append_time_ms, r.log_start_offset, 1, 0, 0
                )
            out.append(0)  # the topic's tagged fields
        else:
            out += _INT32.pack(len(parts))
            if version >= 8:
                pack8 = _PARTITION_V8.pack
                for r in parts:
                    out += pack8(
                        r.index, r.error_code, r.base_offset, r.log_append_time_ms, r.log_start_offset, 0, -1
                    )
            elif version >= 5:
                pack5 = _PARTITION_V5.pack
                for r in parts:
                    out += pack5(
                        r.index, r.error_code, r.base_offset, r.log_append_time_ms, r.log_start_offset
                    )
            else:
                pack3 = _PARTITION_V3.pack
                for r in parts:
                    out += pack3(r.index, r.error_code, r.base_offset, r.log_append_time_ms)
    out += _INT32.pack(response.throttle_time_ms)
    if flexible:
        out.append(0)  # the response's tagged fields (node_endpoints only when set: the codec's path)
    return [out]
