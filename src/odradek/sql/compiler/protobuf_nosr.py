"""The PROTOBUF_NOSR format: Protobuf without the schema registry (ksqlDB's format of that name).

A record is the bare serialized message: no magic byte, no schema id, no message indexes. The
schema is the one the declared columns give, built exactly as for PROTOBUF (`registry_schemas.py`):
a proto3 message `ConnectDefault1` with one field per column, numbered 1, 2, ... in column order;
STRUCT columns become nested messages, ARRAY repeated fields, MAP<STRING, V> map fields, DECIMAL
`confluent.type.Decimal`, DATE `google.type.Date`, TIME `google.type.TimeOfDay` and TIMESTAMP
`google.protobuf.Timestamp`. Keys and values are always messages (a single column is wrapped), so
there is nothing to infer and a statement must declare its columns.

As with any proto3 message, a null scalar is written as absent and reads back as its default (0,
false, "", empty bytes); null STRUCT, DECIMAL, DATE, TIME and TIMESTAMP values stay null.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, message_factory

from odradek.sql.compiler.registry_schemas import UnsupportedSchema, proto_file
from odradek.sql.compiler.registry_serdes import (
    _fill,
    _ProtobufReader,
    _struct_reader,
    message_to_dict,
)
from odradek.sql.schema import Column
from odradek.streams.errors import SerializationError
from odradek.streams.serdes import Headers, Serde

FORMAT = "PROTOBUF_NOSR"


def nosr_file(columns: tuple[Column, ...]) -> descriptor_pb2.FileDescriptorProto:
    """The proto3 file the columns declare (raises `SerializationError` for types Protobuf lacks)."""
    try:
        return proto_file(columns)
    except UnsupportedSchema as exc:
        raise SerializationError(str(exc).replace("PROTOBUF", FORMAT)) from None


class ProtobufNoSrRowSerde(Serde[dict[str, Any]]):
    """A row (dict) as the bare `ConnectDefault1` message of its columns."""

    name = "sql-protobuf_nosr"

    def __init__(self, columns: tuple[Column, ...]) -> None:
        self.columns = columns
        self.file = nosr_file(columns)
        try:
            self.descriptor = _ProtobufReader(self.file).descriptor
        except TypeError as exc:  # the protobuf runtime refuses the file (e.g. a map of maps)
            raise SerializationError(f"{FORMAT}: the columns make no valid Protobuf message: {exc}") from None
        self._message = message_factory.GetMessageClass(self.descriptor)
        self._read_row = _struct_reader(tuple((c.name, c.type) for c in columns))

    def to_bytes(self, obj: dict[str, Any]) -> bytes:
        message = self._message()
        _fill(message, obj)
        data: bytes = message.SerializeToString()
        return data

    def from_bytes(self, data: bytes) -> dict[str, Any]:
        message = self._message()
        try:
            message.ParseFromString(data)
        except Exception as exc:
            raise SerializationError(
                f"{FORMAT}: the record is not a {self.descriptor.name} message of the declared columns: {exc}"
            ) from None
        return self._read_row(message_to_dict(message))


class ProtobufNoSrKeySerde(Serde[tuple[Any, ...]]):
    """A key tuple as the message of the key columns (a single key column is wrapped too)."""

    name = "sql-protobuf_nosr-key"

    def __init__(self, columns: tuple[Column, ...]) -> None:
        self.row = ProtobufNoSrRowSerde(columns)
        self.names = [c.name for c in columns]

    def serialize(self, topic: str, obj: Any, headers: Headers | None = None) -> bytes | None:
        if obj is None or all(v is None for v in obj):
            return None
        return self.row.serialize(topic, dict(zip(self.names, obj, strict=True)), headers)

    def to_bytes(self, obj: tuple[Any, ...]) -> bytes:
        return self.row.to_bytes(dict(zip(self.names, obj, strict=True)))

    def from_bytes(self, data: bytes) -> tuple[Any, ...]:
        row = self.row.from_bytes(data)
        return tuple(row.get(n) for n in self.names)
