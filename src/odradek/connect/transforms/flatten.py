"""`Flatten`: nested structs/maps become top-level fields named by their path joined with
`delimiter` (default `.`). Arrays and maps with a schema are kept as they are; fields of an optional
parent become optional."""

from __future__ import annotations

from typing import Any

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance
from odradek.connect.api.records import ConnectRecord
from odradek.connect.data.schema import Schema, SchemaBuilder, Type
from odradek.connect.data.struct import Struct
from odradek.connect.transforms.base import Part, PartTransformation, require_map, require_struct
from odradek.connect.transforms.schema_util import SchemaCache, copy_basics

PURPOSE = "flattening"


class Flatten(PartTransformation):
    @classmethod
    def config_def(cls) -> ConfigDef:
        return ConfigDef().define(
            "delimiter",
            ConfigType.STRING,
            ".",
            None,
            Importance.MEDIUM,
            "Delimiter to insert between field names from the input record when "
            "generating field names for the output record",
        )

    def setup(self) -> None:
        self.delimiter = self.config.get_string("delimiter")
        self.cache = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.value_of(record)
        schema = self.schema_of(record)
        if schema is None:
            if value is None:
                return record
            flat: dict[str, Any] = {}
            self._flatten_map(require_map(value, PURPOSE), "", flat)
            return self.with_part(record, None, flat)
        new_schema = self.cache.get_or_build(schema, self._build)
        if value is None:
            return self.with_part(record, new_schema, None)
        out = Struct(new_schema)
        self._flatten_struct(require_struct(value, PURPOSE), "", out)
        return self.with_part(record, new_schema, out)

    def _name(self, prefix: str, name: str) -> str:
        return f"{prefix}{self.delimiter}{name}" if prefix else name

    def _flatten_map(self, value: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
        for key, item in value.items():
            name = self._name(prefix, str(key))
            if isinstance(item, dict):
                self._flatten_map(item, name, out)
            else:
                out[name] = item

    def _build(self, schema: Schema) -> Schema:
        builder = copy_basics(schema, SchemaBuilder.struct())
        self._build_fields(schema, "", schema.optional, builder)
        return builder.build()

    def _build_fields(self, schema: Schema, prefix: str, optional: bool, builder: SchemaBuilder) -> None:
        for f in schema.fields:
            name = self._name(prefix, f.name)
            if f.schema.type is Type.STRUCT:
                self._build_fields(f.schema, name, optional or f.schema.optional, builder)
            else:
                field_schema = f.schema.as_optional() if optional and not f.schema.optional else f.schema
                builder.field(name, field_schema)

    def _flatten_struct(self, value: Struct | None, prefix: str, out: Struct) -> None:
        assert value is not None
        for f in value.schema.fields:
            name = self._name(prefix, f.name)
            item = value.get(f.name)
            if f.schema.type is Type.STRUCT:
                if item is None:
                    continue
                self._flatten_struct(item, name, out)
            else:
                out.put(name, item)


class FlattenKey(Flatten):
    part = Part.KEY
    java_class = "org.apache.kafka.connect.transforms.Flatten$Key"


class FlattenValue(Flatten):
    part = Part.VALUE
    java_class = "org.apache.kafka.connect.transforms.Flatten$Value"
