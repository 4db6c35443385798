"""SQL columns <-> schema-registry schemas (Avro, Protobuf, JSON Schema), both ways, as ksqlDB does.

Writing (CREATE ... AS SELECT, INSERT, a declared source): the columns become the schema the query
registers — an Avro record `io.confluent.ksql.avro_schemas.KsqlDataSourceSchema` of optional fields,
a proto3 message `ConnectDefault1`, or a JSON Schema object whose properties are `oneOf` null or the
column's type (with Connect's `connect.type` hints so integers read back as INT or BIGINT).

Reading (schema inference for CREATE STREAM/TABLE without columns): a registered schema becomes
columns. Field names are upper-cased (ksqlDB matches names case-insensitively); a schema that is not
a record/message/object becomes one column, `ROWKEY` for a key or `ROWVAL` for a value.

| SQL          | Avro                               | Protobuf                  | JSON Schema                   |
|--------------|------------------------------------|---------------------------|-------------------------------|
| BOOLEAN      | boolean                            | bool                      | boolean                       |
| INT          | int                                | int32                     | integer (connect.type int32)  |
| BIGINT       | long                               | int64                     | integer (connect.type int64)  |
| DOUBLE       | double (float reads as DOUBLE)     | double (float reads)      | number                        |
| DECIMAL(p,s) | bytes, logicalType decimal         | confluent.type.Decimal (*)| number (connect.type bytes)   |
| STRING       | string (enum reads as STRING)      | string (enum reads)       | string                        |
| BYTES        | bytes (fixed reads as BYTES)       | bytes                     | string (connect.type bytes)   |
| DATE         | int, logicalType date              | google.type.Date          | integer (Connect Date)        |
| TIME         | int, logicalType time-millis       | google.type.TimeOfDay     | integer (Connect Time)        |
| TIMESTAMP    | long, logicalType timestamp-millis | google.protobuf.Timestamp | integer (Connect Timestamp)   |
| ARRAY<T>     | array                              | repeated                  | array                         |
| MAP<STRING,V>| map                                | map<string, V>            | object, additionalProperties  |
| STRUCT<...>  | record                             | nested message            | object, properties            |

(*) with the field option `(confluent.field_meta).params` {precision, scale}, as Confluent's
ProtobufConverter (which ksqlDB uses) writes and reads it; without it a decimal reads as DECIMAL(38, 0).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from confluent_kafka.schema_registry.confluent import meta_pb2
from google.protobuf import descriptor_pb2

from odradek.sql import types as t
from odradek.sql.schema import Column, Namespace
from odradek.sql.types import BaseType, SqlType

AVRO_NAMESPACE = "io.confluent.ksql.avro_schemas"
AVRO_RECORD = "KsqlDataSourceSchema"
PROTO_MESSAGE = "ConnectDefault1"
TIMESTAMP_PROTO = "google/protobuf/timestamp.proto"
DECIMAL_PROTO = "confluent/type/decimal.proto"
DATE_PROTO = "google/type/date.proto"
TIME_PROTO = "google/type/timeofday.proto"
META_PROTO = "confluent/meta.proto"
FIELD_META: Any = meta_pb2.field_meta  # type: ignore[attr-defined]  # (confluent.field_meta), no stub
# the well-known message types SQL's logical types become, and the files that define them
_PROTO_LOGICAL = {
    BaseType.TIMESTAMP: (".google.protobuf.Timestamp", (TIMESTAMP_PROTO,)),
    BaseType.DECIMAL: (".confluent.type.Decimal", (DECIMAL_PROTO, META_PROTO)),
    BaseType.DATE: (".google.type.Date", (DATE_PROTO,)),
    BaseType.TIME: (".google.type.TimeOfDay", (TIME_PROTO,)),
}

CONNECT_TIMESTAMP = "org.apache.kafka.connect.data.Timestamp"
CONNECT_DATE = "org.apache.kafka.connect.data.Date"
CONNECT_TIME = "org.apache.kafka.connect.data.Time"
CONNECT_DECIMAL = "org.apache.kafka.connect.data.Decimal"


class UnsupportedSchema(ValueError):
    """A schema (or a column type) the format cannot carry; the message names what."""


# -- SQL -> Avro -----------------------------------------------------------------------------------------


def avro_type(typ: SqlType, name: str) -> Any:
    """The Avro type of a SQL type (non-null); `name` names nested records."""
    b = typ.base
    simple = {
        BaseType.BOOLEAN: "boolean",
        BaseType.INTEGER: "int",
        BaseType.BIGINT: "long",
        BaseType.DOUBLE: "double",
        BaseType.STRING: "string",
        BaseType.BYTES: "bytes",
    }
    if b in simple:
        return simple[b]
    if b is BaseType.DECIMAL:
        return {"type": "bytes", "logicalType": "decimal", "precision": typ.precision, "scale": typ.scale}
    if b is BaseType.DATE:
        return {"type": "int", "logicalType": "date"}
    if b is BaseType.TIME:
        return {"type": "int", "logicalType": "time-millis"}
    if b is BaseType.TIMESTAMP:
        return {"type": "long", "logicalType": "timestamp-millis"}
    if b is BaseType.ARRAY:
        assert typ.element is not None
        return {"type": "array", "items": ["null", avro_type(typ.element, name)]}
    if b is BaseType.MAP:
        assert typ.element is not None
        if typ.key is not None and typ.key.base is not BaseType.STRING:
            raise UnsupportedSchema(f"Avro maps need STRING keys, not {typ.key}")
        return {"type": "map", "values": ["null", avro_type(typ.element, name)]}
    if b is BaseType.STRUCT:
        return _avro_record(name, [(n, ft) for n, ft in typ.fields])
    raise UnsupportedSchema(f"the AVRO format does not support {typ}")


def _avro_record(name: str, fields: list[tuple[str, SqlType]]) -> dict[str, Any]:
    return {
        "type": "record",
        "name": name,
        "fields": [
            {"name": n, "type": ["null", avro_type(ft, f"{name}_{n}")], "default": None} for n, ft in fields
        ],
    }


def avro_schema(columns: tuple[Column, ...], wrap: bool) -> str:
    """The Avro schema ksqlDB writes for these columns (`wrap=False`: the single column's type)."""
    if not wrap:
        (col,) = columns
        return json.dumps(avro_type(col.type, AVRO_RECORD))
    record = _avro_record(AVRO_RECORD, [(c.name, c.type) for c in columns])
    return json.dumps({**record, "namespace": AVRO_NAMESPACE})


# -- Avro -> SQL -------------------------------------------------------------------------------------------


def sql_type_of_avro(schema: Any, named: dict[str, Any] | None = None) -> SqlType:
    named = {} if named is None else named
    if isinstance(schema, list):
        branches = [s for s in schema if s != "null"]
        if len(branches) != 1:
            raise UnsupportedSchema(f"Avro unions other than [null, T] are not supported: {schema}")
        return sql_type_of_avro(branches[0], named)
    if isinstance(schema, str):
        if schema in named:
            return sql_type_of_avro(named[schema], named)
        simple = {
            "boolean": t.BOOLEAN,
            "int": t.INTEGER,
            "long": t.BIGINT,
            "float": t.DOUBLE,
            "double": t.DOUBLE,
            "string": t.STRING,
            "bytes": t.BYTES,
        }
        if schema not in simple:
            raise UnsupportedSchema(f"Avro type {schema!r} has no SQL type")
        return simple[schema]
    kind = schema.get("type")
    logical = schema.get("logicalType")
    if logical == "decimal":
        return t.decimal(int(schema.get("precision", 38)), int(schema.get("scale", 0)))
    if logical == "date":
        return t.DATE
    if logical in ("time-millis", "time-micros"):
        return t.TIME
    if logical in ("timestamp-millis", "timestamp-micros", "local-timestamp-millis"):
        return t.TIMESTAMP
    if kind == "record":
        named[schema["name"]] = schema
        if "namespace" in schema:
            named[f"{schema['namespace']}.{schema['name']}"] = schema
        return t.struct(
            [(f["name"].upper(), sql_type_of_avro(f["type"], named)) for f in schema.get("fields", [])]
        )
    if kind == "enum":
        named[schema["name"]] = schema
        return t.STRING
    if kind == "fixed":
        named[schema["name"]] = schema
        return t.BYTES
    if kind == "array":
        return t.array(sql_type_of_avro(schema["items"], named))
    if kind == "map":
        return t.map_of(t.STRING, sql_type_of_avro(schema["values"], named))
    return sql_type_of_avro(kind, named)


def avro_named(references: Sequence[str]) -> dict[str, Any]:
    """The named types the referenced Avro schemas define (texts in dependency order), by name and
    full name, as Confluent's references resolve them."""
    named: dict[str, Any] = {}
    for text in references:
        sql_type_of_avro(json.loads(text), named)
    return named


def columns_of_avro(schema_text: str, namespace: Namespace, references: Sequence[str] = ()) -> list[Column]:
    schema = json.loads(schema_text)
    typ = sql_type_of_avro(schema, avro_named(references))
    return _columns(typ, namespace)


def _columns(typ: SqlType, namespace: Namespace) -> list[Column]:
    if typ.base is BaseType.STRUCT:
        return [Column(n, ft, namespace) for n, ft in typ.fields]
    return [Column("ROWKEY" if namespace is Namespace.KEY else "ROWVAL", typ, namespace)]


# -- SQL -> JSON Schema ---------------------------------------------------------------------------------------


def json_type(typ: SqlType) -> dict[str, Any]:
    b = typ.base
    if b is BaseType.BOOLEAN:
        return {"type": "boolean"}
    if b is BaseType.INTEGER:
        return {"type": "integer", "connect.type": "int32"}
    if b is BaseType.BIGINT:
        return {"type": "integer", "connect.type": "int64"}
    if b is BaseType.DOUBLE:
        return {"type": "number", "connect.type": "float64"}
    if b is BaseType.DECIMAL:
        return {
            "type": "number",
            "title": CONNECT_DECIMAL,
            "connect.type": "bytes",
            "connect.parameters": {"scale": str(typ.scale), "connect.decimal.precision": str(typ.precision)},
        }
    if b is BaseType.STRING:
        return {"type": "string"}
    if b is BaseType.BYTES:
        return {"type": "string", "connect.type": "bytes"}
    if b is BaseType.DATE:
        return {"type": "integer", "title": CONNECT_DATE, "connect.type": "int32"}
    if b is BaseType.TIME:
        return {"type": "integer", "title": CONNECT_TIME, "connect.type": "int32"}
    if b is BaseType.TIMESTAMP:
        return {"type": "integer", "title": CONNECT_TIMESTAMP, "connect.type": "int64"}
    if b is BaseType.ARRAY:
        assert typ.element is not None
        return {"type": "array", "items": _nullable_json(typ.element)}
    if b is BaseType.MAP:
        assert typ.element is not None
        return {"type": "object", "additionalProperties": _nullable_json(typ.element), "connect.type": "map"}
    if b is BaseType.STRUCT:
        return _json_object([(n, ft) for n, ft in typ.fields])
    raise UnsupportedSchema(f"the JSON_SR format does not support {typ}")


def _nullable_json(typ: SqlType) -> dict[str, Any]:
    return {"oneOf": [{"type": "null"}, json_type(typ)]}


def _json_object(fields: list[tuple[str, SqlType]]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {n: {**_nullable_json(ft), "connect.index": i} for i, (n, ft) in enumerate(fields)},
    }


def json_schema(columns: tuple[Column, ...], wrap: bool) -> str:
    if not wrap:
        (col,) = columns
        return json.dumps(_nullable_json(col.type))
    return json.dumps(_json_object([(c.name, c.type) for c in columns]))


# -- JSON Schema -> SQL -------------------------------------------------------------------------------------


def sql_type_of_json(
    schema: dict[str, Any],
    root: dict[str, Any] | None = None,
    documents: dict[str, dict[str, Any]] | None = None,
) -> SqlType:
    """`documents`: the referenced schemas by reference name, for `$ref`s outside the schema."""
    root = schema if root is None else root
    documents = {} if documents is None else documents
    if "$ref" in schema:
        ref = str(schema["$ref"])
        document, _, pointer = ref.partition("#")
        if document:
            if document not in documents:
                raise UnsupportedSchema(f"JSON Schema reference {ref!r} names no schema reference")
            root = documents[document]
        target: Any = root
        for part in (p for p in pointer.split("/") if p):
            if not isinstance(target, dict) or part not in target:
                raise UnsupportedSchema(f"JSON Schema reference {ref!r} points at nothing")
            target = target[part]
        return sql_type_of_json(target, root, documents)
    for combiner in ("oneOf", "anyOf"):
        if combiner in schema:
            branches = [b for b in schema[combiner] if b.get("type") != "null"]
            if len(branches) != 1:
                raise UnsupportedSchema(f"JSON Schema {combiner} other than [null, T] is not supported")
            return sql_type_of_json(branches[0], root, documents)
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        if len(kinds) != 1:
            raise UnsupportedSchema(f"JSON Schema type lists other than [null, T] are not supported: {kind}")
        kind = kinds[0]
    title = schema.get("title")
    connect = schema.get("connect.type")
    if title == CONNECT_TIMESTAMP:
        return t.TIMESTAMP
    if title == CONNECT_DATE:
        return t.DATE
    if title == CONNECT_TIME:
        return t.TIME
    if title == CONNECT_DECIMAL:
        params = schema.get("connect.parameters", {})
        return t.decimal(int(params.get("connect.decimal.precision", 38)), int(params.get("scale", 0)))
    if kind == "boolean":
        return t.BOOLEAN
    if kind == "integer":
        return t.INTEGER if connect in ("int8", "int16", "int32") else t.BIGINT
    if kind == "number":
        return t.DOUBLE
    if kind == "string":
        return t.BYTES if connect == "bytes" else t.STRING
    if kind == "array":
        return t.array(sql_type_of_json(schema.get("items", {"type": "string"}), root, documents))
    if kind == "object" or "properties" in schema:
        props = schema.get("properties")
        if props:
            return t.struct([(n.upper(), sql_type_of_json(p, root, documents)) for n, p in props.items()])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            return t.map_of(t.STRING, sql_type_of_json(extra, root, documents))
        raise UnsupportedSchema("a JSON Schema object needs properties or additionalProperties")
    raise UnsupportedSchema(f"JSON Schema type {kind!r} has no SQL type")


def columns_of_json(
    schema_text: str, namespace: Namespace, references: Sequence[tuple[str, str]] = ()
) -> list[Column]:
    """`references`: (reference name, schema text) of the schemas a `$ref` may name."""
    documents: dict[str, dict[str, Any]] = {}
    for name, text in references:
        document = json.loads(text)
        documents[name] = document
        if isinstance(document, dict) and isinstance(document.get("$id"), str):
            documents.setdefault(document["$id"], document)
    return _columns(sql_type_of_json(json.loads(schema_text), None, documents), namespace)


# -- SQL -> Protobuf -----------------------------------------------------------------------------------------

_FD = descriptor_pb2.FieldDescriptorProto
_PROTO_SCALARS = {
    BaseType.BOOLEAN: _FD.TYPE_BOOL,
    BaseType.INTEGER: _FD.TYPE_INT32,
    BaseType.BIGINT: _FD.TYPE_INT64,
    BaseType.DOUBLE: _FD.TYPE_DOUBLE,
    BaseType.STRING: _FD.TYPE_STRING,
    BaseType.BYTES: _FD.TYPE_BYTES,
}


def proto_file(columns: tuple[Column, ...], name: str = "schema.proto") -> descriptor_pb2.FileDescriptorProto:
    """The proto3 file ksqlDB registers: one message `ConnectDefault1` (nested types inside it)."""
    file = descriptor_pb2.FileDescriptorProto(name=name, syntax="proto3")
    message = file.message_type.add(name=PROTO_MESSAGE)
    imports: set[str] = set()
    _proto_fields(message, f".{PROTO_MESSAGE}", [(c.name, c.type) for c in columns], imports)
    file.dependency.extend(sorted(imports))
    return file


def _proto_fields(
    message: descriptor_pb2.DescriptorProto,
    scope: str,
    fields: list[tuple[str, SqlType]],
    imports: set[str],
) -> None:
    for number, (fname, ftype) in enumerate(fields, start=1):
        field = message.field.add(name=fname, number=number, label=_FD.LABEL_OPTIONAL)
        typ = ftype
        if typ.base is BaseType.ARRAY:
            assert typ.element is not None
            field.label = _FD.LABEL_REPEATED
            typ = typ.element
            if typ.base in (BaseType.ARRAY, BaseType.MAP):
                raise UnsupportedSchema(f"the PROTOBUF format does not support {ftype} (nested repeated)")
        if typ.base is BaseType.MAP:
            assert typ.element is not None
            if typ.key is not None and typ.key.base is not BaseType.STRING:
                raise UnsupportedSchema(f"the PROTOBUF format supports MAP<STRING, ...> only, not {typ}")
            entry_name = f"{fname.title().replace('_', '')}Entry"
            entry = message.nested_type.add(name=entry_name)
            entry.options.map_entry = True
            _proto_fields(
                entry, f"{scope}.{entry_name}", [("key", t.STRING), ("value", typ.element)], imports
            )
            field.label = _FD.LABEL_REPEATED
            field.type = _FD.TYPE_MESSAGE
            field.type_name = f"{scope}.{entry_name}"
            continue
        if typ.base in _PROTO_SCALARS:
            field.type = _PROTO_SCALARS[typ.base]
        elif typ.base in _PROTO_LOGICAL:
            field.type = _FD.TYPE_MESSAGE
            field.type_name, files = _PROTO_LOGICAL[typ.base]
            imports.update(files)
            if typ.base is BaseType.DECIMAL:
                params = field.options.Extensions[FIELD_META].params
                params["precision"] = str(typ.precision)
                params["scale"] = str(typ.scale)
        elif typ.base is BaseType.STRUCT:
            nested_name = f"{fname}Struct" if fname[:1].isalpha() else f"F{fname}Struct"
            nested = message.nested_type.add(name=nested_name)
            _proto_fields(nested, f"{scope}.{nested_name}", list(typ.fields), imports)
            field.type = _FD.TYPE_MESSAGE
            field.type_name = f"{scope}.{nested_name}"
        else:
            raise UnsupportedSchema(f"the PROTOBUF format does not support {ftype} in odradek SQL")


# -- Protobuf -> SQL ---------------------------------------------------------------------------------------

_SQL_OF_PROTO = {
    "bool": t.BOOLEAN,
    "int32": t.INTEGER,
    "sint32": t.INTEGER,
    "sfixed32": t.INTEGER,
    "uint32": t.BIGINT,
    "fixed32": t.BIGINT,
    "int64": t.BIGINT,
    "sint64": t.BIGINT,
    "sfixed64": t.BIGINT,
    "uint64": t.BIGINT,
    "fixed64": t.BIGINT,
    "double": t.DOUBLE,
    "float": t.DOUBLE,
    "string": t.STRING,
    "bytes": t.BYTES,
}
_PROTO_TYPE_NAMES = {
    getattr(_FD, n): n[len("TYPE_") :].lower()
    for n in dir(_FD)
    if n.startswith("TYPE_") and n != "TYPE_GROUP"
}


def sql_type_of_message(descriptor: Any) -> SqlType:
    """A `google.protobuf.descriptor.Descriptor` as a STRUCT type (upper-cased field names)."""
    return t.struct([(f.name.upper(), _sql_type_of_field(f)) for f in descriptor.fields])


def _sql_type_of_field(field: Any) -> SqlType:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value = field.message_type.fields_by_name["value"]
        return t.map_of(t.STRING, _sql_type_of_single(value))
    single = _sql_type_of_single(field)
    return t.array(single) if _is_repeated(field) else single


def _is_repeated(field: Any) -> bool:
    return bool(field.is_repeated)


def _sql_type_of_single(field: Any) -> SqlType:
    if field.enum_type is not None:
        return t.STRING
    if field.message_type is not None:
        full = field.message_type.full_name
        if full == "google.protobuf.Timestamp":
            return t.TIMESTAMP
        if full == "google.type.Date":
            return t.DATE
        if full == "google.type.TimeOfDay":
            return t.TIME
        if full == "confluent.type.Decimal":
            return _proto_decimal_type(field)
        wrapped = _WRAPPERS.get(full)
        if wrapped is not None:
            return wrapped
        return sql_type_of_message(field.message_type)
    name = _PROTO_TYPE_NAMES.get(field.type)
    if name not in _SQL_OF_PROTO:
        raise UnsupportedSchema(f"Protobuf field {field.name} of type {name} has no SQL type")
    return _SQL_OF_PROTO[name]


def _proto_decimal_type(field: Any) -> SqlType:
    """DECIMAL(precision, scale) from the field's `(confluent.field_meta).params` (38, 0 without)."""
    options = descriptor_pb2.FieldOptions()
    options.ParseFromString(field.GetOptions().SerializeToString())
    params = options.Extensions[FIELD_META].params
    try:
        return t.decimal(int(params.get("precision", "38")), int(params.get("scale", "0")))
    except ValueError:
        return t.decimal(38, 0)


_WRAPPERS = {
    "google.protobuf.BoolValue": t.BOOLEAN,
    "google.protobuf.Int32Value": t.INTEGER,
    "google.protobuf.Int64Value": t.BIGINT,
    "google.protobuf.UInt32Value": t.BIGINT,
    "google.protobuf.UInt64Value": t.BIGINT,
    "google.protobuf.DoubleValue": t.DOUBLE,
    "google.protobuf.FloatValue": t.DOUBLE,
    "google.protobuf.StringValue": t.STRING,
    "google.protobuf.BytesValue": t.BYTES,
}


def columns_of_message(descriptor: Any, namespace: Namespace) -> list[Column]:
    return _columns(sql_type_of_message(descriptor), namespace)
