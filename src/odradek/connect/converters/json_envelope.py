"""Connect schemas as JSON, the `schema` half of JsonConverter's envelope (Kafka's format):

    {"type": "struct", "fields": [{"type": "int32", "optional": false, "field": "id"}],
     "optional": false, "name": "com.example.User", "version": 1, "doc": "...",
     "parameters": {...}, "default": ...}

ARRAY carries `items`, MAP `keys` and `values`, STRUCT `fields` (each a schema plus `field`). Keys
are written in Kafka's order: type, its parts, optional, name, version, doc, parameters, default.
"""

from __future__ import annotations

from typing import Any

from odradek.connect.api.errors import DataException
from odradek.connect.data.schema import Schema, SchemaBuilder, Type


def schema_to_json(schema: Schema | None, value_to_json: Any = None) -> dict[str, Any] | None:
    if schema is None:
        return None
    out: dict[str, Any] = {"type": schema.type.value}
    if schema.type is Type.ARRAY:
        out["items"] = schema_to_json(schema.value_schema, value_to_json)
    elif schema.type is Type.MAP:
        out["keys"] = schema_to_json(schema.key_schema, value_to_json)
        out["values"] = schema_to_json(schema.value_schema, value_to_json)
    elif schema.type is Type.STRUCT:
        fields = []
        for f in schema.fields:
            entry = schema_to_json(f.schema, value_to_json)
            assert entry is not None
            entry["field"] = f.name
            fields.append(entry)
        out["fields"] = fields
    out["optional"] = schema.optional
    if schema.name is not None:
        out["name"] = schema.name
    if schema.version is not None:
        out["version"] = schema.version
    if schema.doc is not None:
        out["doc"] = schema.doc
    if schema.parameters:
        out["parameters"] = schema.params
    if schema.default is not None and value_to_json is not None:
        out["default"] = value_to_json(schema, schema.default)
    return out


def schema_from_json(node: Any, value_from_json: Any = None) -> Schema | None:
    if node is None:
        return None
    if not isinstance(node, dict):
        raise DataException("Schema must be a JSON object or null")
    type_name = node.get("type")
    try:
        type_ = Type(str(type_name))
    except ValueError as exc:
        raise DataException(f"Unknown schema type: {type_name}") from exc
    if type_ is Type.ARRAY:
        items = schema_from_json(node.get("items"), value_from_json)
        if items is None:
            raise DataException("Array schema did not specify the element type")
        builder = SchemaBuilder.array(items)
    elif type_ is Type.MAP:
        keys = schema_from_json(node.get("keys"), value_from_json)
        values = schema_from_json(node.get("values"), value_from_json)
        if keys is None or values is None:
            raise DataException("Map schema did not specify the key and value types")
        builder = SchemaBuilder.map(keys, values)
    elif type_ is Type.STRUCT:
        builder = SchemaBuilder.struct()
        fields = node.get("fields")
        if not isinstance(fields, list):
            raise DataException('Struct schema\'s "fields" argument is not an array.')
        for entry in fields:
            name = entry.get("field") if isinstance(entry, dict) else None
            if not isinstance(name, str):
                raise DataException("Struct schema's field name not specified properly")
            field_schema = schema_from_json(entry, value_from_json)
            assert field_schema is not None
            builder.field(name, field_schema)
    else:
        builder = SchemaBuilder(type_)
    optional = node.get("optional", True)
    if not isinstance(optional, bool):
        raise DataException('Invalid "optional" in schema: ' + repr(optional))
    if optional:
        builder.optional()
    if "name" in node:
        builder.name(node["name"])
    if "version" in node:
        if not isinstance(node["version"], int):
            raise DataException("Schema version must be an integer")
        builder.version(node["version"])
    if "doc" in node:
        builder.doc(node["doc"])
    params = node.get("parameters")
    if params is not None:
        if not isinstance(params, dict):
            raise DataException("Schema parameters must be a JSON object")
        builder.parameters({str(k): str(v) for k, v in params.items()})
    if node.get("default") is not None and value_from_json is not None:
        bare = builder.build()
        builder.default_value(value_from_json(bare, node["default"]))
    return builder.build()
