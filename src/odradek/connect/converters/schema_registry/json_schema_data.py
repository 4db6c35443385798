"""Connect schemas and values ↔ JSON Schema, as Confluent's `JsonSchemaData` maps them:

| Connect | JSON Schema |
|---|---|
| INT8..INT64 | `{"type": "integer", "connect.type": "int8"…"int64"}` |
| FLOAT32, FLOAT64 | `{"type": "number", "connect.type": "float32"/"float64"}` |
| BOOLEAN, STRING | `boolean`, `string` |
| BYTES | `{"type": "string", "connect.type": "bytes"}` (base64 text) |
| ARRAY | `{"type": "array", "items": …}` |
| MAP, STRING keys | `{"type": "object", "additionalProperties": …, "connect.type": "map"}` |
| MAP, other keys | `{"type": "array", "items": {"type": "object", "properties": {"key", "value"}}, "connect.type": "map"}` |
| STRUCT | `{"type": "object", "title": <name>, "properties": {… "connect.index": i}, "required": […]}` |
| optional | `{"oneOf": [{"type": "null"}, T]}` |
| Decimal, Date, Time, Timestamp | the base type with `"title": <logical name>`, `connect.version`, `connect.parameters` |

Decimal values travel as JSON numbers.
"""

from __future__ import annotations

import base64
import decimal
from typing import Any

from odradek.connect.api.errors import DataException
from odradek.connect.data import logical
from odradek.connect.data.schema import Schema, SchemaBuilder, Type
from odradek.connect.data.struct import Struct

_TYPES = {
    Type.INT8: "integer",
    Type.INT16: "integer",
    Type.INT32: "integer",
    Type.INT64: "integer",
    Type.FLOAT32: "number",
    Type.FLOAT64: "number",
    Type.BOOLEAN: "boolean",
    Type.STRING: "string",
    Type.BYTES: "string",
}


def to_json_schema(schema: Schema, top: bool = True) -> dict[str, Any]:
    node = _base(schema)
    if top:
        node["$schema"] = "http://json-schema.org/draft-07/schema#"
    if schema.optional and not top:
        return {"oneOf": [{"type": "null"}, node]}
    return node


def _base(schema: Schema) -> dict[str, Any]:
    t = schema.type
    node: dict[str, Any]
    if schema.name == logical.DECIMAL:
        node = {"type": "number"}
    elif t in _TYPES:
        node = {"type": _TYPES[t]}
        if t is not Type.BOOLEAN and t is not Type.STRING:
            node["connect.type"] = t.value
    elif t is Type.ARRAY:
        assert schema.value_schema is not None
        node = {"type": "array", "items": to_json_schema(schema.value_schema, top=False)}
    elif t is Type.MAP:
        assert schema.key_schema is not None and schema.value_schema is not None
        if schema.key_schema.type is Type.STRING:
            node = {
                "type": "object",
                "additionalProperties": to_json_schema(schema.value_schema, top=False),
                "connect.type": "map",
            }
        else:
            node = {
                "type": "array",
                "connect.type": "map",
                "items": {
                    "type": "object",
                    "properties": {
                        "key": to_json_schema(schema.key_schema, top=False),
                        "value": to_json_schema(schema.value_schema, top=False),
                    },
                },
            }
    else:
        node = {"type": "object", "properties": {}, "additionalProperties": False}
        required = []
        for f in schema.fields:
            prop = to_json_schema(f.schema, top=False)
            prop["connect.index"] = f.index
            node["properties"][f.name] = prop
            if not f.schema.optional:
                required.append(f.name)
        if required:
            node["required"] = required
    if schema.name is not None:
        node["title"] = schema.name
    if schema.version is not None:
        node["connect.version"] = schema.version
    if schema.doc is not None:
        node["description"] = schema.doc
    if schema.parameters:
        node["connect.parameters"] = schema.params
    return node


def from_json_schema(node: Any, optional: bool = False) -> Schema:
    if not isinstance(node, dict):
        raise DataException(f"Unsupported JSON schema: {node!r}")
    if "oneOf" in node or "anyOf" in node:
        union: list[Any] = node.get("oneOf") or node.get("anyOf") or []
        branches = [b for b in union if b.get("type") != "null"]
        if len(branches) != 1:
            raise DataException("Only unions of null and one type are supported")
        return from_json_schema(branches[0], optional=True)
    kind = node.get("type")
    connect_type = node.get("connect.type")
    title = node.get("title")
    builder: SchemaBuilder
    if title == logical.DECIMAL:
        builder = SchemaBuilder.bytes_()
    elif kind == "integer":
        builder = SchemaBuilder(
            Type(connect_type) if connect_type in ("int8", "int16", "int32", "int64") else Type.INT64
        )
    elif kind == "number":
        builder = SchemaBuilder(Type.FLOAT32 if connect_type == "float32" else Type.FLOAT64)
    elif kind == "boolean":
        builder = SchemaBuilder.boolean()
    elif kind == "string":
        builder = SchemaBuilder.bytes_() if connect_type == "bytes" else SchemaBuilder.string()
    elif kind == "array" and connect_type == "map":
        props = node["items"]["properties"]
        builder = SchemaBuilder.map(from_json_schema(props["key"]), from_json_schema(props["value"]))
    elif kind == "array":
        builder = SchemaBuilder.array(from_json_schema(node.get("items", {})))
    elif kind == "object" and connect_type == "map":
        builder = SchemaBuilder.map(
            SchemaBuilder.string().build(), from_json_schema(node["additionalProperties"])
        )
    elif kind == "object":
        builder = SchemaBuilder.struct()
        required = set(node.get("required", []))
        props = node.get("properties", {})
        for name, prop in sorted(props.items(), key=lambda item: item[1].get("connect.index", 0)):
            builder.field(name, from_json_schema(prop, optional=name not in required and "oneOf" not in prop))
    else:
        raise DataException(f"Unsupported JSON schema type: {kind!r}")
    if title is not None:
        builder.name(title)
    if "connect.version" in node:
        builder.version(int(node["connect.version"]))
    if "description" in node:
        builder.doc(node["description"])
    if isinstance(node.get("connect.parameters"), dict):
        builder.parameters({str(k): str(v) for k, v in node["connect.parameters"].items()})
    if optional:
        builder.optional()
    return builder.build()


def to_json_value(schema: Schema, value: Any) -> Any:
    if value is None:
        return None
    if schema.name == logical.DECIMAL:
        return float(value)
    if schema.name in logical.LOGICAL_NAMES:
        return logical.to_base(schema, value)
    t = schema.type
    if t is Type.BYTES:
        return base64.b64encode(bytes(value)).decode()
    if t is Type.STRUCT:
        if not isinstance(value, Struct):
            raise DataException(f"Expected a Struct, got {type(value).__name__}")
        return {
            f.name: to_json_value(f.schema, value.get(f.name))
            for f in schema.fields
            if value.get(f.name) is not None or not f.schema.optional
        }
    if t is Type.ARRAY:
        assert schema.value_schema is not None
        return [to_json_value(schema.value_schema, v) for v in value]
    if t is Type.MAP:
        assert schema.key_schema is not None and schema.value_schema is not None
        if schema.key_schema.type is Type.STRING:
            return {k: to_json_value(schema.value_schema, v) for k, v in value.items()}
        return [
            {"key": to_json_value(schema.key_schema, k), "value": to_json_value(schema.value_schema, v)}
            for k, v in value.items()
        ]
    return value


def from_json_value(schema: Schema, value: Any) -> Any:
    if value is None:
        return None
    if schema.name == logical.DECIMAL:
        scale = logical.decimal_scale(schema)
        return decimal.Decimal(str(value)).quantize(decimal.Decimal(1).scaleb(-scale))
    if schema.name in logical.LOGICAL_NAMES:
        return logical.from_base(schema, value)
    t = schema.type
    if t is Type.BYTES:
        return base64.b64decode(value)
    if t in (Type.FLOAT32, Type.FLOAT64):
        return float(value)
    if t is Type.STRUCT:
        struct = Struct(schema)
        for f in schema.fields:
            struct.put(f.name, from_json_value(f.schema, value.get(f.name)))
        return struct
    if t is Type.ARRAY:
        assert schema.value_schema is not None
        return [from_json_value(schema.value_schema, v) for v in value]
    if t is Type.MAP:
        assert schema.key_schema is not None and schema.value_schema is not None
        if isinstance(value, dict):
            return {k: from_json_value(schema.value_schema, v) for k, v in value.items()}
        return {
            from_json_value(schema.key_schema, e["key"]): from_json_value(schema.value_schema, e["value"])
            for e in value
        }
    return value
