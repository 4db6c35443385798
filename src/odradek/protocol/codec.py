"""The one generic codec: reads and writes any message of any version from its schema.

For each (struct, version) pair the codec compiles, once, a reader and a writer made of small
closures over the primitive readers/writers, and caches them. Reading works on a `memoryview`
without copying `records` fields (they stay views into the request buffer; every other `bytes`
field is copied, since coordinators keep them). Writing produces a list of chunks: small fields go
into a bytearray, `records` fields are appended as they are, so fetched log bytes are never joined.

Flexible versions (KIP-482) use compact lengths and end every struct with tagged fields. Unknown
tags are skipped when reading; tagged fields are written only when they differ from their default,
as Kafka does.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from odradek.protocol import primitives as p
from odradek.protocol.file_region import FileRegion
from odradek.protocol.primitives import Buffer, ProtocolError
from odradek.protocol.schema import Chunk, FieldSchema, MessageSchema, RecordsData, StructSchema, in_range

Reader = Callable[[Buffer, int], tuple[Any, int]]


class Writer:
    """Accumulates encoded bytes; `records` payloads become separate chunks (no copy)."""

    __slots__ = ("buf", "chunks")

    def __init__(self) -> None:
        self.buf = bytearray()
        self.chunks: list[Chunk] = []

    def add_chunk(self, data: Chunk) -> None:
        if self.buf:
            self.chunks.append(self.buf)
            self.buf = bytearray()
        self.chunks.append(data)

    def finish(self) -> list[Chunk]:
        if self.buf or not self.chunks:
            self.chunks.append(self.buf)
            self.buf = bytearray()
        return self.chunks


FieldWriter = Callable[[Writer, Any], None]


class Encoded:
    """A struct already encoded at the version being written: its writer copies these bytes.

    For large answers built again and again from unchanged data (Metadata with 20,000 partitions),
    a handler may cache each part's bytes and put `Encoded(bytes)` where the struct goes.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def encode_struct(struct: StructSchema, version: int, flexible: bool, obj: Any) -> bytes:
    """One struct's bytes, for `Encoded`."""
    w = Writer()
    compiled(struct, version, flexible)[1](w, obj)
    return joined(w.finish())


def _fixed(fmt: Any) -> tuple[Reader, FieldWriter]:
    size = fmt.size
    unpack = fmt.unpack_from
    pack = fmt.pack

    def read(buf: Buffer, pos: int) -> tuple[Any, int]:
        if pos + size > len(buf):
            raise ProtocolError("truncated fixed-width field")
        return unpack(buf, pos)[0], pos + size

    def write(w: Writer, value: Any) -> None:
        w.buf += pack(value)

    return read, write


_FORMATS = {
    "int8": p.INT8,
    "int16": p.INT16,
    "uint16": p.UINT16,
    "int32": p.INT32,
    "uint32": p.UINT32,
    "int64": p.INT64,
    "float64": p.FLOAT64,
}
_FIXED = {
    "int8": _fixed(p.INT8),
    "int16": _fixed(p.INT16),
    "uint16": _fixed(p.UINT16),
    "int32": _fixed(p.INT32),
    "uint32": _fixed(p.UINT32),
    "int64": _fixed(p.INT64),
    "float64": _fixed(p.FLOAT64),
}


def _write_bool(w: Writer, value: Any) -> None:
    w.buf.append(1 if value else 0)


def _write_uuid(w: Writer, value: Any) -> None:
    w.buf += value.bytes


def _read_bytes_copy(buf: Buffer, pos: int) -> tuple[bytes | None, int]:
    view, pos = p.read_bytes(buf, pos)
    return (None if view is None else bytes(view)), pos


def _read_compact_bytes_copy(buf: Buffer, pos: int) -> tuple[bytes | None, int]:
    view, pos = p.read_compact_bytes(buf, pos)
    return (None if view is None else bytes(view)), pos


def _records_size(value: RecordsData) -> int:
    if isinstance(value, list):
        return sum(len(c) for c in value)
    return len(value)


def _write_records_chunks(w: Writer, value: RecordsData) -> None:
    if isinstance(value, list):
        for chunk in value:
            if chunk:
                w.add_chunk(chunk)
    elif value:
        w.add_chunk(value)


def _write_records(w: Writer, value: RecordsData | None) -> None:
    if value is None:
        w.buf += b"\xff\xff\xff\xff"
        return
    w.buf += p.INT32.pack(_records_size(value))
    _write_records_chunks(w, value)


def _write_compact_records(w: Writer, value: RecordsData | None) -> None:
    if value is None:
        w.buf.append(0)
        return
    p.write_uvarint(w.buf, _records_size(value) + 1)
    _write_records_chunks(w, value)


def _primitive(type_: str, compact: bool) -> tuple[Reader, FieldWriter]:
    if type_ in _FIXED:
        return _FIXED[type_]
    if type_ == "bool":
        return p.read_bool, _write_bool
    if type_ == "uuid":
        return p.read_uuid, _write_uuid
    if type_ == "string":
        if compact:
            return p.read_compact_string, lambda w, v: p.write_compact_string(w.buf, v)
        return p.read_string, lambda w, v: p.write_string(w.buf, v)
    if type_ == "bytes":
        if compact:
            return _read_compact_bytes_copy, lambda w, v: p.write_compact_bytes(w.buf, v)
        return _read_bytes_copy, lambda w, v: p.write_bytes(w.buf, v)
    if type_ == "records":
        if compact:
            return p.read_compact_bytes, _write_compact_records
        return p.read_bytes, _write_records
    raise ValueError(f"unknown primitive type {type_}")


def _field_codec(f: FieldSchema, version: int, flexible: bool) -> tuple[Reader, FieldWriter]:
    compact = flexible if isinstance(f.flexible, bool) else in_range(f.flexible, version)
    nullable = in_range(f.nullable, version)
    if f.type == "struct":
        assert f.struct is not None
        elem_read, elem_write = compiled(f.struct, version, flexible)
    else:
        elem_read, elem_write = _primitive(f.type, compact)
    name = f.attr
    if f.type in ("string", "bytes", "records") and (f.array or not nullable):
        # nullableVersions applies to an array itself, never to its elements
        elem_read, elem_write = _non_null(name, elem_read, elem_write)
    if f.array and f.type in _FORMATS:
        return _fixed_array_codec(name, _FORMATS[f.type], compact, nullable)
    if f.array:
        return _array_codec(name, elem_read, elem_write, compact, nullable)
    if f.type == "struct" and nullable:
        return _nullable_struct_codec(elem_read, elem_write)
    return elem_read, elem_write


def _non_null(name: str, elem_read: Reader, elem_write: FieldWriter) -> tuple[Reader, FieldWriter]:
    """A string/bytes codec whose null length is an error, not None."""

    def read(buf: Buffer, pos: int) -> tuple[Any, int]:
        value, pos = elem_read(buf, pos)
        if value is None:
            raise ProtocolError(f"non-nullable field {name} is null")
        return value, pos

    def write(w: Writer, value: Any) -> None:
        if value is None:
            raise ValueError(f"non-nullable field {name} is None")
        elem_write(w, value)

    return read, write


def _array_codec(
    name: str, elem_read: Reader, elem_write: FieldWriter, compact: bool, nullable: bool
) -> tuple[Reader, FieldWriter]:
    def read(buf: Buffer, pos: int) -> tuple[Any, int]:
        n, pos = p.read_array_length(buf, pos, compact)
        if n < 0:
            if not nullable:
                raise ProtocolError(f"non-nullable array {name} is null")
            return None, pos
        items: list[Any] = []
        append = items.append
        for _ in range(n):
            item, pos = elem_read(buf, pos)
            append(item)
        return items, pos

    def write(w: Writer, value: Any) -> None:
        if value is None:
            if not nullable:
                raise ValueError(f"non-nullable array {name} is None")
            p.write_array_length(w.buf, -1, compact)
            return
        p.write_array_length(w.buf, len(value), compact)
        for item in value:
            elem_write(w, item)

    return read, write


_MAX_CACHED_COUNT = 64


def _fixed_array_codec(name: str, fmt: Any, compact: bool, nullable: bool) -> tuple[Reader, FieldWriter]:
    """Arrays of fixed-width numbers (replica lists, partition ids...): one struct call per array."""
    size = fmt.size
    code = fmt.format[1:]
    by_count = [struct.Struct(f">{n}{code}") for n in range(_MAX_CACHED_COUNT)]

    def layout(n: int) -> struct.Struct:
        return by_count[n] if n < _MAX_CACHED_COUNT else struct.Struct(f">{n}{code}")

    def read(buf: Buffer, pos: int) -> tuple[Any, int]:
        n, pos = p.read_array_length(buf, pos, compact)
        if n < 0:
            if not nullable:
                raise ProtocolError(f"non-nullable array {name} is null")
            return None, pos
        end = pos + n * size
        if end > len(buf):
            raise ProtocolError(f"truncated array {name}")
        return list(layout(n).unpack_from(buf, pos)), end

    def write(w: Writer, value: Any) -> None:
        if value is None:
            if not nullable:
                raise ValueError(f"non-nullable array {name} is None")
            p.write_array_length(w.buf, -1, compact)
            return
        p.write_array_length(w.buf, len(value), compact)
        w.buf += layout(len(value)).pack(*value)

    return read, write


def _nullable_struct_codec(elem_read: Reader, elem_write: FieldWriter) -> tuple[Reader, FieldWriter]:
    def read(buf: Buffer, pos: int) -> tuple[Any, int]:
        marker, pos = p.read_int8(buf, pos)
        if marker < 0:
            return None, pos
        return elem_read(buf, pos)

    def write(w: Writer, value: Any) -> None:
        if value is None:
            w.buf.append(0xFF)
        else:
            w.buf.append(1)
            elem_write(w, value)

    return read, write


_cache: dict[tuple[int, int, bool], tuple[Reader, FieldWriter]] = {}


def compiled(struct: StructSchema, version: int, flexible: bool) -> tuple[Reader, FieldWriter]:
    """The reader and writer of `struct` at `version` (memoized)."""
    key = (id(struct), version, flexible)
    hit = _cache.get(key)
    if hit is None:
        hit = _compile(struct, version, flexible)
        _cache[key] = hit
    return hit


def _compile(struct: StructSchema, version: int, flexible: bool) -> tuple[Reader, FieldWriter]:
    cls = struct.cls
    regular: list[tuple[str, Reader, FieldWriter]] = []
    tagged: dict[int, tuple[str, Reader, FieldWriter]] = {}
    for f in struct.fields:
        if not in_range(f.versions, version):
            continue
        rd, wr = _field_codec(f, version, flexible)
        if flexible and f.tag is not None and in_range(f.tagged, version):
            tagged[f.tag] = (f.attr, rd, wr)
        else:
            regular.append((f.attr, rd, wr))
    tag_order = sorted(tagged.items())
    defaults = cls()

    def read(buf: Buffer, pos: int) -> tuple[Any, int]:
        obj = cls()
        for attr, rd, _ in regular:
            value, pos = rd(buf, pos)
            setattr(obj, attr, value)
        if flexible:
            count, pos = p.read_uvarint(buf, pos)
            for _ in range(count):
                tag, pos = p.read_uvarint(buf, pos)
                size, pos = p.read_uvarint(buf, pos)
                end = pos + size
                if end > len(buf):
                    raise ProtocolError("truncated tagged field")
                known = tagged.get(tag)
                if known is not None:
                    value, used = known[1](buf, pos)
                    if used != end:
                        raise ProtocolError(f"tagged field {tag} has wrong size")
                    setattr(obj, known[0], value)
                pos = end
        return obj, pos

    def write(w: Writer, obj: Any) -> None:
        if type(obj) is Encoded:
            if len(obj.data) > 4096:
                w.add_chunk(obj.data)
            else:
                w.buf += obj.data
            return
        for attr, _, wr in regular:
            wr(w, getattr(obj, attr))
        if flexible:
            present = []
            for tag, (attr, _, wr) in tag_order:
                value = getattr(obj, attr)
                if value != getattr(defaults, attr):
                    sub = Writer()
                    wr(sub, value)
                    # the size prefix needs the whole value, so records chunks are joined here
                    present.append((tag, joined(sub.finish())))
            p.write_uvarint(w.buf, len(present))
            for tag, raw in present:
                p.write_uvarint(w.buf, tag)
                p.write_uvarint(w.buf, len(raw))
                w.buf += raw

    return read, write


def decode(schema: MessageSchema, version: int, buf: Buffer, pos: int = 0) -> tuple[Any, int]:
    """Parse one message body; returns the object and the position after it."""
    read, _ = compiled(schema.root, version, schema.is_flexible(version))
    return read(buf, pos)


def encode_into(w: Writer, schema: MessageSchema, version: int, obj: Any) -> None:
    _, write = compiled(schema.root, version, schema.is_flexible(version))
    write(w, obj)


def encode(schema: MessageSchema, version: int, obj: Any) -> list[Chunk]:
    """Serialize a message body as chunks."""
    w = Writer()
    encode_into(w, schema, version, obj)
    return w.finish()


def encode_bytes(schema: MessageSchema, version: int, obj: Any) -> bytes:
    return joined(encode(schema, version, obj))


def joined(chunks: list[Chunk]) -> bytes:
    """Chunks as one bytes object (file regions read)."""
    return b"".join(c.read() if isinstance(c, FileRegion) else c for c in chunks)
