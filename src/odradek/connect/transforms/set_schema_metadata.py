"""`SetSchemaMetadata`: set the key/value schema's `schema.name` and/or `schema.version` (a struct
value is rebuilt on the renamed schema)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance
from odradek.connect.api.errors import ConfigException, DataException
from odradek.connect.api.records import ConnectRecord
from odradek.connect.data.schema import Schema, Type
from odradek.connect.data.struct import Struct
from odradek.connect.transforms.base import Part, PartTransformation


class SetSchemaMetadata(PartTransformation):
    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define("schema.name", ConfigType.STRING, None, None, Importance.HIGH, "Schema name to set.")
            .define("schema.version", ConfigType.INT, None, None, Importance.HIGH, "Schema version to set.")
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
        self.name: str | None = self.config.get("schema.name")
        self.version: int | None = self.config.get("schema.version")
        if self.name is None and self.version is None:
            raise ConfigException("schema.name", None, "Neither schema name nor version configured")
        self.replace_null = self.config.get_bool("replace.null.with.default")

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        schema = self.schema_of(record)
        if schema is None:
            raise DataException("Schema required for [updating schema metadata]")
        updated = replace(
            schema,
            name=self.name if self.name is not None else schema.name,
            version=self.version if self.version is not None else schema.version,
            _by_name={},
        )
        return self.with_part(record, updated, self._rebuild(updated, self.value_of(record)))

    def _rebuild(self, schema: Schema, value: Any) -> Any:
        if schema.type is not Type.STRUCT or not isinstance(value, Struct):
            return value
        out = Struct(schema)
        for f in schema.fields:
            out.put(f.name, value.get(f.name) if self.replace_null else value.get_without_default(f.name))
        return out


class SetSchemaMetadataKey(SetSchemaMetadata):
    part = Part.KEY
    java_class = "org.apache.kafka.connect.transforms.SetSchemaMetadata$Key"


class SetSchemaMetadataValue(SetSchemaMetadata):
    part = Part.VALUE
    java_class = "org.apache.kafka.connect.transforms.SetSchemaMetadata$Value"
