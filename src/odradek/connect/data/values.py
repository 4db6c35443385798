"""Connect's `Values`: values as strings and strings as typed values (SimpleHeaderConverter).

`convert_to_string(schema, value)` writes what Kafka's `Values.convertToString` writes: primitives
as text, bytes as base64, Date `yyyy-MM-dd`, Time `HH:mm:ss.SSS'Z'`, Timestamp
`yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`, Decimal in plain notation, arrays `[a,b]`, maps and structs
`{"k":v}` with strings quoted. `parse_string(text)` infers the narrowest schema back: booleans,
INT8..INT64 by magnitude, FLOAT32/FLOAT64, arrays and maps (JSON syntax), the three temporal
forms, else STRING.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import re
from typing import Any

from odradek.connect.data import logical
from odradek.connect.data.schema import (
    BOOLEAN_SCHEMA,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    INTEGER_RANGES,
    STRING_SCHEMA,
    Schema,
    SchemaBuilder,
    Type,
)
from odradek.connect.data.schema_and_value import SchemaAndValue
from odradek.connect.data.struct import Struct

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def convert_to_string(schema: Schema | None, value: Any) -> str | None:
    if value is None:
        return None
    parts: list[str] = []
    _append(parts, schema, value, embedded=False)
    return "".join(parts)


def _append(parts: list[str], schema: Schema | None, value: Any, embedded: bool) -> None:
    if value is None:
        parts.append("null")
    elif isinstance(value, str):
        parts.append(json.dumps(value) if embedded else value)
    elif isinstance(value, bool):
        parts.append("true" if value else "false")
    elif isinstance(value, bytes | bytearray | memoryview):
        encoded = base64.b64encode(bytes(value)).decode()
        parts.append(json.dumps(encoded) if embedded else encoded)
    elif isinstance(value, decimal.Decimal):
        parts.append(format(value, "f"))
    elif isinstance(value, dt.datetime):
        parts.append(
            logical.millis_to_timestamp(logical.timestamp_to_millis(value)).strftime("%Y-%m-%dT%H:%M:%S.%f")[
                :-3
            ]
            + "Z"
        )
    elif isinstance(value, dt.date):
        parts.append(value.isoformat())
    elif isinstance(value, dt.time):
        parts.append(value.strftime("%H:%M:%S.%f")[:-3] + "Z")
    elif isinstance(value, list):
        item_schema = schema.value_schema if schema is not None else None
        parts.append("[")
        for i, item in enumerate(value):
            if i:
                parts.append(",")
            _append(parts, item_schema, item, embedded=True)
        parts.append("]")
    elif isinstance(value, dict):
        key_schema = schema.key_schema if schema is not None else None
        value_schema = schema.value_schema if schema is not None else None
        parts.append("{")
        for i, (k, v) in enumerate(value.items()):
            if i:
                parts.append(",")
            _append(parts, key_schema, k, embedded=True)
            parts.append(":")
            _append(parts, value_schema, v, embedded=True)
        parts.append("}")
    elif isinstance(value, Struct):
        parts.append("{")
        for i, f in enumerate(value.schema.fields):
            if i:
                parts.append(",")
            parts.append(json.dumps(f.name) + ":")
            _append(parts, f.schema, value.get(f.name), embedded=True)
        parts.append("}")
    else:
        parts.append(str(value))


def parse_string(text: str | None) -> SchemaAndValue:
    if text is None:
        return SchemaAndValue(None, None)
    if text == "":
        return SchemaAndValue(STRING_SCHEMA, "")
    stripped = text.strip()
    if stripped in ("true", "false"):
        return SchemaAndValue(BOOLEAN_SCHEMA, stripped == "true")
    if _NUMBER_RE.match(stripped):
        return _number(stripped)
    if _TIMESTAMP_RE.match(stripped):
        return SchemaAndValue(
            logical.TIMESTAMP_SCHEMA,
            dt.datetime.strptime(stripped, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC),
        )
    if _DATE_RE.match(stripped):
        try:
            return SchemaAndValue(logical.DATE_SCHEMA, dt.date.fromisoformat(stripped))
        except ValueError:
            return SchemaAndValue(STRING_SCHEMA, text)
    if _TIME_RE.match(stripped):
        return SchemaAndValue(logical.TIME_SCHEMA, dt.datetime.strptime(stripped, "%H:%M:%S.%fZ").time())
    if stripped[:1] in ("[", "{"):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            return SchemaAndValue(STRING_SCHEMA, text)
        return _infer(parsed)
    return SchemaAndValue(STRING_SCHEMA, text)


def _number(text: str) -> SchemaAndValue:
    number = decimal.Decimal(text)
    if number == number.to_integral_value() and "." not in text and "e" not in text.lower():
        integer = int(number)
        for schema in (INT8_SCHEMA, INT16_SCHEMA, INT32_SCHEMA, INT64_SCHEMA):
            low, high = INTEGER_RANGES[schema.type]
            if low <= integer <= high:
                return SchemaAndValue(schema, integer)
        return SchemaAndValue(logical.decimal_schema(0), number)
    as_float = float(number)
    if abs(as_float) <= 3.4028234663852886e38:
        return SchemaAndValue(FLOAT32_SCHEMA, as_float)
    return SchemaAndValue(FLOAT64_SCHEMA, as_float)


def _infer(value: Any) -> SchemaAndValue:
    if isinstance(value, bool):
        return SchemaAndValue(BOOLEAN_SCHEMA, value)
    if isinstance(value, int):
        return _number(str(value))
    if isinstance(value, float):
        return SchemaAndValue(FLOAT64_SCHEMA, value)
    if isinstance(value, str):
        return SchemaAndValue(STRING_SCHEMA, value)
    if isinstance(value, list):
        items = [_infer(v) for v in value]
        common = _common_schema([i.schema for i in items])
        if common is None:
            return SchemaAndValue(None, [i.value for i in items])
        return SchemaAndValue(SchemaBuilder.array(common).build(), [_widen(common, i.value) for i in items])
    if isinstance(value, dict):
        entries = [(_infer(k), _infer(v)) for k, v in value.items()]
        key_schema = _common_schema([k.schema for k, _ in entries])
        value_schema = _common_schema([v.schema for _, v in entries])
        plain = {k.value: v.value for k, v in entries}
        if key_schema is None or value_schema is None:
            return SchemaAndValue(None, plain)
        return SchemaAndValue(
            SchemaBuilder.map(key_schema, value_schema).build(),
            {k.value: _widen(value_schema, v.value) for k, v in entries},
        )
    return SchemaAndValue(None, value)


_INT_ORDER = [Type.INT8, Type.INT16, Type.INT32, Type.INT64]


def _common_schema(schemas: list[Schema | None]) -> Schema | None:
    if not schemas or any(s is None for s in schemas):
        return None
    present = [s for s in schemas if s is not None]
    first = present[0]
    if all(s == first for s in present):
        return first
    if all(s.type in _INT_ORDER and s.name is None for s in present):
        widest = max(present, key=lambda s: _INT_ORDER.index(s.type))
        return widest
    if all(s.type in (*_INT_ORDER, Type.FLOAT32, Type.FLOAT64) and s.name is None for s in present):
        return FLOAT64_SCHEMA
    return None


def _widen(schema: Schema, value: Any) -> Any:
    if schema.type in (Type.FLOAT32, Type.FLOAT64) and isinstance(value, int):
        return float(value)
    return value
