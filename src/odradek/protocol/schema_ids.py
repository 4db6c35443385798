"""Schema ids carried by a batch's record keys and values in Confluent's wire format.

Confluent's serializers prefix each serialized key or value with a magic byte ``0x00`` and the
schema id as a big-endian int32 (then the Avro/JSON/Protobuf payload). `schema_ids` walks the
(decompressed) records section of a v2 batch and returns, per record, the id found in the key and
in the value:

- ``None``: the field is null (no key; a tombstone value), which carries no schema;
- ``NOT_FRAMED`` (-1): the field is not in the wire format (shorter than 5 bytes or another magic
  byte);
- otherwise the schema id.

Record layout: ``length varint | attributes | timestampDelta varlong | offsetDelta varint |
keyLength varint | key | valueLength varint | value | headers``. This is the one place the broker
looks inside records on the Produce path, and only for topics that ask for schema validation.
"""

from __future__ import annotations

import struct

from odradek.protocol.primitives import Buffer, ProtocolError, read_varint, read_varlong
from odradek.protocol.records import CorruptBatchError

NOT_FRAMED = -1
MAGIC = 0


_ID = struct.Struct(">i")


def _id(payload: Buffer, at: int, length: int) -> int | None:
    if length < 0:
        return None
    if length < 5 or payload[at] != MAGIC:
        return NOT_FRAMED
    return int(_ID.unpack_from(payload, at + 1)[0])


def schema_ids(payload: Buffer, count: int) -> list[tuple[int | None, int | None]]:
    """(key id, value id) of each of the ``count`` records; raises CorruptBatchError."""
    out: list[tuple[int | None, int | None]] = []
    if not isinstance(payload, bytes):
        payload = bytes(payload)  # one memcpy; indexing bytes is much cheaper than a memoryview
    end_of_payload = len(payload)
    p = 0
    try:
        for _ in range(count):
            # one-byte varints (-64..63) are by far the most common: decoded inline
            b = payload[p]
            length, body = ((b >> 1) ^ -(b & 1), p + 1) if b < 0x80 else read_varint(payload, p)
            end = body + length
            if length < 1 or end > end_of_payload:
                raise CorruptBatchError("record length does not fit")
            q = body + 1
            q = q + 1 if payload[q] < 0x80 else read_varlong(payload, q)[1]  # timestampDelta
            q = q + 1 if payload[q] < 0x80 else read_varint(payload, q)[1]  # offsetDelta
            b = payload[q]
            key_length, q = ((b >> 1) ^ -(b & 1), q + 1) if b < 0x80 else read_varint(payload, q)
            key_at = q
            q += max(key_length, 0)
            b = payload[q]
            value_length, q = ((b >> 1) ^ -(b & 1), q + 1) if b < 0x80 else read_varint(payload, q)
            if q + max(value_length, 0) > end:
                raise CorruptBatchError("record fields overrun the record")
            out.append((_id(payload, key_at, key_length), _id(payload, q, value_length)))
            p = end
    except (ProtocolError, IndexError) as exc:
        if isinstance(exc, CorruptBatchError):
            raise
        raise CorruptBatchError(f"truncated record: {exc}") from exc
    return out
