"""`ValueToKey`: the key becomes a struct (or map) of the listed `fields` of the value."""

from __future__ import annotations

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance
from odradek.connect.api.errors import ConfigException, DataException
from odradek.connect.api.records import ConnectRecord
from odradek.connect.data.schema import Schema, SchemaBuilder
from odradek.connect.data.struct import Struct
from odradek.connect.transforms.base import Transformation, require_map, require_struct
from odradek.connect.transforms.schema_util import SchemaCache

PURPOSE = "copying fields from value to key"


class ValueToKey(Transformation):
    java_class = "org.apache.kafka.connect.transforms.ValueToKey"

    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define(
                "fields",
                ConfigType.LIST,
                None,
                None,
                Importance.HIGH,
                "Field names on the record value to extract as the record key.",
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
        self.fields = self.config.get_list("fields")
        if not self.fields:
            raise ConfigException("fields", self.fields, "Must specify at least one field")
        self.replace_null = self.config.get_bool("replace.null.with.default")
        self.cache = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        if record.value_schema is None:
            value = require_map(record.value, PURPOSE)
            return record.new_record(key_schema=None, key={f: value.get(f) for f in self.fields})
        struct = require_struct(record.value, PURPOSE)
        key_schema = self.cache.get_or_build(record.value_schema, self._build)
        key = Struct(key_schema)
        for name in self.fields:
            key.put(name, struct.get(name) if self.replace_null else struct.get_without_default(name))
        return record.new_record(key_schema=key_schema, key=key)

    def _build(self, schema: Schema) -> Schema:
        builder = SchemaBuilder.struct()
        for name in self.fields:
            found = schema.field(name)
            if found is None:
                raise DataException("Field does not exist: " + name)
            builder.field(name, found.schema)
        return builder.build()
