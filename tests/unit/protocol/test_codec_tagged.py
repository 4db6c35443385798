"""Tagged fields (KIP-482) in the generic codec, on small hand-made schemas."""

from __future__ import annotations

from dataclasses import dataclass, field

from odradek.protocol import codec
from odradek.protocol.schema import MAX_VERSION, FieldSchema, MessageSchema, RecordsData, StructSchema

ALL = (0, MAX_VERSION)


@dataclass(slots=True)
class Inner:
    records: RecordsData | None = None


@dataclass(slots=True)
class Holder:
    records: RecordsData | None = None
    inner: Inner = field(default_factory=Inner)


_INNER = StructSchema("Inner", Inner, (FieldSchema("records", "records", False, ALL, nullable=ALL),))
HOLDER = MessageSchema(
    "Holder",
    -1,
    "data",
    ALL,
    ALL,
    StructSchema(
        "Holder",
        Holder,
        (
            FieldSchema("records", "records", False, ALL, nullable=ALL, tag=0, tagged=ALL),
            FieldSchema("inner", "struct", False, ALL, tag=1, tagged=ALL, struct=_INNER),
        ),
    ),
)


def test_tagged_records_written_as_chunks_keep_every_chunk() -> None:
    raw = codec.encode_bytes(HOLDER, 0, Holder(records=[b"ab", memoryview(b"cd")]))
    # 1 tag; tag 0, size 5: compact length 4 + 1, then the four bytes
    assert raw == bytes([1, 0, 5, 5]) + b"abcd"
    assert codec.decode(HOLDER, 0, raw) == (Holder(records=b"abcd"), len(raw))


def test_tagged_struct_holding_records_keeps_them() -> None:
    raw = codec.encode_bytes(HOLDER, 0, Holder(inner=Inner(records=[b"xyz"])))
    # 1 tag; tag 1, size 5: compact length 3 + 1, "xyz", the inner struct's empty tag section
    assert raw == bytes([1, 1, 5, 4]) + b"xyz" + b"\x00"
    assert codec.decode(HOLDER, 0, raw) == (Holder(inner=Inner(records=b"xyz")), len(raw))


def test_tagged_fields_equal_to_their_default_are_not_written() -> None:
    assert codec.encode_bytes(HOLDER, 0, Holder()) == b"\x00"
    assert codec.encode_bytes(HOLDER, 0, Holder(records=None, inner=Inner())) == b"\x00"
