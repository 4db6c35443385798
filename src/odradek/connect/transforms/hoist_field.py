"""`HoistField`: wrap the key/value in a struct (with a schema) or a map (without) with one field."""

from __future__ import annotations

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance
from odradek.connect.api.errors import ConfigException
from odradek.connect.api.records import ConnectRecord
from odradek.connect.data.schema import Schema, SchemaBuilder
from odradek.connect.data.struct import Struct
from odradek.connect.transforms.base import Part, PartTransformation
from odradek.connect.transforms.schema_util import SchemaCache


class HoistField(PartTransformation):
    @classmethod
    def config_def(cls) -> ConfigDef:
        return ConfigDef().define(
            "field",
            ConfigType.STRING,
            None,
            None,
            Importance.MEDIUM,
            "Field name for the single field that will be created in the resulting Struct or Map.",
        )

    def setup(self) -> None:
        self.field = self.config.get_string("field")
        if not self.field:
            raise ConfigException("field", self.field, 'Missing required configuration "field"')
        self.cache = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.value_of(record)
        schema = self.schema_of(record)
        if schema is None:
            return self.with_part(record, None, {self.field: value})
        new_schema = self.cache.get_or_build(schema, self._build)
        return self.with_part(record, new_schema, Struct(new_schema).put(self.field, value))

    def _build(self, schema: Schema) -> Schema:
        return SchemaBuilder.struct().field(self.field, schema).build()


class HoistFieldKey(HoistField):
    part = Part.KEY
    java_class = "org.apache.kafka.connect.transforms.HoistField$Key"


class HoistFieldValue(HoistField):
    part = Part.VALUE
    java_class = "org.apache.kafka.connect.transforms.HoistField$Value"
