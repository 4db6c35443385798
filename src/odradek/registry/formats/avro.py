"""Avro schemas: parsed and validated with fastavro, plus the checks fastavro leaves out.

Validation is Avro's specification as Confluent applies it (Avro Java with default validation):
fastavro checks types, names resolution, defaults against their type, enum symbols; this module adds
what it accepts but Avro Java refuses: invalid names, duplicate field names, a union default that
does not match the union's *first* branch, nested unions and duplicate branches.

References: each reference's schema is parsed first into the same table of named types, so the new
schema may use their full names (Confluent's Avro references). The parsed form handed to the
compatibility check is `AvroForm`: the fastavro-parsed schema (full names everywhere) and the table
of every named type it can reach.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastavro.schema import parse_schema

from odradek.registry.formats.base import ParsedSchema, SchemaParseError
from odradek.registry.model import SchemaType

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED = frozenset({"record", "error", "enum", "fixed"})
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_KEY_ORDER = (
    "type",
    "name",
    "namespace",
    "doc",
    "aliases",
    "fields",
    "symbols",
    "items",
    "values",
    "size",
    "default",
)


@dataclass(frozen=True, slots=True)
class AvroForm:
    schema: Any
    names: dict[str, Any]


def parse(text: str, references: Sequence[tuple[str, str]] = ()) -> ParsedSchema:
    """``references``: (name, schema text) of each reference, dependencies first."""
    names: dict[str, Any] = {}
    for _name, ref_text in references:
        _parse_one(ref_text, names)
    raw, parsed = _parse_one(text, names)
    return ParsedSchema(
        SchemaType.AVRO,
        canonical=json.dumps(raw, separators=(",", ":")),
        normalized=json.dumps(normalize(parsed), separators=(",", ":")),
        form=AvroForm(_strip(parsed), {k: _strip(v) for k, v in names.items()}),
        dependencies={},
    )


def _parse_one(text: str, names: dict[str, Any]) -> tuple[Any, Any]:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise SchemaParseError(f"not JSON: {exc}") from exc
    if isinstance(raw, str) and raw not in PRIMITIVES and raw not in names:
        raise SchemaParseError(f"unknown type {raw!r}")
    try:
        parsed = parse_schema(raw, named_schemas=names)
    except Exception as exc:  # fastavro raises several exception types for bad schemas
        raise SchemaParseError(str(exc) or type(exc).__name__) from exc
    _validate(raw, "")
    return raw, parsed


def _validate(schema: Any, path: str) -> None:
    if isinstance(schema, list):
        seen: set[str] = set()
        for i, branch in enumerate(schema):
            if isinstance(branch, list):
                raise SchemaParseError(f"{path}/{i}: unions may not immediately contain other unions")
            key = _branch_key(branch)
            if key in seen:
                raise SchemaParseError(f"{path}/{i}: duplicate {key!r} in union")
            seen.add(key)
            _validate(branch, f"{path}/{i}")
        return
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    if kind in NAMED:
        for name in str(schema.get("name", "")).split("."):
            if not _NAME.match(name):
                raise SchemaParseError(f"{path or '/'}: invalid name {schema.get('name')!r}")
    if kind in ("record", "error"):
        fields = schema.get("fields", [])
        names = set()
        for i, field in enumerate(fields):
            name = field.get("name")
            if not isinstance(name, str) or not _NAME.match(name):
                raise SchemaParseError(f"{path}/fields/{i}: invalid field name {name!r}")
            if name in names:
                raise SchemaParseError(f"{path}/fields/{i}: duplicate field name {name!r}")
            names.add(name)
            field_type = field.get("type")
            if "default" in field and isinstance(field_type, list) and field_type:
                _check_union_default(field_type[0], field["default"], f"{path}/fields/{i}")
            _validate(field_type, f"{path}/fields/{i}/type")
    elif kind == "array":
        _validate(schema.get("items"), f"{path}/items")
    elif kind == "map":
        _validate(schema.get("values"), f"{path}/values")
    elif isinstance(kind, (dict, list)):
        _validate(kind, f"{path}/type")


def _branch_key(branch: Any) -> str:
    if isinstance(branch, dict):
        kind = branch.get("type")
        if kind in NAMED:
            return str(branch.get("name"))
        return str(kind) if not isinstance(kind, (dict, list)) else json.dumps(kind)
    return str(branch)


def _check_union_default(first: Any, default: Any, path: str) -> None:
    kind = first.get("type") if isinstance(first, dict) else first
    ok = {
        "null": default is None,
        "boolean": isinstance(default, bool),
        "int": isinstance(default, int) and not isinstance(default, bool),
        "long": isinstance(default, int) and not isinstance(default, bool),
        "float": isinstance(default, (int, float)) and not isinstance(default, bool),
        "double": isinstance(default, (int, float)) and not isinstance(default, bool),
        "bytes": isinstance(default, str),
        "string": isinstance(default, str),
        "fixed": isinstance(default, str),
        "enum": isinstance(default, str),
        "array": isinstance(default, list),
        "map": isinstance(default, dict),
        "record": isinstance(default, dict),
    }.get(str(kind), True)  # a named type by reference: fastavro checked it
    if not ok:
        raise SchemaParseError(
            f"{path}: the default {json.dumps(default)} does not match the union's first branch {kind!r}"
        )


def _strip(schema: Any) -> Any:
    """fastavro's parsed schema without its private bookkeeping keys."""
    if isinstance(schema, dict):
        return {k: _strip(v) for k, v in schema.items() if not k.startswith("__")}
    if isinstance(schema, list):
        return [_strip(v) for v in schema]
    return schema


def normalize(schema: Any) -> Any:
    """One spelling per schema: full names, ``{"type": "int"}`` → ``"int"``, keys in one order."""
    if isinstance(schema, list):
        return [normalize(branch) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    schema = {k: v for k, v in schema.items() if not k.startswith("__")}
    if set(schema) == {"type"} and schema["type"] in PRIMITIVES:
        return schema["type"]
    out: dict[str, Any] = {}
    for key in (*_KEY_ORDER, *sorted(set(schema) - set(_KEY_ORDER))):
        if key not in schema:
            continue
        value = schema[key]
        if key == "fields":
            value = [normalize_field(f) for f in value]
        elif key in ("type", "items", "values"):
            value = normalize(value)
        out[key] = value
    return out


def normalize_field(field: dict[str, Any]) -> dict[str, Any]:
    order = ("name", "type", "doc", "default", "aliases", "order")
    return {
        key: normalize(field[key]) if key == "type" else field[key]
        for key in (*order, *sorted(set(field) - set(order)))
        if key in field and not key.startswith("__")
    }
