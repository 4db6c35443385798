"""Connect schemas ↔ Protobuf (proto3) descriptors, built at run time (no .proto files, no protoc),
and Connect values ↔ messages.

| Connect | Protobuf |
|---|---|
| STRUCT named `a.b.Name` | message `Name` in package `a.b` (unnamed: `ConnectDefault1`…); field numbers = position + 1 |
| INT8, INT16 | int32 with `(confluent.field_meta).params["connect.type"]` = `int8` / `int16` |
| INT32 / INT64 | int32 / int64 |
| FLOAT32 / FLOAT64, BOOLEAN, STRING, BYTES | float / double, bool, string, bytes |
| optional primitive | proto3 `optional` |
| ARRAY | `repeated` |
| MAP | `map<k, v>` (keys must be integers, strings or booleans) |
| Timestamp | `google.protobuf.Timestamp` |
| Date, Time | `google.type.Date`, `google.type.TimeOfDay` |
| Decimal | `confluent.type.Decimal` (field params `scale`, `precision` keep the schema's) |

That is Confluent's ProtobufConverter's mapping (`protobuf_types.py` builds the imported files),
so every Connect type round-trips, and a schema either converter registered reads in the other.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from odradek.connect.api.errors import DataException
from odradek.connect.converters.schema_registry import protobuf_types as types
from odradek.connect.data import logical
from odradek.connect.data.schema import Schema, SchemaBuilder, Type
from odradek.connect.data.struct import Struct

F = descriptor_pb2.FieldDescriptorProto
PRECISION = "connect.decimal.precision"
_MESSAGE_TYPES = {  # Connect logical type -> (message, the file that defines it)
    logical.TIMESTAMP: (".google.protobuf.Timestamp", types.TIMESTAMP_FILE),
    logical.DATE: (types.DATE, types.DATE_FILE),
    logical.TIME: (types.TIME, types.TIME_FILE),
    logical.DECIMAL: (types.DECIMAL, types.DECIMAL_FILE),
}
_SMALL_INTS = {Type.INT8: "int8", Type.INT16: "int16"}
_SCALARS = {
    Type.INT8: F.TYPE_INT32,
    Type.INT16: F.TYPE_INT32,
    Type.INT32: F.TYPE_INT32,
    Type.INT64: F.TYPE_INT64,
    Type.FLOAT32: F.TYPE_FLOAT,
    Type.FLOAT64: F.TYPE_DOUBLE,
    Type.BOOLEAN: F.TYPE_BOOL,
    Type.STRING: F.TYPE_STRING,
    Type.BYTES: F.TYPE_BYTES,
}


class _Builder:
    def __init__(self) -> None:
        self.defaults = 0
        self.dependencies: set[str] = set()

    def message(self, schema: Schema, out: descriptor_pb2.DescriptorProto, name: str) -> None:
        out.name = name
        for f in schema.fields:
            self.field(f.schema, f.name, f.index + 1, out)

    def field(self, schema: Schema, name: str, number: int, message: descriptor_pb2.DescriptorProto) -> None:
        field = message.field.add()
        field.name = name
        field.number = number
        field.label = F.LABEL_OPTIONAL
        if schema.type is Type.ARRAY:
            assert schema.value_schema is not None
            if schema.value_schema.type in (Type.ARRAY, Type.MAP):
                raise DataException("Protobuf cannot hold arrays of arrays or maps")
            self._type(schema.value_schema, field, message, f"{_camel(name)}Item")
            field.label = F.LABEL_REPEATED
            return
        if schema.type is Type.MAP:
            assert schema.key_schema is not None and schema.value_schema is not None
            entry = message.nested_type.add()
            entry.name = f"{_camel(name)}Entry"
            entry.options.map_entry = True
            self.field(schema.key_schema.as_required(), "key", 1, entry)
            self.field(schema.value_schema.as_required(), "value", 2, entry)
            field.type = F.TYPE_MESSAGE
            field.type_name = entry.name
            field.label = F.LABEL_REPEATED
            return
        self._type(schema, field, message, _camel(name))
        if schema.optional and field.type != F.TYPE_MESSAGE:
            field.proto3_optional = True
            oneof = message.oneof_decl.add()
            oneof.name = f"_{name}"
            field.oneof_index = len(message.oneof_decl) - 1

    def _type(
        self, schema: Schema, field: Any, message: descriptor_pb2.DescriptorProto, nested_name: str
    ) -> None:
        if schema.name in _MESSAGE_TYPES:
            field.type = F.TYPE_MESSAGE
            field.type_name, file = _MESSAGE_TYPES[schema.name]
            self.dependencies.add(file)
            if schema.name == logical.DECIMAL:
                params = {"scale": str(logical.decimal_scale(schema))}
                if schema.params.get(PRECISION):
                    params["precision"] = schema.params[PRECISION]
                self._meta(field, params)
        elif schema.type in _SCALARS:
            field.type = _SCALARS[schema.type]
            if schema.type in _SMALL_INTS:
                self._meta(field, {types.CONNECT_TYPE: _SMALL_INTS[schema.type]})
        elif schema.type is Type.STRUCT:
            nested = message.nested_type.add()
            self.message(schema, nested, schema.name.rpartition(".")[2] if schema.name else nested_name)
            field.type = F.TYPE_MESSAGE
            field.type_name = nested.name
        else:
            raise DataException(f"Protobuf cannot hold {schema.type.value} here")

    def _meta(self, field: Any, params: dict[str, str]) -> None:
        field.options.MergeFromString(types.meta_option(params))
        self.dependencies.add(types.META_FILE)


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_")) or "Field"


def build_message_class(schema: Schema) -> type[Message]:
    """A generated-at-run-time message class for a Connect STRUCT schema."""
    if schema.type is not Type.STRUCT:
        raise DataException("ProtobufConverter needs a struct schema")
    builder = _Builder()
    package, _, name = (schema.name or "ConnectDefault1").rpartition(".")
    file = descriptor_pb2.FileDescriptorProto(
        name=f"{schema.name or 'connect_default'}.proto", syntax="proto3"
    )
    if package:
        file.package = package
    builder.message(schema, file.message_type.add(), name)
    file.dependency.extend(sorted(builder.dependencies))
    pool = descriptor_pool.DescriptorPool()
    types.add_dependencies(pool, builder.dependencies)
    pool.Add(file)
    full = f"{package}.{name}" if package else name
    cls: type[Message] = message_factory.GetMessageClass(pool.FindMessageTypeByName(full))
    return cls


def schema_of(descriptor: Descriptor, optional: bool = False) -> Schema:
    builder = SchemaBuilder.struct().name(descriptor.full_name)
    for field in descriptor.fields:
        builder.field(field.name, _field_schema(field))
    if optional:
        builder.optional()
    return builder.build()


def _field_schema(field: FieldDescriptor) -> Schema:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        return SchemaBuilder.map(_single(key, False), _single(value, False)).optional().build()
    if field.is_repeated:
        return SchemaBuilder.array(_single(field, False)).optional().build()
    optional = field.has_presence
    return _single(field, optional)


def _single(field: FieldDescriptor, optional: bool) -> Schema:
    params = types.meta_params(field.GetOptions().SerializeToString()) if field.has_options else {}
    if field.message_type is not None:
        name = field.message_type.full_name
        if name == "google.protobuf.Timestamp":
            return logical.timestamp_schema(True)
        if name == "google.type.Date":
            return logical.date_schema(True)
        if name == "google.type.TimeOfDay":
            return logical.time_schema(True)
        if name == "confluent.type.Decimal":
            builder = SchemaBuilder.bytes_().name(logical.DECIMAL).version(1).optional()
            builder.parameter(logical.SCALE, params.get("scale", "0"))
            if params.get("precision"):
                builder.parameter(PRECISION, params["precision"])
            return builder.build()
        return schema_of(field.message_type, optional=True)
    small = {"int8": Type.INT8, "int16": Type.INT16}.get(params.get(types.CONNECT_TYPE, ""))
    if small is not None and field.type == FieldDescriptor.TYPE_INT32:
        builder = SchemaBuilder(small)
        return (builder.optional() if optional else builder).build()
    type_ = {
        FieldDescriptor.TYPE_INT32: Type.INT32,
        FieldDescriptor.TYPE_SINT32: Type.INT32,
        FieldDescriptor.TYPE_SFIXED32: Type.INT32,
        FieldDescriptor.TYPE_UINT32: Type.INT64,
        FieldDescriptor.TYPE_INT64: Type.INT64,
        FieldDescriptor.TYPE_SINT64: Type.INT64,
        FieldDescriptor.TYPE_SFIXED64: Type.INT64,
        FieldDescriptor.TYPE_UINT64: Type.INT64,
        FieldDescriptor.TYPE_FIXED32: Type.INT64,
        FieldDescriptor.TYPE_FIXED64: Type.INT64,
        FieldDescriptor.TYPE_FLOAT: Type.FLOAT32,
        FieldDescriptor.TYPE_DOUBLE: Type.FLOAT64,
        FieldDescriptor.TYPE_BOOL: Type.BOOLEAN,
        FieldDescriptor.TYPE_STRING: Type.STRING,
        FieldDescriptor.TYPE_BYTES: Type.BYTES,
        FieldDescriptor.TYPE_ENUM: Type.STRING,
    }[field.type]
    builder = SchemaBuilder(type_)
    return (builder.optional() if optional else builder).build()


def _is_message(schema: Schema) -> bool:
    return schema.type is Type.STRUCT or schema.name in _MESSAGE_TYPES


def _set(target: Any, schema: Schema, value: Any) -> None:
    """Fill a message-typed field: a struct or one of the logical types' messages."""
    name = schema.name
    if name == logical.TIMESTAMP:
        target.FromMilliseconds(logical.timestamp_to_millis(value))
    elif name == logical.DATE:
        day = value.date() if isinstance(value, dt.datetime) else value
        target.year, target.month, target.day = day.year, day.month, day.day
    elif name == logical.TIME:
        target.hours, target.minutes, target.seconds = value.hour, value.minute, value.second
        target.nanos = value.microsecond * 1000
    elif name == logical.DECIMAL:
        if not isinstance(value, decimal.Decimal):
            raise DataException(f"Invalid type for Decimal: {type(value).__name__}")
        target.value = logical.decimal_to_bytes(schema, value)
        target.scale = logical.decimal_scale(schema)
        precision = schema.params.get(PRECISION)
        target.precision = int(precision) if precision else len(value.as_tuple().digits)
    else:
        fill(target, schema, value)


def _get(message: Any, schema: Schema) -> Any:
    name = schema.name
    if name == logical.TIMESTAMP:
        return logical.millis_to_timestamp(message.ToMilliseconds())
    if name == logical.DATE:
        return dt.date(message.year, message.month, message.day)
    if name == logical.TIME:
        return dt.time(message.hours, message.minutes, message.seconds, message.nanos // 1000)
    if name == logical.DECIMAL:
        return decimal.Decimal(int.from_bytes(message.value, "big", signed=True)).scaleb(-message.scale)
    return read(message, schema)


def fill(message: Message, schema: Schema, value: Struct) -> Message:
    for f in schema.fields:
        item = value.get(f.name)
        if item is None:
            continue
        target = getattr(message, f.name)
        s = f.schema
        if s.type is Type.ARRAY:
            assert s.value_schema is not None
            if _is_message(s.value_schema):
                for element in item:
                    _set(target.add(), s.value_schema, element)
            else:
                target.extend(_scalar(s.value_schema, e) for e in item)
        elif s.type is Type.MAP:
            assert s.value_schema is not None
            for k, v in item.items():
                if _is_message(s.value_schema):
                    _set(target[k], s.value_schema, v)
                else:
                    target[k] = _scalar(s.value_schema, v)
        elif _is_message(s):
            _set(target, s, item)
        else:
            setattr(message, f.name, _scalar(s, item))
    return message


def _scalar(schema: Schema, value: Any) -> Any:
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


def read(message: Message, schema: Schema) -> Struct:
    out = Struct(schema)
    descriptor = message.DESCRIPTOR
    for f in schema.fields:
        field = descriptor.fields_by_name.get(f.name)
        if field is None:
            continue
        s = f.schema
        raw = getattr(message, f.name)
        if s.type is Type.ARRAY:
            assert s.value_schema is not None
            item_schema = s.value_schema
            out.put(
                f.name,
                [_get(e, item_schema) if _is_message(item_schema) else _back(item_schema, e) for e in raw],
            )
        elif s.type is Type.MAP:
            assert s.value_schema is not None
            value_schema = s.value_schema
            out.put(
                f.name,
                {
                    k: _get(v, value_schema) if _is_message(value_schema) else _back(value_schema, v)
                    for k, v in raw.items()
                },
            )
        elif field.message_type is not None:
            if not message.HasField(f.name):
                continue
            out.put(f.name, _get(raw, s))
        elif field.has_presence and not message.HasField(f.name):
            continue
        else:
            out.put(f.name, _back(s, raw))
    return out


def _back(schema: Schema, value: Any) -> Any:
    if schema.type in (Type.FLOAT32, Type.FLOAT64):
        return float(value)
    return value
