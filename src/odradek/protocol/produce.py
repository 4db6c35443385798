"""Hand-written parser of Produce requests (v3-v13): the hot path of every write.

It builds the same objects as the generic codec (`messages.produce.ProduceRequest`), but with
straight-line struct unpacking, and each partition's ``records`` is a memoryview into the request
frame: record bytes are never copied or decoded here. The frame is a writable ``bytearray``, so the
log can restamp batches in place. Layout per version: see ``messages/produce.py``; v9+ are flexible
(compact lengths, tagged fields after each struct); v13 names topics by id instead of name.

Bytes after the last field the schema defines are ignored, as the generic codec's callers do and as
Kafka does (it reads the fields it knows from the buffer and never checks that nothing is left).
"""

from __future__ import annotations

from odradek.protocol import primitives as p
from odradek.protocol.messages.produce import PartitionProduceData, ProduceRequest, TopicProduceData
from odradek.protocol.primitives import Buffer, ProtocolError
from odradek.protocol.records import ATTRIBUTES_OFFSET, TRANSACTIONAL_BIT

_ATTRIBUTES_END = ATTRIBUTES_OFFSET + 1  # the low byte of the big-endian int16 attributes
_TXN_BIT = TRANSACTIONAL_BIT


def parse_produce_request(buf: Buffer, pos: int, version: int) -> ProduceRequest:
    flexible = version >= 9
    if flexible:
        transactional_id, pos = p.read_compact_string(buf, pos)
    else:
        transactional_id, pos = p.read_string(buf, pos)
    acks, pos = p.read_int16(buf, pos)
    timeout_ms, pos = p.read_int32(buf, pos)
    n_topics, pos = p.read_array_length(buf, pos, flexible)
    topics: list[TopicProduceData] = []
    if n_topics < 0:
        raise ProtocolError("null topic array")
    for _ in range(n_topics):
        topic = TopicProduceData()
        if version >= 13:
            topic.topic_id, pos = p.read_uuid(buf, pos)
        elif flexible:
            name, pos = p.read_compact_string(buf, pos)
            topic.name = _non_null(name)
        else:
            name, pos = p.read_string(buf, pos)
            topic.name = _non_null(name)
        n_parts, pos = p.read_array_length(buf, pos, flexible)
        parts = topic.partition_data
        if n_parts < 0:
            raise ProtocolError("null partition array")
        for _ in range(n_parts):
            index, pos = p.read_int32(buf, pos)
            if flexible:
                records, pos = p.read_compact_bytes(buf, pos)
                pos = p.skip_tagged_fields(buf, pos)
            else:
                records, pos = p.read_bytes(buf, pos)
            parts.append(PartitionProduceData(index, records))
        if flexible:
            pos = p.skip_tagged_fields(buf, pos)
        topics.append(topic)
    if flexible:
        pos = p.skip_tagged_fields(buf, pos)
    return ProduceRequest(transactional_id, acks, timeout_ms, topics)


def has_transactional_batch(request: ProduceRequest) -> bool:
    """Does any partition's (first) batch have the transactional bit? One attributes read each."""
    for topic in request.topic_data:
        for part in topic.partition_data:
            records = part.records
            if (
                isinstance(records, bytes | bytearray | memoryview)
                and len(records) > _ATTRIBUTES_END
                and records[_ATTRIBUTES_END] & _TXN_BIT
            ):
                return True
    return False


def _non_null(name: str | None) -> str:
    if name is None:
        raise ProtocolError("null topic name")
    return name
