"""Message schemas as data: what `tools/gen_messages.py` emits and `odradek.protocol.codec` reads.

A schema is the information of Kafka's message JSON specifications that the wire needs and nothing
more: field names (as Python attributes), types, the versions each field exists in, nullable and
tagged versions, defaults. One generic codec interprets it, so there is no class per version.

Version ranges are inclusive ``(low, high)`` tuples; ``None`` means "no version".
"""

from __future__ import annotations

from dataclasses import dataclass

from odradek.protocol.file_region import FileRegion

VersionRange = tuple[int, int] | None
MAX_VERSION = 0x7FFF

_NUMBERS = ("bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64")
PRIMITIVES = frozenset((*_NUMBERS, "string", "bytes", "records", "uuid"))

Chunk = bytes | bytearray | memoryview | FileRegion
RecordsData = bytes | bytearray | memoryview | list[Chunk]
"""A records field: one buffer, or chunks written back-to-back without being joined."""


def in_range(r: VersionRange, version: int) -> bool:
    return r is not None and r[0] <= version <= r[1]


@dataclass(frozen=True, slots=True)
class FieldSchema:
    """One field of a message struct: type, versions, nullable and tagged versions."""

    attr: str
    """Python attribute name (snake_case of the JSON name)."""
    type: str
    """A primitive name, or "struct" for a nested struct."""
    array: bool
    versions: VersionRange
    nullable: VersionRange = None
    tag: int | None = None
    tagged: VersionRange = None
    flexible: VersionRange | bool = True
    """Versions in which this field uses compact encodings; True = follow the message."""
    struct: StructSchema | None = None


@dataclass(slots=True)
class StructSchema:
    """A message struct: its Python class and fields in wire order."""

    name: str
    cls: type
    fields: tuple[FieldSchema, ...] = ()


@dataclass(frozen=True, slots=True)
class MessageSchema:
    """A message: its API key, kind, valid and flexible versions, and root struct."""

    name: str
    api_key: int
    kind: str
    """"request", "response", "header" or "data"."""
    valid: VersionRange
    flexible: VersionRange
    root: StructSchema
    latest_unstable: bool = False

    def is_flexible(self, version: int) -> bool:
        return in_range(self.flexible, version)


def nested_struct(root: StructSchema, *path: str) -> StructSchema:
    """The struct schema reached by following array/struct field names from `root`."""
    struct = root
    for attr in path:
        found = next((f.struct for f in struct.fields if f.attr == attr and f.struct is not None), None)
        if found is None:
            raise KeyError(f"{struct.name} has no struct field {attr}")
        struct = found
    return struct
