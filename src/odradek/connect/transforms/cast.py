"""`Cast`: change the type of fields, or of the whole key/value (Kafka's `Cast$Key`/`Cast$Value`).

`spec`: `field:type,...` or a single `type` for the whole value. Types: int8, int16, int32, int64,
float32, float64, boolean, string. Numbers narrow as Java casts do (wrapping), booleans are 1/0,
strings are parsed (a bad one is a `DataException`), anything casts to string (bytes as base64,
Decimal in plain notation, temporal values ISO-8601, structs/maps/arrays in `Values` form).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from typing import Any

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance
from odradek.connect.api.errors import ConfigException, DataException
from odradek.connect.api.records import ConnectRecord
from odradek.connect.data import logical
from odradek.connect.data.schema import INTEGER_RANGES, Schema, SchemaBuilder, Type
from odradek.connect.data.struct import Struct
from odradek.connect.data.values import convert_to_string
from odradek.connect.transforms.base import Part, PartTransformation, require_map, require_struct
from odradek.connect.transforms.schema_util import SchemaCache, copy_basics

PURPOSE = "cast types"
WHOLE = ""
TARGETS = {
    "int8": Type.INT8,
    "int16": Type.INT16,
    "int32": Type.INT32,
    "int64": Type.INT64,
    "float32": Type.FLOAT32,
    "float64": Type.FLOAT64,
    "boolean": Type.BOOLEAN,
    "string": Type.STRING,
}


def parse_spec(spec: list[str]) -> dict[str, Type]:
    casts: dict[str, Type] = {}
    for item in spec:
        name, sep, type_name = item.rpartition(":")
        if not sep:
            if len(spec) > 1:
                raise ConfigException(
                    "spec",
                    ",".join(spec),
                    "Cast transformations that specify a type to cast to can only cast the whole value",
                )
            name, type_name = WHOLE, item
        target = TARGETS.get(type_name.strip().lower())
        if target is None:
            raise ConfigException(
                "spec", ",".join(spec), f"Invalid type found in casting spec: {type_name.strip()}"
            )
        casts[name.strip()] = target
    if not casts:
        raise ConfigException("spec", "", "Must specify at least one field to cast.")
    return casts


def cast_value(value: Any, target: Type) -> Any:
    if value is None:
        return None
    try:
        if target in INTEGER_RANGES:
            return _to_int(value, target)
        if target in (Type.FLOAT32, Type.FLOAT64):
            if isinstance(value, bool):
                return 1.0 if value else 0.0
            if isinstance(value, int | float | decimal.Decimal | str):
                return float(value)
        elif target is Type.BOOLEAN:
            if isinstance(value, bool):
                return value
            if isinstance(value, int | float | decimal.Decimal):
                return value != 0
            if isinstance(value, str):
                return value.strip().lower() == "true"
        elif target is Type.STRING:
            if isinstance(value, bytes | bytearray):
                return base64.b64encode(bytes(value)).decode()
            return convert_to_string(None, value)
    except (ValueError, decimal.InvalidOperation) as exc:
        raise DataException(f"Value ({value!r}) could not be cast to {target.value}: {exc}") from exc
    raise DataException(f"Unexpected type in Cast transformation: {type(value).__name__}")


def _to_int(value: Any, target: Type) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        number = int(value.strip())
        low, high = INTEGER_RANGES[target]
        if not low <= number <= high:
            raise ValueError(f'Value out of range. Value:"{value}"')
        return number
    if isinstance(value, dt.datetime | dt.date | dt.time):
        raise DataException(f"Unexpected type in Cast transformation: {type(value).__name__}")
    number = int(value)
    bits = {Type.INT8: 8, Type.INT16: 16, Type.INT32: 32, Type.INT64: 64}[target]
    half = 1 << (bits - 1)
    return ((number + half) % (1 << bits)) - half


_CASTABLE = {
    Type.INT8,
    Type.INT16,
    Type.INT32,
    Type.INT64,
    Type.FLOAT32,
    Type.FLOAT64,
    Type.BOOLEAN,
    Type.STRING,
}


def _target_schema(source: Schema, target: Type) -> Schema:
    if source.type not in _CASTABLE and target is not Type.STRING and source.name != logical.DECIMAL:
        raise ConfigException(
            "spec", target.value, f"Cast transformation does not support casting from {source.type.value}"
        )
    builder = SchemaBuilder(target)
    if source.optional:
        builder.optional()
    if source.default is not None:
        builder.default_value(cast_value(source.default, target))
    return builder.build()


class Cast(PartTransformation):
    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define(
                "spec",
                ConfigType.LIST,
                None,
                None,
                Importance.HIGH,
                "List of fields and the type to cast them to of the form field1:type,field2:type to cast "
                "fields of Maps or Structs. A single type to cast the entire value.",
            )
            .define(
                "replace.null.with.default",
                ConfigType.BOOLEAN,
                True,
                None,
                Importance.MEDIUM,
                "Whether to replace fields that have a default value and that are null to the default value.",
            )
        )

    def setup(self) -> None:
        spec = self.config.get_list("spec")
        if not spec:
            raise ConfigException("spec", spec, "Must specify at least one field to cast.")
        self.casts = parse_spec(spec)
        self.whole = self.casts.get(WHOLE)
        self.replace_null = self.config.get_bool("replace.null.with.default")
        self.cache = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.value_of(record)
        schema = self.schema_of(record)
        if value is None and schema is None:
            return record
        if schema is None:
            if self.whole is not None:
                return self.with_part(record, None, cast_value(value, self.whole))
            updated = dict(require_map(value, PURPOSE))
            for name, target in self.casts.items():
                if name in updated:
                    updated[name] = cast_value(updated[name], target)
            return self.with_part(record, None, updated)
        if self.whole is not None:
            new_schema = self.cache.get_or_build(schema, lambda s: _target_schema(s, self.whole))  # type: ignore[arg-type]
            return self.with_part(record, new_schema, cast_value(value, self.whole))
        new_schema = self.cache.get_or_build(schema, self._build)
        struct = require_struct(value, PURPOSE) if value is not None else None
        if struct is None:
            return self.with_part(record, new_schema, None)
        out = Struct(new_schema)
        for f in schema.fields:
            raw = struct.get(f.name) if self.replace_null else struct.get_without_default(f.name)
            cast_to = self.casts.get(f.name)
            out.put(f.name, cast_value(raw, cast_to) if cast_to is not None else raw)
        return self.with_part(record, new_schema, out)

    def _build(self, schema: Schema) -> Schema:
        if schema.type is not Type.STRUCT:
            raise DataException(f"Only Struct objects supported for [{PURPOSE}], found: {schema.type.value}")
        builder = copy_basics(schema, SchemaBuilder.struct())
        for f in schema.fields:
            target = self.casts.get(f.name)
            builder.field(f.name, _target_schema(f.schema, target) if target is not None else f.schema)
        return builder.build()


class CastKey(Cast):
    part = Part.KEY
    java_class = "org.apache.kafka.connect.transforms.Cast$Key"


class CastValue(Cast):
    part = Part.VALUE
    java_class = "org.apache.kafka.connect.transforms.Cast$Value"
