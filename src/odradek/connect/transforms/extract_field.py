"""`ExtractField`: replace the key/value with one of its fields (`field`; nested paths with
`field.syntax.version=V2`). A null key/value stays null."""

from __future__ import annotations

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance
from odradek.connect.api.errors import ConfigException, DataException
from odradek.connect.api.records import ConnectRecord
from odradek.connect.data.schema import Schema
from odradek.connect.data.struct import Struct
from odradek.connect.transforms.base import Part, PartTransformation, require_map, require_struct
from odradek.connect.transforms.field_path import SYNTAX_VERSION, define_syntax, get_path, parse_path

PURPOSE = "field extraction"


class ExtractField(PartTransformation):
    @classmethod
    def config_def(cls) -> ConfigDef:
        return define_syntax(
            ConfigDef()
            .define("field", ConfigType.STRING, None, None, Importance.MEDIUM, "Field name to extract.")
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
        name = self.config.get_string("field")
        if not name:
            raise ConfigException("field", name, 'Missing required configuration "field"')
        self.path = parse_path(name, self.config.get_string(SYNTAX_VERSION))
        self.replace_null = self.config.get_bool("replace.null.with.default")

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.value_of(record)
        schema = self.schema_of(record)
        if schema is None:
            if value is None:
                return self.with_part(record, None, None)
            return self.with_part(record, None, get_path(require_map(value, PURPOSE), self.path))
        struct = require_struct(value, PURPOSE) if value is not None else None
        field_schema = _schema_at(schema, self.path)
        if field_schema is None:
            raise DataException(f"Unknown field: {'.'.join(self.path)}")
        if struct is None:
            return self.with_part(record, field_schema, None)
        current: object = struct
        for step in self.path:
            if not isinstance(current, Struct):
                current = None
                break
            current = current.get(step) if self.replace_null else current.get_without_default(step)
        return self.with_part(record, field_schema, current)


def _schema_at(schema: Schema, path: list[str]) -> Schema | None:
    current: Schema | None = schema
    for step in path:
        if current is None or current.type.value != "struct":
            return None
        found = current.field(step)
        current = found.schema if found is not None else None
    return current


class ExtractFieldKey(ExtractField):
    part = Part.KEY
    java_class = "org.apache.kafka.connect.transforms.ExtractField$Key"


class ExtractFieldValue(ExtractField):
    part = Part.VALUE
    java_class = "org.apache.kafka.connect.transforms.ExtractField$Value"
