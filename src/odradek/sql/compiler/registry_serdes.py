"""Row serdes for the schema-registry formats AVRO, PROTOBUF and JSON_SR (Confluent's wire format).

A record is the magic byte 0, the 4-byte id of the writer's schema, then (Protobuf only) the message
indexes and the payload. Reading looks the writer's schema up by that id (once per id) and maps its
fields onto the source's columns case-insensitively, so records written by any Confluent-compatible
client (confluent-kafka's AvroSerializer, ProtobufSerializer, JSONSerializer, Connect's converters)
read as rows. Writing registers the schema ksqlDB would (`registry_schemas.py`) under the topic's
subject (`<topic>-key` / `<topic>-value`), or writes with the schema a statement named by
KEY_SCHEMA_ID / VALUE_SCHEMA_ID without registering anything.

Encoding goes through well-kept libraries: fastavro for Avro, protobuf's runtime message classes
(built from descriptors) for Protobuf, orjson for JSON; the registry is reached with confluent-kafka's
`SchemaRegistryClient`.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import io
import json
import struct
import threading
from collections.abc import Callable, Sequence
from typing import Any

import fastavro
from confluent_kafka.schema_registry.confluent import meta_pb2
from confluent_kafka.schema_registry.confluent.type import decimal_pb2
from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    message_factory,
    timestamp_pb2,
    wrappers_pb2,
)
from google.type import date_pb2, timeofday_pb2

from odradek.sql.compiler.registry_schemas import (
    UnsupportedSchema,
    avro_schema,
    columns_of_avro,
    columns_of_json,
    columns_of_message,
    json_schema,
    proto_file,
)
from odradek.sql.schema import Column, Namespace
from odradek.sql.types import BaseType, SqlType
from odradek.streams.errors import SerializationError
from odradek.streams.serdes import Headers, Serde

INTERNAL_SUBJECT_TOPIC = "odradek-sql-internal"
SCHEMA_TYPES = {"AVRO": "AVRO", "PROTOBUF": "PROTOBUF", "JSON_SR": "JSON"}
EPOCH = datetime.datetime(1970, 1, 1)
EPOCH_DATE = datetime.date(1970, 1, 1)
_ID = struct.Struct(">I")


class SchemaRegistry:
    """The SQL server's access to a Confluent-compatible schema registry (thread-safe, cached)."""

    def __init__(self, url_or_client: Any, conf: dict[str, Any] | None = None) -> None:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        if isinstance(url_or_client, str):
            self.url = url_or_client
            self.client = SchemaRegistryClient.new_client({"url": url_or_client, **(conf or {})})
        else:
            self.url = getattr(url_or_client, "url", "")
            self.client = url_or_client
        # Protobuf schemas are read as descriptors (`format=serialized`) through a client of their
        # own: the client caches by id and by subject version whatever format it fetched first
        self.serialized_client = self.client
        if isinstance(url_or_client, str) and not url_or_client.startswith("mock://"):
            self.serialized_client = SchemaRegistryClient.new_client({"url": url_or_client, **(conf or {})})
        self._lock = threading.Lock()
        self._by_id: dict[tuple[int, str | None], Any] = {}
        self._by_version: dict[tuple[str, int, str | None], Any] = {}

    def register(self, subject: str, schema_type: str, text: str) -> int:
        from confluent_kafka.schema_registry import Schema

        return int(self.client.register_schema(subject, Schema(text, schema_type)))

    def schema(self, schema_id: int, serialized: bool = False) -> Any:
        """The registered schema with this id (`serialized`: Protobuf as a base64 descriptor)."""
        fmt = "serialized" if serialized else None
        with self._lock:
            cached = self._by_id.get((schema_id, fmt))
        if cached is None:
            if fmt:
                cached = self.serialized_client.get_schema(schema_id, fmt=fmt)
            else:
                cached = self.client.get_schema(schema_id)
            with self._lock:
                self._by_id[(schema_id, fmt)] = cached
        return cached

    def referenced(self, schema: Any, serialized: bool = False) -> list[tuple[str, Any]]:
        """The schemas `schema` references (Confluent schema references), recursively, as
        (reference name, schema) with every schema after the ones it references; each referenced
        subject version is fetched once."""
        out: list[tuple[str, Any]] = []
        seen: set[str] = set()

        def walk(current: Any) -> None:
            for ref in current.references or ():
                if ref.name in seen:
                    continue
                seen.add(ref.name)
                found = self._version(str(ref.subject), int(ref.version), serialized)
                walk(found)
                out.append((str(ref.name), found))

        walk(schema)
        return out

    def _version(self, subject: str, version: int, serialized: bool) -> Any:
        fmt = "serialized" if serialized else None
        key = (subject, version, fmt)
        with self._lock:
            cached = self._by_version.get(key)
        if cached is None:
            client = self.serialized_client if serialized else self.client
            cached = client.get_version(subject, version, True, fmt).schema
            with self._lock:
                self._by_version[key] = cached
        return cached

    def latest(self, subject: str) -> tuple[int, Any]:
        """(id, schema) of the subject's latest version (raises when there is none)."""
        registered = self.client.get_latest_version(subject)
        return int(registered.schema_id or 0), registered.schema

    def compatible(self, subject: str, schema_type: str, text: str) -> bool:
        """Whether registering this schema under the subject would pass its compatibility check
        (True when the subject has no versions yet)."""
        from confluent_kafka.schema_registry import Schema
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        try:
            return bool(self.client.test_compatibility(subject, Schema(text, schema_type)))
        except SchemaRegistryError as e:
            if e.http_status_code == 404:
                return True
            raise

    def subject_exists(self, subject: str) -> bool:
        return subject in self.client.get_subjects()

    def subject_has_id(self, subject: str, schema_id: int) -> bool:
        return self.client.lookup_schema(subject, self.schema(schema_id)).schema_id == schema_id

    def id_exists(self, schema_id: int) -> bool:
        try:
            self.client.get_schema(schema_id)
        except Exception:
            return False
        return True

    def close(self) -> None:
        for client in {id(c): c for c in (self.client, self.serialized_client)}.values():
            close = getattr(client, "close", None)
            if close is not None:
                close()

    # -- inference -----------------------------------------------------------------------------------

    def infer(self, topic: str, fmt: str, is_key: bool, schema_id: int | None) -> list[Column]:
        """The columns of the topic's key or value schema (the subject's latest, or `schema_id`)."""
        namespace = Namespace.KEY if is_key else Namespace.VALUE
        subject = f"{topic}-{'key' if is_key else 'value'}"
        if schema_id is None:
            schema_id, schema = self.latest(subject)
        else:
            schema = self.schema(schema_id)
        want = SCHEMA_TYPES[fmt]
        have = schema.schema_type or "AVRO"
        if have != want:
            raise UnsupportedSchema(
                f"the {'key' if is_key else 'value'} schema (id {schema_id}) is {have}, not {fmt}"
            )
        if want == "AVRO":
            references = [ref.schema_str for _, ref in self.referenced(schema)]
            return columns_of_avro(schema.schema_str, namespace, references)
        if want == "JSON":
            named = [(name, ref.schema_str) for name, ref in self.referenced(schema)]
            return columns_of_json(schema.schema_str, namespace, named)
        return columns_of_message(_protobuf_reader(self, schema_id).descriptor, namespace)

    def decode(self, data: bytes) -> tuple[str, Any] | None:
        """(format, decoded value) of a record in the registry's wire format, or None if it is not
        one (PRINT shows such records readably)."""
        if len(data) < 5 or data[0] != 0:
            return None
        schema_id = _ID.unpack_from(data, 1)[0]
        try:
            schema = self.schema(schema_id)
            kind = schema.schema_type or "AVRO"
            if kind == "AVRO":
                parsed, _ = _avro_parsed(self, schema)
                return "AVRO", fastavro.schemaless_reader(io.BytesIO(data[5:]), parsed, None)
            if kind == "JSON":
                return "JSON_SR", json.loads(data[5:])
            reader = _protobuf_reader(self, schema_id)
            indexes, pos = _message_indexes(data[5:])
            message = reader.message(indexes)()
            message.ParseFromString(data[5 + pos :])
            return "PROTOBUF", message_to_dict(message)
        except Exception:
            return None


# -- Python values <-> format values ------------------------------------------------------------------------


def from_native(typ: SqlType) -> Callable[[Any], Any]:
    """A converter from what a format's decoder returns to the SQL value of `typ`."""
    from odradek.sql.compiler.serdes import from_json

    b = typ.base
    if b is BaseType.TIMESTAMP:
        return lambda v: (
            (v.astimezone(datetime.UTC).replace(tzinfo=None) if v.tzinfo else v)
            if isinstance(v, datetime.datetime)
            else EPOCH + datetime.timedelta(milliseconds=int(v))
        )
    if b is BaseType.DATE:
        return lambda v: v if isinstance(v, datetime.date) else EPOCH_DATE + datetime.timedelta(days=int(v))
    if b is BaseType.TIME:
        return lambda v: (
            v if isinstance(v, datetime.time) else (EPOCH + datetime.timedelta(milliseconds=int(v))).time()
        )
    if b is BaseType.BYTES:
        return lambda v: bytes(v) if isinstance(v, bytes | bytearray) else base64.b64decode(v)
    if b is BaseType.DECIMAL:
        quantum = decimal.Decimal(1).scaleb(-typ.scale)
        return lambda v: decimal.Decimal(str(v)).quantize(quantum, rounding=decimal.ROUND_HALF_UP)
    if b is BaseType.STRING:
        plain = from_json(typ)
        return lambda v: v if isinstance(v, str) else plain(v)
    if b is BaseType.ARRAY:
        assert typ.element is not None
        inner = from_native(typ.element)
        return lambda arr: [None if x is None else inner(x) for x in arr]
    if b is BaseType.MAP:
        assert typ.element is not None
        inner = from_native(typ.element)
        return lambda m: {str(k): None if x is None else inner(x) for k, x in dict(m).items()}
    if b is BaseType.STRUCT:
        return _struct_reader(tuple(typ.fields))
    return from_json(typ)


def _struct_reader(fields: tuple[tuple[str, SqlType], ...]) -> Callable[[Any], dict[str, Any]]:
    convs = [(n, n.upper(), from_native(ft)) for n, ft in fields]

    def read(v: Any) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise ValueError(f"expected a record, got {type(v).__name__}")
        upper = {str(k).upper(): x for k, x in v.items()}
        out = {}
        for name, up, conv in convs:
            x = v.get(name, upper.get(up))
            out[name] = None if x is None else conv(x)
        return out

    return read


def _ms(ts: datetime.datetime) -> int:
    delta = ts - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _avro_parsed(registry: SchemaRegistry, schema: Any) -> tuple[Any, dict[str, Any]]:
    """(fastavro's parsed schema, the named types it may use) of a registered Avro schema, with
    the named types of the schemas it references (Confluent schema references) resolved first."""
    named: dict[str, Any] = {}
    for _, ref in registry.referenced(schema):
        fastavro.parse_schema(json.loads(ref.schema_str), named_schemas=named)
    return fastavro.parse_schema(json.loads(schema.schema_str), named_schemas=named), named


def _avro_writer(
    schema: Any, typ: SqlType | None, named: dict[str, Any] | None = None
) -> Callable[[Any], Any]:
    """A converter SQL value -> fastavro datum, walking the writer's Avro schema and the SQL type
    (`named`: named types defined elsewhere, e.g. in referenced schemas)."""
    named = {} if named is None else named
    if isinstance(schema, list):
        branches = [s for s in schema if s != "null"]
        inner = _avro_writer(branches[0], typ, named) if len(branches) == 1 else (lambda v: v)
        return lambda v: None if v is None else inner(v)
    if isinstance(schema, str) and schema in named:
        return _avro_writer(named[schema], typ, named)
    if not isinstance(schema, dict):
        return lambda v: v
    kind, logical = schema.get("type"), schema.get("logicalType")
    if logical in ("timestamp-millis", "local-timestamp-millis"):
        return lambda v: _ms(v) if isinstance(v, datetime.datetime) else v
    if logical == "timestamp-micros":
        return lambda v: _ms(v) * 1000 if isinstance(v, datetime.datetime) else v
    if logical == "decimal":
        quantum = decimal.Decimal(1).scaleb(-int(schema.get("scale", 0)))
        return lambda v: decimal.Decimal(v).quantize(quantum, rounding=decimal.ROUND_HALF_UP)
    if kind == "record":
        by_upper = {n.upper(): (n, ft) for n, ft in (typ.fields if typ is not None else ())}
        fields = []
        for f in schema.get("fields", []):
            sql = by_upper.get(f["name"].upper())
            fields.append(
                (f["name"], None if sql is None else sql[0], _avro_writer(f["type"], sql and sql[1], named))
            )
        return lambda v: {
            avro_name: None if sql_name is None else conv(v.get(sql_name))
            for avro_name, sql_name, conv in fields
        }
    if kind == "array":
        inner = _avro_writer(schema["items"], typ.element if typ is not None else None, named)
        return lambda arr: [inner(x) for x in arr]
    if kind == "map":
        inner = _avro_writer(schema["values"], typ.element if typ is not None else None, named)
        return lambda m: {str(k): inner(x) for k, x in m.items()}
    if isinstance(kind, dict | list) or (isinstance(kind, str) and kind in named):
        return _avro_writer(kind, typ, named)
    return lambda v: v


# -- per-format codecs ------------------------------------------------------------------------------------


class _Codec:
    """One format's payload encoding for a fixed set of columns."""

    schema_type = ""

    def __init__(self, columns: tuple[Column, ...], wrap: bool) -> None:
        self.columns = columns
        self.wrap = wrap
        struct_type = SqlType(BaseType.STRUCT, fields=tuple((c.name, c.type) for c in columns))
        self.read_row = _struct_reader(struct_type.fields) if wrap else self._single_reader(columns[0])

    @staticmethod
    def _single_reader(column: Column) -> Callable[[Any], dict[str, Any]]:
        conv = from_native(column.type)
        return lambda v: {column.name: None if v is None else conv(v)}

    def schema_text(self) -> str:
        raise NotImplementedError

    def writer(self, registry: SchemaRegistry, schema_id: int | None) -> Callable[[dict[str, Any]], bytes]:
        """Encoder of rows into payloads for the given writer schema (None: our own schema)."""
        raise NotImplementedError

    def reader(self, registry: SchemaRegistry, schema_id: int) -> Callable[[bytes], dict[str, Any]]:
        raise NotImplementedError


class AvroCodec(_Codec):
    schema_type = "AVRO"

    def schema_text(self) -> str:
        return avro_schema(self.columns, self.wrap)

    def writer(self, registry: SchemaRegistry, schema_id: int | None) -> Callable[[dict[str, Any]], bytes]:
        named: dict[str, Any] = {}
        if schema_id is None:
            schema = json.loads(self.schema_text())
            parsed = fastavro.parse_schema(schema)
        else:
            registered = registry.schema(schema_id)
            schema = json.loads(registered.schema_str)
            parsed, named = _avro_parsed(registry, registered)
        if self.wrap:
            row_type = SqlType(BaseType.STRUCT, fields=tuple((c.name, c.type) for c in self.columns))
            convert = _avro_writer(schema, row_type, named)
        else:
            single = self.columns[0]
            conv = _avro_writer(schema, single.type, named)
            convert = lambda row: conv(row.get(single.name))  # noqa: E731

        def write(row: dict[str, Any]) -> bytes:
            out = io.BytesIO()
            fastavro.schemaless_writer(out, parsed, convert(row))
            return out.getvalue()

        return write

    def reader(self, registry: SchemaRegistry, schema_id: int) -> Callable[[bytes], dict[str, Any]]:
        parsed, _ = _avro_parsed(registry, registry.schema(schema_id))
        read_row = self.read_row
        return lambda payload: read_row(fastavro.schemaless_reader(io.BytesIO(payload), parsed, None))


class JsonSchemaCodec(_Codec):
    schema_type = "JSON"

    def __init__(self, columns: tuple[Column, ...], wrap: bool) -> None:
        super().__init__(columns, wrap)
        from odradek.sql.compiler.serdes import JsonRowSerde

        self.json = JsonRowSerde(columns, wrap)

    def schema_text(self) -> str:
        return json_schema(self.columns, self.wrap)

    def writer(self, registry: SchemaRegistry, schema_id: int | None) -> Callable[[dict[str, Any]], bytes]:
        return self.json.to_bytes

    def reader(self, registry: SchemaRegistry, schema_id: int) -> Callable[[bytes], dict[str, Any]]:
        return self.json.from_bytes


# imports a registered schema may use without references (Confluent's known types), by file name
_KNOWN_FILES = {
    m.DESCRIPTOR.name: m.DESCRIPTOR
    for m in (timestamp_pb2, wrappers_pb2, descriptor_pb2, meta_pb2, decimal_pb2, date_pb2, timeofday_pb2)
}


def _add_known(pool: descriptor_pool.DescriptorPool, names: Any, added: set[str]) -> None:
    for name in names:
        known = _KNOWN_FILES.get(name)
        if known is None or name in added:
            continue
        added.add(name)
        _add_known(pool, [d.name for d in known.dependencies], added)
        pool.AddSerializedFile(known.serialized_pb)


class _ProtobufReader:
    def __init__(
        self,
        file: descriptor_pb2.FileDescriptorProto,
        references: Sequence[descriptor_pb2.FileDescriptorProto] = (),
    ) -> None:
        """`references`: the files `file` imports through schema references, each after its imports."""
        pool = descriptor_pool.DescriptorPool()
        added: set[str] = set()
        for referenced in references:
            _add_known(pool, referenced.dependency, added)
            if referenced.name not in added and referenced.name not in _KNOWN_FILES:
                added.add(referenced.name)
                pool.Add(referenced)
        _add_known(pool, file.dependency, added)
        missing = [d for d in file.dependency if d not in added]
        if missing:
            raise UnsupportedSchema(
                f"the Protobuf schema imports {', '.join(missing)} without a schema reference"
            )
        pool.Add(file)
        self.file = pool.FindFileByName(file.name)
        self.names = [m.name for m in file.message_type]
        self.descriptor = self.file.message_types_by_name[self.names[0]]

    def message(self, indexes: list[int]) -> Any:
        """The message class Confluent's message indexes name ([] = the first message)."""
        descriptor = self.file.message_types_by_name[self.names[indexes[0] if indexes else 0]]
        for i in indexes[1:]:
            descriptor = descriptor.nested_types[i]
        return message_factory.GetMessageClass(descriptor)


def _protobuf_reader(registry: SchemaRegistry, schema_id: int) -> _ProtobufReader:
    registered = registry.schema(schema_id, serialized=True)
    file = _proto_of(registered.schema_str, f"schema-{schema_id}.proto")
    references = [
        _proto_of(ref.schema_str, name, force_name=True)
        for name, ref in registry.referenced(registered, serialized=True)
    ]
    return _ProtobufReader(file, references)


def _proto_of(
    serialized: str | None, name: str, force_name: bool = False
) -> descriptor_pb2.FileDescriptorProto:
    """A registered Protobuf schema in the registry's `serialized` format (a base64 descriptor);
    `name` names it when it has no name (always, for a referenced file: its import path)."""
    file = descriptor_pb2.FileDescriptorProto()
    try:
        file.ParseFromString(base64.b64decode(serialized or "", validate=True))
    except Exception as exc:
        raise UnsupportedSchema(f"the registry did not return {name} as a serialized descriptor") from exc
    if force_name or not file.name:
        file.name = name
    return file


def _zigzag(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
    return (result >> 1) ^ -(result & 1), pos


def _message_indexes(data: bytes) -> tuple[list[int], int]:
    count, pos = _zigzag(data, 0)
    indexes = []
    for _ in range(count):
        i, pos = _zigzag(data, pos)
        indexes.append(i)
    return indexes, pos


def message_to_dict(message: Any) -> dict[str, Any]:
    """A Protobuf message as {field name: Python value} (proto3 scalars read as their defaults)."""
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        mtype = field.message_type
        if mtype is not None and mtype.GetOptions().map_entry:
            vfield = mtype.fields_by_name["value"]
            out[field.name] = {k: _single(vfield, v, True) for k, v in value.items()}
        elif field.is_repeated:
            out[field.name] = [_single(field, v, True) for v in value]
        elif mtype is not None and not message.HasField(field.name):
            out[field.name] = None
        else:
            out[field.name] = _single(field, value, True)
    return out


def _single(field: Any, value: Any, present: bool) -> Any:
    if field.enum_type is not None:
        enum = field.enum_type.values_by_number.get(value)
        return enum.name if enum is not None else str(value)
    mtype = field.message_type
    if mtype is None:
        return value
    full = mtype.full_name
    if full == "google.protobuf.Timestamp":
        return EPOCH + datetime.timedelta(seconds=value.seconds, microseconds=value.nanos // 1000)
    if full == "confluent.type.Decimal":
        unscaled = int.from_bytes(value.value, "big", signed=True) if value.value else 0
        return decimal.Decimal(unscaled).scaleb(-value.scale)
    if full == "google.type.Date":
        return datetime.date(value.year, value.month, value.day)
    if full == "google.type.TimeOfDay":
        return datetime.time(value.hours, value.minutes, value.seconds, value.nanos // 1000)
    if mtype.full_name.startswith("google.protobuf.") and mtype.full_name.endswith("Value"):
        return value.value
    return message_to_dict(value)


def _fill(message: Any, row: dict[str, Any]) -> None:
    upper = {k.upper(): v for k, v in row.items()}
    for field in message.DESCRIPTOR.fields:
        v = row.get(field.name, upper.get(field.name.upper()))
        if v is None:
            continue
        mtype = field.message_type
        target = getattr(message, field.name)
        if mtype is not None and mtype.GetOptions().map_entry:
            vfield = mtype.fields_by_name["value"]
            for k, x in v.items():
                if x is None:
                    continue
                if vfield.message_type is None:
                    target[k] = x
                else:
                    _set_message(target[k], vfield, x)
        elif field.is_repeated:
            for x in v:
                if mtype is None:
                    target.append(x)
                else:
                    _set_message(target.add(), field, x)
        elif mtype is None:
            setattr(message, field.name, v)
        else:
            _set_message(target, field, v)


def _set_message(target: Any, field: Any, v: Any) -> None:
    full = field.message_type.full_name
    if full == "google.protobuf.Timestamp":
        target.FromMilliseconds(_ms(v))
    elif full == "confluent.type.Decimal":
        # as Java's BigDecimal: the unscaled value in big-endian two's complement, its digits, its scale
        sign, digits, exponent = decimal.Decimal(v).as_tuple()
        assert isinstance(exponent, int), f"not a finite decimal: {v}"
        unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
        size = (unscaled if unscaled >= 0 else ~unscaled).bit_length() // 8 + 1
        target.value = unscaled.to_bytes(size, "big", signed=True)
        target.precision = len(digits)
        target.scale = -exponent
    elif full == "google.type.Date":
        target.year, target.month, target.day = v.year, v.month, v.day
    elif full == "google.type.TimeOfDay":
        target.hours, target.minutes, target.seconds = v.hour, v.minute, v.second
        target.nanos = v.microsecond * 1000
    elif full.startswith("google.protobuf.") and full.endswith("Value"):
        target.value = v
    else:
        _fill(target, v)


class ProtobufCodec(_Codec):
    schema_type = "PROTOBUF"

    def __init__(self, columns: tuple[Column, ...], wrap: bool) -> None:
        super().__init__(columns, True)  # Protobuf values are always messages
        self.file = proto_file(columns)

    def schema_text(self) -> str:
        return base64.standard_b64encode(self.file.SerializeToString()).decode()

    def writer(self, registry: SchemaRegistry, schema_id: int | None) -> Callable[[dict[str, Any]], bytes]:
        reader = _ProtobufReader(self.file) if schema_id is None else _protobuf_reader(registry, schema_id)
        cls = message_factory.GetMessageClass(reader.descriptor)

        def write(row: dict[str, Any]) -> bytes:
            message = cls()
            _fill(message, row)
            payload: bytes = message.SerializeToString()
            return b"\x00" + payload  # message indexes [0]

        return write

    def reader(self, registry: SchemaRegistry, schema_id: int) -> Callable[[bytes], dict[str, Any]]:
        protobuf = _protobuf_reader(registry, schema_id)
        read_row = self.read_row
        classes: dict[tuple[int, ...], Any] = {}

        def read(payload: bytes) -> dict[str, Any]:
            indexes, pos = _message_indexes(payload)
            cls = classes.get(tuple(indexes))
            if cls is None:
                cls = classes[tuple(indexes)] = protobuf.message(indexes)
            message = cls()
            message.ParseFromString(payload[pos:])
            return read_row(message_to_dict(message))

        return read


_CODECS: dict[str, type[_Codec]] = {"AVRO": AvroCodec, "JSON_SR": JsonSchemaCodec, "PROTOBUF": ProtobufCodec}


def codec(fmt: str, columns: tuple[Column, ...], wrap: bool) -> _Codec:
    try:
        return _CODECS[fmt](columns, wrap)
    except UnsupportedSchema as exc:
        raise SerializationError(str(exc)) from None


# -- serdes -------------------------------------------------------------------------------------------------


class RegistryRowSerde(Serde[dict[str, Any]]):
    """A row (dict) in a schema-registry format; the subject is `<topic>-key|value`."""

    def __init__(
        self,
        registry: SchemaRegistry,
        fmt: str,
        columns: tuple[Column, ...],
        wrap: bool,
        is_key: bool,
        schema_id: int | None = None,
    ) -> None:
        self.name = f"sql-{fmt.lower()}"
        self.registry = registry
        self.fmt = fmt
        self.codec = codec(fmt, columns, wrap)
        self.is_key = is_key
        self.schema_id = schema_id
        self._writers: dict[str, tuple[bytes, Callable[[dict[str, Any]], bytes]]] = {}
        self._readers: dict[int, Callable[[bytes], dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def subject(self, topic: str) -> str:
        return f"{topic or INTERNAL_SUBJECT_TOPIC}-{'key' if self.is_key else 'value'}"

    def register(self, topic: str) -> int:
        """The id the serde writes `topic`'s records with (registering our schema when no id is set)."""
        return _ID.unpack(self._writer(topic)[0][1:])[0]  # type: ignore[no-any-return]

    def _writer(self, topic: str) -> tuple[bytes, Callable[[dict[str, Any]], bytes]]:
        subject = self.subject(topic)
        found = self._writers.get(subject)
        if found is None:
            try:
                schema_id = self.schema_id
                if schema_id is None:
                    schema_id = self.registry.register(
                        subject, self.codec.schema_type, self.codec.schema_text()
                    )
                found = (b"\x00" + _ID.pack(schema_id), self.codec.writer(self.registry, self.schema_id))
            except SerializationError:
                raise
            except Exception as exc:
                raise SerializationError(
                    f"{self.fmt}: cannot register the schema of {subject}: {exc}"
                ) from exc
            with self._lock:
                self._writers[subject] = found
        return found

    def serialize(self, topic: str, obj: Any, headers: Headers | None = None) -> bytes | None:
        if obj is None:
            return None
        prefix, write = self._writer(topic)
        try:
            return prefix + write(obj)
        except Exception as exc:
            raise SerializationError(f"{self.fmt}: cannot serialize a row for {topic}: {exc}") from exc

    def deserialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> Any:
        if data is None:
            return None
        if len(data) < 5 or data[0] != 0:
            raise SerializationError(
                f"{self.fmt}: unknown magic byte (the record was not written with a schema registry serializer)"
            )
        schema_id = _ID.unpack_from(data, 1)[0]
        read = self._readers.get(schema_id)
        try:
            if read is None:
                read = self.codec.reader(self.registry, schema_id)
                with self._lock:
                    self._readers[schema_id] = read
            return read(data[5:])
        except SerializationError:
            raise
        except Exception as exc:
            raise SerializationError(
                f"{self.fmt}: cannot read a record (schema id {schema_id}): {exc}"
            ) from exc

    def to_bytes(self, obj: dict[str, Any]) -> bytes:
        data = self.serialize("", obj)
        assert data is not None
        return data

    def from_bytes(self, data: bytes) -> dict[str, Any]:
        return self.deserialize("", data)  # type: ignore[no-any-return]


class RegistryKeySerde(Serde[tuple[Any, ...]]):
    """A key tuple through a `RegistryRowSerde` of the key columns."""

    def __init__(self, row: RegistryRowSerde, names: list[str]) -> None:
        self.name = row.name + "-key"
        self.row = row
        self.names = names

    def serialize(self, topic: str, obj: Any, headers: Headers | None = None) -> bytes | None:
        if obj is None or all(v is None for v in obj):
            return None
        return self.row.serialize(topic, dict(zip(self.names, obj, strict=True)), headers)

    def deserialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> Any:
        if data is None:
            return None
        row = self.row.deserialize(topic, data, headers)
        return tuple(row.get(n) for n in self.names)

    def to_bytes(self, obj: tuple[Any, ...]) -> bytes:
        data = self.serialize("", obj)
        assert data is not None
        return data

    def from_bytes(self, data: bytes) -> tuple[Any, ...]:
        return self.deserialize("", data)  # type: ignore[no-any-return]
