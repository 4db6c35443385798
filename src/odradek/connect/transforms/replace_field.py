"""`ReplaceField`: keep only `include` fields, drop `exclude` fields, rename with `renames`
(`old:new,...`); `whitelist`/`blacklist` are the deprecated names of include/exclude."""

from __future__ import annotations

from typing import Any

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance
from odradek.connect.api.errors import ConfigException
from odradek.connect.api.records import ConnectRecord
from odradek.connect.data.schema import Schema, SchemaBuilder
from odradek.connect.data.struct import Struct
from odradek.connect.transforms.base import Part, PartTransformation, require_map, require_struct
from odradek.connect.transforms.schema_util import SchemaCache, copy_basics

PURPOSE = "field replacement"


def parse_renames(items: list[str]) -> dict[str, str]:
    renames: dict[str, str] = {}
    for item in items:
        old, sep, new = item.partition(":")
        if not sep or not old or not new:
            raise ConfigException("renames", ",".join(items), "Invalid rename mapping: " + item)
        renames[old] = new
    return renames


class ReplaceField(PartTransformation):
    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define(
                "exclude",
                ConfigType.LIST,
                "",
                None,
                Importance.MEDIUM,
                "Fields to exclude. This takes precedence over the fields to include.",
            )
            .define(
                "include",
                ConfigType.LIST,
                "",
                None,
                Importance.MEDIUM,
                "Fields to include. If specified, only these fields will be used.",
            )
            .define("renames", ConfigType.LIST, "", None, Importance.MEDIUM, "Field rename mappings.")
            .define(
                "blacklist", ConfigType.LIST, None, None, Importance.LOW, "Deprecated. Use exclude instead."
            )
            .define(
                "whitelist", ConfigType.LIST, None, None, Importance.LOW, "Deprecated. Use include instead."
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
        self.exclude = frozenset(self.config.get_list("exclude") or self.config.get_list("blacklist") or [])
        self.include = frozenset(self.config.get_list("include") or self.config.get_list("whitelist") or [])
        self.renames = parse_renames(self.config.get_list("renames"))
        self.reverse = {new: old for old, new in self.renames.items()}
        self.replace_null = self.config.get_bool("replace.null.with.default")
        self.cache = SchemaCache()

    def filter(self, name: str) -> bool:
        return name not in self.exclude and (not self.include or name in self.include)

    def renamed(self, name: str) -> str:
        return self.renames.get(name, name)

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.value_of(record)
        schema = self.schema_of(record)
        if value is None:
            return record
        if schema is None:
            data: dict[str, Any] = require_map(value, PURPOSE)
            return self.with_part(
                record, None, {self.renamed(k): v for k, v in data.items() if self.filter(k)}
            )
        struct = require_struct(value, PURPOSE)
        new_schema = self.cache.get_or_build(schema, self._build)
        out = Struct(new_schema)
        for f in new_schema.fields:
            old = self.reverse.get(f.name, f.name)
            out.put(f.name, struct.get(old) if self.replace_null else struct.get_without_default(old))
        return self.with_part(record, new_schema, out)

    def _build(self, schema: Schema) -> Schema:
        builder = copy_basics(schema, SchemaBuilder.struct())
        for f in schema.fields:
            if self.filter(f.name):
                builder.field(self.renamed(f.name), f.schema)
        return builder.build()


class ReplaceFieldKey(ReplaceField):
    part = Part.KEY
    java_class = "org.apache.kafka.connect.transforms.ReplaceField$Key"


class ReplaceFieldValue(ReplaceField):
    part = Part.VALUE
    java_class = "org.apache.kafka.connect.transforms.ReplaceField$Value"
