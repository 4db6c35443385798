"""`MaskField`: replace fields with their type's empty value (0, false, "", empty bytes/list/map,
the epoch for temporal values) or with `replacement` converted to the field's type."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance
from odradek.connect.api.errors import ConfigException, DataException
from odradek.connect.api.records import ConnectRecord
from odradek.connect.data import logical
from odradek.connect.data.struct import Struct
from odradek.connect.transforms.base import Part, PartTransformation, require_map, require_struct

PURPOSE = "mask fields"


def _empty(value: Any) -> Any:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0
    if isinstance(value, float):
        return 0.0
    if isinstance(value, decimal.Decimal):
        return decimal.Decimal(0)
    if isinstance(value, str):
        return ""
    if isinstance(value, bytes | bytearray):
        return b""
    if isinstance(value, dt.datetime):
        return logical.EPOCH
    if isinstance(value, dt.date):
        return logical.EPOCH_DATE
    if isinstance(value, dt.time):
        return dt.time(0)
    if isinstance(value, list):
        return []
    if isinstance(value, dict):
        return {}
    raise DataException(f"Cannot mask value of type: {type(value).__name__}")


def _replacement(value: Any, text: str) -> Any:
    try:
        if isinstance(value, bool):
            raise DataException("Cannot mask value of type Boolean with custom replacement")
        if isinstance(value, int):
            return int(text)
        if isinstance(value, float):
            return float(text)
        if isinstance(value, decimal.Decimal):
            return decimal.Decimal(text)
        if isinstance(value, str):
            return text
    except (ValueError, decimal.InvalidOperation) as exc:
        raise DataException(f"Unable to convert {text} ({type(value).__name__}) to number") from exc
    raise DataException(f"Cannot mask value of type {type(value).__name__} with custom replacement.")


class MaskField(PartTransformation):
    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define("fields", ConfigType.LIST, None, None, Importance.HIGH, "Names of fields to mask.")
            .define(
                "replacement",
                ConfigType.STRING,
                None,
                None,
                Importance.LOW,
                "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only).",
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
        fields = self.config.get_list("fields")
        if not fields:
            raise ConfigException("fields", fields, "Must specify at least one field to mask.")
        self.fields = frozenset(fields)
        self.replacement = self.config.get_string("replacement")
        if self.replacement == "":
            raise ConfigException("replacement", "", "String must be non-empty")
        self.replace_null = self.config.get_bool("replace.null.with.default")

    def _mask(self, value: Any) -> Any:
        if value is None:
            return None
        return _empty(value) if self.replacement is None else _replacement(value, self.replacement)

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.value_of(record)
        schema = self.schema_of(record)
        if value is None:
            return record
        if schema is None:
            updated = dict(require_map(value, PURPOSE))
            for name in self.fields:
                if name in updated:
                    updated[name] = self._mask(updated[name])
            return self.with_part(record, None, updated)
        struct = require_struct(value, PURPOSE)
        out = Struct(struct.schema)
        for f in struct.schema.fields:
            raw = struct.get(f.name) if self.replace_null else struct.get_without_default(f.name)
            out.put(f.name, self._mask(raw) if f.name in self.fields else raw)
        return self.with_part(record, schema, out)


class MaskFieldKey(MaskField):
    part = Part.KEY
    java_class = "org.apache.kafka.connect.transforms.MaskField$Key"


class MaskFieldValue(MaskField):
    part = Part.VALUE
    java_class = "org.apache.kafka.connect.transforms.MaskField$Value"
