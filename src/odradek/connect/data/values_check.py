"""`validate_value(schema, value)`: does a Python value fit a Connect schema (Kafka's
`ConnectSchema.validateValue`)? Raises `DataException` naming the field when it does not."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from odradek.connect.api.errors import DataException
from odradek.connect.data import logical
from odradek.connect.data.schema import INTEGER_RANGES, Schema, Type

_LOGICAL_CLASSES: dict[str, tuple[type, ...]] = {
    logical.DECIMAL: (decimal.Decimal,),
    logical.DATE: (dt.date,),
    logical.TIME: (dt.time,),
    logical.TIMESTAMP: (dt.datetime,),
}


def validate_value(schema: Schema, value: Any, where: str = "value") -> None:
    if value is None:
        if not schema.optional:
            raise DataException(
                f'Invalid value: null used for required field: "{where}", schema type: {schema.type.value}'
            )
        return
    expected = _LOGICAL_CLASSES.get(schema.name or "")
    if expected is not None:
        if not isinstance(value, expected) or (
            schema.name == logical.DATE and isinstance(value, dt.datetime) and value.time() != dt.time(0)
        ):
            raise DataException(
                f'Invalid Java object for schema "{schema.name}" with type {schema.type.value}: {type(value).__name__} for field: "{where}"'
            )
        return
    t = schema.type
    if t in INTEGER_RANGES:
        low, high = INTEGER_RANGES[t]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            _mismatch(schema, value, where)
    elif t in (Type.FLOAT32, Type.FLOAT64):
        if not isinstance(value, float):
            _mismatch(schema, value, where)
    elif t is Type.BOOLEAN:
        if not isinstance(value, bool):
            _mismatch(schema, value, where)
    elif t is Type.STRING:
        if not isinstance(value, str):
            _mismatch(schema, value, where)
    elif t is Type.BYTES:
        if not isinstance(value, bytes | bytearray | memoryview):
            _mismatch(schema, value, where)
    elif t is Type.ARRAY:
        if not isinstance(value, list):
            _mismatch(schema, value, where)
        assert schema.value_schema is not None
        for item in value:
            validate_value(schema.value_schema, item, where)
    elif t is Type.MAP:
        if not isinstance(value, dict):
            _mismatch(schema, value, where)
        assert schema.key_schema is not None and schema.value_schema is not None
        for k, v in value.items():
            validate_value(schema.key_schema, k, where)
            validate_value(schema.value_schema, v, where)
    else:
        from odradek.connect.data.struct import Struct

        if not isinstance(value, Struct):
            _mismatch(schema, value, where)
        if value.schema != schema:
            raise DataException(f'Struct schemas do not match for field "{where}".')
        value.validate()


def _mismatch(schema: Schema, value: Any, where: str) -> None:
    raise DataException(
        f"Invalid Java object for schema with type {schema.type.value.upper()}: "
        f'{type(value).__name__} for field: "{where}"'
    )
