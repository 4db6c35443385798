"""Connect schemas and values ↔ Avro, as Confluent's `AvroData` maps them, so records written here
read back in Confluent's AvroConverter and the other way round.

| Connect | Avro |
|---|---|
| INT8, INT16 | `int` with `"connect.type": "int8"`/`"int16"` |
| INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES | int, long, float, double, boolean, string, bytes |
| ARRAY | array |
| MAP with STRING keys | map |
| MAP with other keys | array of records `io.confluent.connect.avro.MapEntry {key, value}` |
| STRUCT | record, named by the schema name (else `io.confluent.connect.avro.ConnectDefault`) |
| optional | union `["null", T]` with default null |
| Decimal(scale) | bytes, `logicalType: decimal`, precision (`connect.decimal.precision`, default 64) and scale |
| Date, Time, Timestamp | int `date`, int `time-millis`, long `timestamp-millis` |

Names, versions, docs and parameters travel as `connect.name`, `connect.version`, `connect.doc`,
`connect.parameters`. fastavro turns the logical types into the Python values Connect uses
(Decimal, date, time, datetime), both ways.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from typing import Any

from odradek.connect.api.errors import DataException
from odradek.connect.data import logical
from odradek.connect.data.schema import Schema, SchemaBuilder, Type
from odradek.connect.data.struct import Struct

NAMESPACE = "io.confluent.connect.avro"
DEFAULT_RECORD = "ConnectDefault"
_PRIMITIVE = {
    Type.INT32: "int",
    Type.INT64: "long",
    Type.FLOAT32: "float",
    Type.FLOAT64: "double",
    Type.BOOLEAN: "boolean",
    Type.STRING: "string",
    Type.BYTES: "bytes",
}


class _Names:
    def __init__(self) -> None:
        self.count = 0
        self.defined: set[str] = set()

    def next_default(self) -> str:
        self.count += 1
        return DEFAULT_RECORD if self.count == 1 else f"{DEFAULT_RECORD}{self.count}"


def to_avro_schema(schema: Schema) -> Any:
    return _to_avro(schema, _Names())


def _split(full: str) -> tuple[str | None, str]:
    namespace, _, name = full.rpartition(".")
    return (namespace or None), name


def _to_avro(schema: Schema, names: _Names) -> Any:
    base = _base(schema, names)
    if schema.optional:
        return ["null", base]
    return base


def _meta(schema: Schema, out: dict[str, Any]) -> dict[str, Any]:
    if schema.name is not None:
        out["connect.name"] = schema.name
    if schema.version is not None:
        out["connect.version"] = schema.version
    if schema.doc is not None:
        out["connect.doc"] = schema.doc
    if schema.parameters:
        out["connect.parameters"] = schema.params
    return out


def _base(schema: Schema, names: _Names) -> Any:
    if schema.name == logical.DECIMAL:
        precision = int(schema.params.get("connect.decimal.precision", "64"))
        return _meta(
            schema,
            {
                "type": "bytes",
                "logicalType": "decimal",
                "precision": precision,
                "scale": logical.decimal_scale(schema),
            },
        )
    if schema.name == logical.DATE:
        return _meta(schema, {"type": "int", "logicalType": "date"})
    if schema.name == logical.TIME:
        return _meta(schema, {"type": "int", "logicalType": "time-millis"})
    if schema.name == logical.TIMESTAMP:
        return _meta(schema, {"type": "long", "logicalType": "timestamp-millis"})
    t = schema.type
    if t in (Type.INT8, Type.INT16):
        return _meta(schema, {"type": "int", "connect.type": t.value})
    if t in _PRIMITIVE:
        if schema.name or schema.version or schema.doc or schema.parameters:
            return _meta(schema, {"type": _PRIMITIVE[t]})
        return _PRIMITIVE[t]
    if t is Type.ARRAY:
        assert schema.value_schema is not None
        return _meta(schema, {"type": "array", "items": _to_avro(schema.value_schema, names)})
    if t is Type.MAP:
        assert schema.key_schema is not None and schema.value_schema is not None
        if schema.key_schema.type is Type.STRING and not schema.key_schema.optional:
            return _meta(schema, {"type": "map", "values": _to_avro(schema.value_schema, names)})
        entry = {
            "type": "record",
            "name": "MapEntry" if "MapEntry" not in names.defined else f"MapEntry{len(names.defined)}",
            "namespace": NAMESPACE,
            "fields": [
                {"name": "key", "type": _to_avro(schema.key_schema, names)},
                {"name": "value", "type": _to_avro(schema.value_schema, names)},
            ],
        }
        names.defined.add(str(entry["name"]))
        return _meta(schema, {"type": "array", "items": entry})
    full = schema.name or f"{NAMESPACE}.{names.next_default()}"
    namespace, name = _split(full)
    fields = []
    for f in schema.fields:
        field: dict[str, Any] = {"name": f.name, "type": _to_avro(f.schema, names)}
        if f.schema.optional:
            field["default"] = None
        elif f.schema.default is not None:
            field["default"] = _default_json(f.schema, f.schema.default)
        fields.append(field)
    record: dict[str, Any] = {"type": "record", "name": name, "fields": fields}
    if namespace:
        record["namespace"] = namespace
    if schema.doc:
        record["doc"] = schema.doc
    return _meta(schema, record) if schema.name else record


def _default_json(schema: Schema, value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if schema.name in logical.LOGICAL_NAMES:
        base = logical.to_base(schema, value)
        return base.decode("latin-1") if isinstance(base, bytes) else base
    return value


# -- Avro -> Connect ---------------------------------------------------------------------------


def from_avro_schema(avro: Any) -> Schema:
    if isinstance(avro, str):
        with contextlib.suppress(ValueError):
            avro = json.loads(avro)
    return _from_avro(avro, optional=False)


def _from_avro(node: Any, optional: bool) -> Schema:
    if isinstance(node, list):
        branches = [b for b in node if b != "null"]
        if len(branches) != 1:
            raise DataException(
                'Avro unions other than ["null", T] are not supported by Connect\'s data model'
            )
        return _from_avro(branches[0], optional=True)
    if isinstance(node, str):
        node = {"type": node}
    if not isinstance(node, dict):
        raise DataException(f"Unsupported Avro schema: {node!r}")
    kind = node.get("type")
    if isinstance(kind, dict | list):
        return _from_avro(kind, optional)
    logical_type = node.get("logicalType")
    builder: SchemaBuilder
    if logical_type == "decimal":
        builder = (
            SchemaBuilder.bytes_()
            .name(logical.DECIMAL)
            .version(1)
            .parameter("scale", str(node.get("scale", 0)))
        )
        if "precision" in node and int(node["precision"]) != 64:
            builder.parameter("connect.decimal.precision", str(node["precision"]))
    elif logical_type == "date":
        builder = SchemaBuilder.int32().name(logical.DATE).version(1)
    elif logical_type in ("time-millis",):
        builder = SchemaBuilder.int32().name(logical.TIME).version(1)
    elif logical_type in ("timestamp-millis",):
        builder = SchemaBuilder.int64().name(logical.TIMESTAMP).version(1)
    elif kind == "int":
        builder = SchemaBuilder(
            {"int8": Type.INT8, "int16": Type.INT16}.get(node.get("connect.type", ""), Type.INT32)
        )
    elif kind in ("long", "float", "double", "boolean", "string", "bytes"):
        builder = SchemaBuilder(
            {
                "long": Type.INT64,
                "float": Type.FLOAT32,
                "double": Type.FLOAT64,
                "boolean": Type.BOOLEAN,
                "string": Type.STRING,
                "bytes": Type.BYTES,
            }[kind]
        )
    elif kind == "enum":
        builder = SchemaBuilder.string()
    elif kind == "fixed":
        builder = SchemaBuilder.bytes_()
    elif kind == "array":
        items = node.get("items")
        if (
            isinstance(items, dict)
            and items.get("type") == "record"
            and str(items.get("name", "")).startswith("MapEntry")
        ):
            fields = {f["name"]: f["type"] for f in items["fields"]}
            builder = SchemaBuilder.map(_from_avro(fields["key"], False), _from_avro(fields["value"], False))
        else:
            builder = SchemaBuilder.array(_from_avro(items, False))
    elif kind == "map":
        builder = SchemaBuilder.map(SchemaBuilder.string().build(), _from_avro(node.get("values"), False))
    elif kind == "record":
        builder = SchemaBuilder.struct()
        for field in node.get("fields", []):
            builder.field(field["name"], _from_avro(field["type"], False))
        name = node.get("name", "")
        namespace = node.get("namespace")
        full = f"{namespace}.{name}" if namespace and "." not in name else name
        if not full.startswith(f"{NAMESPACE}.{DEFAULT_RECORD}"):
            builder.name(full)
    else:
        raise DataException(f"Unsupported Avro type: {kind!r}")
    if "connect.name" in node and logical_type is None:
        builder.name(node["connect.name"])
    if "connect.version" in node:
        builder.version(int(node["connect.version"]))
    if "connect.doc" in node:
        builder.doc(node["connect.doc"])
    if isinstance(node.get("connect.parameters"), dict):
        builder.parameters({str(k): str(v) for k, v in node["connect.parameters"].items()})
    if optional:
        builder.optional()
    return builder.build()


# -- values -------------------------------------------------------------------------------------


def to_avro_value(schema: Schema, value: Any) -> Any:
    if value is None:
        return None
    if schema.name in logical.LOGICAL_NAMES:
        if schema.name == logical.TIMESTAMP and isinstance(value, dt.datetime) and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value
    t = schema.type
    if t is Type.STRUCT:
        if not isinstance(value, Struct):
            raise DataException(f"Expected a Struct for {schema!r}, got {type(value).__name__}")
        return {f.name: to_avro_value(f.schema, value.get(f.name)) for f in schema.fields}
    if t is Type.ARRAY:
        assert schema.value_schema is not None
        return [to_avro_value(schema.value_schema, v) for v in value]
    if t is Type.MAP:
        assert schema.key_schema is not None and schema.value_schema is not None
        if schema.key_schema.type is Type.STRING and not schema.key_schema.optional:
            return {k: to_avro_value(schema.value_schema, v) for k, v in value.items()}
        return [
            {"key": to_avro_value(schema.key_schema, k), "value": to_avro_value(schema.value_schema, v)}
            for k, v in value.items()
        ]
    if t is Type.BYTES and isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


def from_avro_value(schema: Schema, value: Any) -> Any:
    if value is None:
        return None
    if schema.name in logical.LOGICAL_NAMES:
        if schema.name == logical.TIMESTAMP and isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC)
        return value
    t = schema.type
    if t is Type.STRUCT:
        struct = Struct(schema)
        for f in schema.fields:
            struct.put(f.name, from_avro_value(f.schema, value.get(f.name)))
        return struct
    if t is Type.ARRAY:
        assert schema.value_schema is not None
        return [from_avro_value(schema.value_schema, v) for v in value]
    if t is Type.MAP:
        assert schema.key_schema is not None and schema.value_schema is not None
        if isinstance(value, dict):
            return {k: from_avro_value(schema.value_schema, v) for k, v in value.items()}
        return {
            from_avro_value(schema.key_schema, e["key"]): from_avro_value(schema.value_schema, e["value"])
            for e in value
        }
    if t in (Type.FLOAT32, Type.FLOAT64) and isinstance(value, int):
        return float(value)
    return value
