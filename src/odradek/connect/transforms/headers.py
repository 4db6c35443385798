"""Header transforms: `DropHeaders` (remove headers by name), `InsertHeader` (a literal header,
typed by `Values.parse_string`), `HeaderFrom` (copy or move fields of the key/value to headers)."""

from __future__ import annotations

from typing import Any

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance, non_empty_string, valid_string
from odradek.connect.api.errors import ConfigException
from odradek.connect.api.headers import Headers
from odradek.connect.api.records import ConnectRecord
from odradek.connect.data.schema import SchemaBuilder
from odradek.connect.data.struct import Struct
from odradek.connect.data.values import parse_string
from odradek.connect.transforms.base import (
    Part,
    PartTransformation,
    Transformation,
    require_map,
    require_struct,
)
from odradek.connect.transforms.schema_util import SchemaCache, copy_basics


class DropHeaders(Transformation):
    java_class = "org.apache.kafka.connect.transforms.DropHeaders"

    @classmethod
    def config_def(cls) -> ConfigDef:
        return ConfigDef().define(
            "headers", ConfigType.LIST, None, None, Importance.HIGH, "The name of the headers to be removed."
        )

    def setup(self) -> None:
        names = self.config.get_list("headers")
        if not names:
            raise ConfigException("headers", names, "Must specify at least one header")
        self.names = frozenset(names)

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        kept = Headers(h for h in record.headers if h.key not in self.names)
        return record.new_record(headers=kept)


class InsertHeader(Transformation):
    java_class = "org.apache.kafka.connect.transforms.InsertHeader"

    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define(
                "header",
                ConfigType.STRING,
                None,
                non_empty_string,
                Importance.HIGH,
                "The name of the header.",
            )
            .define(
                "value.literal",
                ConfigType.STRING,
                None,
                None,
                Importance.HIGH,
                "The literal value that is to be set as the header value on all records.",
            )
        )

    def setup(self) -> None:
        header = self.config.get_string("header")
        literal = self.config.get_string("value.literal")
        if not header:
            raise ConfigException("header", header, 'Missing required configuration "header"')
        if literal is None:
            raise ConfigException("value.literal", literal, 'Missing required configuration "value.literal"')
        self.header = header
        self.parsed = parse_string(literal)

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        headers = record.headers.duplicate().add(self.header, self.parsed.value, self.parsed.schema)
        return record.new_record(headers=headers)


class HeaderFrom(PartTransformation):
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
                "Field names in the record whose values are to be copied or moved to headers.",
            )
            .define(
                "headers",
                ConfigType.LIST,
                None,
                None,
                Importance.HIGH,
                "Header names, in the same order as the field names listed in the fields configuration property.",
            )
            .define(
                "operation",
                ConfigType.STRING,
                None,
                valid_string("move", "copy"),
                Importance.HIGH,
                "Either move if the fields are to be moved to the headers (removed from the key/value), "
                "or copy if the fields are to be copied to the headers (retained in the key/value).",
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
        self.fields = self.config.get_list("fields") or []
        self.headers = self.config.get_list("headers") or []
        if len(self.fields) != len(self.headers) or not self.fields:
            raise ConfigException(
                "headers",
                ",".join(self.headers),
                "'fields' config must have the same number of elements as 'headers' config.",
            )
        self.move = self.config.get_string("operation") == "move"
        self.replace_null = self.config.get_bool("replace.null.with.default")
        self.cache = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.value_of(record)
        schema = self.schema_of(record)
        headers = record.headers.duplicate()
        if value is None:
            return record
        if schema is None:
            data: dict[str, Any] = require_map(value, "header " + ("move" if self.move else "copy"))
            for field_name, header in zip(self.fields, self.headers, strict=True):
                headers.add(header, data.get(field_name))
            if self.move:
                data = {k: v for k, v in data.items() if k not in self.fields}
            return self.with_part(record, None, data).new_record(headers=headers)
        struct = require_struct(value, "header " + ("move" if self.move else "copy"))
        for field_name, header in zip(self.fields, self.headers, strict=True):
            found = schema.field(field_name)
            if found is None:
                continue
            raw = struct.get(field_name) if self.replace_null else struct.get_without_default(field_name)
            headers.add(header, raw, found.schema)
        if not self.move:
            return record.new_record(headers=headers)
        new_schema = self.cache.get_or_build(schema, self._without_fields)
        out = Struct(new_schema)
        for f in new_schema.fields:
            out.put(f.name, struct.get(f.name))
        return self.with_part(record, new_schema, out).new_record(headers=headers)

    def _without_fields(self, schema: Any) -> Any:
        builder = copy_basics(schema, SchemaBuilder.struct())
        for f in schema.fields:
            if f.name not in self.fields:
                builder.field(f.name, f.schema)
        return builder.build()


class HeaderFromKey(HeaderFrom):
    part = Part.KEY
    java_class = "org.apache.kafka.connect.transforms.HeaderFrom$Key"


class HeaderFromValue(HeaderFrom):
    part = Part.VALUE
    java_class = "org.apache.kafka.connect.transforms.HeaderFrom$Value"
