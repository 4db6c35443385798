"""`TimestampConverter`: convert a timestamp (the whole key/value, or `field`) between `string`
(Java `format` pattern), `unix` (epoch in `unix.precision`: seconds, milliseconds, microseconds,
nanoseconds) and the Connect logical types `Date`, `Time`, `Timestamp`. All in UTC, as Kafka."""

from __future__ import annotations

import datetime as dt
from typing import Any

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance, valid_string
from odradek.connect.api.errors import ConfigException, DataException
from odradek.connect.api.records import ConnectRecord
from odradek.connect.data import logical
from odradek.connect.data.schema import Schema, SchemaBuilder, Type
from odradek.connect.data.struct import Struct
from odradek.connect.transforms.base import Part, PartTransformation, require_map, require_struct
from odradek.connect.transforms.java_dates import JavaDateFormat
from odradek.connect.transforms.schema_util import SchemaCache, copy_basics

PURPOSE = "converting timestamp formats"
TARGETS = ("string", "unix", "Date", "Time", "Timestamp")
_UNIT_PER_MS = {"seconds": 0.001, "milliseconds": 1, "microseconds": 1000, "nanoseconds": 1_000_000}


class TimestampConverter(PartTransformation):
    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define(
                "field",
                ConfigType.STRING,
                "",
                None,
                Importance.HIGH,
                "The field containing the timestamp, or empty if the entire value is a timestamp",
            )
            .define(
                "target.type",
                ConfigType.STRING,
                None,
                valid_string(*TARGETS),
                Importance.HIGH,
                "The desired timestamp representation: string, unix, Date, Time, or Timestamp",
            )
            .define(
                "format",
                ConfigType.STRING,
                "",
                None,
                Importance.MEDIUM,
                "A SimpleDateFormat-compatible format for the timestamp. Used to generate the output when "
                "type=string or used to parse the input if the input is a string.",
            )
            .define(
                "unix.precision",
                ConfigType.STRING,
                "milliseconds",
                valid_string("nanoseconds", "microseconds", "milliseconds", "seconds"),
                Importance.LOW,
                "The desired Unix precision for the timestamp: seconds, milliseconds, microseconds, or nanoseconds.",
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
        self.field = self.config.get_string("field")
        self.target = self.config.get_string("target.type")
        if self.target is None:
            raise ConfigException("target.type", None, 'Missing required configuration "target.type"')
        pattern = self.config.get_string("format")
        if self.target == "string" and not pattern:
            raise ConfigException(
                "format",
                pattern,
                "TimestampConverter requires format option to be specified when using string timestamps",
            )
        self.format = JavaDateFormat(pattern) if pattern else None
        self.per_ms = _UNIT_PER_MS[self.config.get_string("unix.precision")]
        self.replace_null = self.config.get_bool("replace.null.with.default")
        self.cache = SchemaCache()

    # -- conversions -----------------------------------------------------------------------------

    def _to_datetime(self, value: Any, schema: Schema | None) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
        if isinstance(value, dt.time):
            return dt.datetime.combine(logical.EPOCH_DATE, value, tzinfo=dt.UTC)
        if isinstance(value, str):
            if self.format is None:
                raise DataException(
                    "TimestampConverter requires format option to be specified when using string timestamps"
                )
            return self.format.parse(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return logical.millis_to_timestamp(int(value / self.per_ms))
        raise DataException(
            f"Expected timestamp to be a java.util.Date, String or Long, but found {type(value).__name__}"
        )

    def _from_datetime(self, value: dt.datetime) -> Any:
        if self.target == "string":
            assert self.format is not None
            return self.format.format(value)
        if self.target == "unix":
            millis = logical.timestamp_to_millis(value)
            return int(millis * self.per_ms) if self.per_ms >= 1 else millis // 1000
        if self.target == "Date":
            return value.astimezone(dt.UTC).date()
        if self.target == "Time":
            return value.astimezone(dt.UTC).time().replace(tzinfo=None)
        return value

    def convert(self, value: Any, schema: Schema | None) -> Any:
        if value is None:
            return None
        return self._from_datetime(self._to_datetime(value, schema))

    def target_schema(self, optional: bool) -> Schema:
        builder = {
            "string": SchemaBuilder(Type.STRING),
            "unix": SchemaBuilder(Type.INT64),
            "Date": SchemaBuilder.int32().name(logical.DATE).version(1),
            "Time": SchemaBuilder.int32().name(logical.TIME).version(1),
            "Timestamp": SchemaBuilder.int64().name(logical.TIMESTAMP).version(1),
        }[self.target]
        return (builder.optional() if optional else builder).build()

    # -- records ---------------------------------------------------------------------------------

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.value_of(record)
        schema = self.schema_of(record)
        if not self.field:
            new_schema = self.target_schema(schema.optional) if schema is not None else None
            return self.with_part(record, new_schema, self.convert(value, schema))
        if value is None:
            return record
        if schema is None:
            updated = dict(require_map(value, PURPOSE))
            if self.field in updated:
                updated[self.field] = self.convert(updated[self.field], None)
            return self.with_part(record, None, updated)
        struct = require_struct(value, PURPOSE)
        new_schema = self.cache.get_or_build(schema, self._build)
        out = Struct(new_schema)
        for f in schema.fields:
            raw = struct.get(f.name) if self.replace_null else struct.get_without_default(f.name)
            out.put(f.name, self.convert(raw, f.schema) if f.name == self.field else raw)
        return self.with_part(record, new_schema, out)

    def _build(self, schema: Schema) -> Schema:
        builder = copy_basics(schema, SchemaBuilder.struct())
        for f in schema.fields:
            builder.field(f.name, self.target_schema(f.schema.optional) if f.name == self.field else f.schema)
        return builder.build()


class TimestampConverterKey(TimestampConverter):
    part = Part.KEY
    java_class = "org.apache.kafka.connect.transforms.TimestampConverter$Key"


class TimestampConverterValue(TimestampConverter):
    part = Part.VALUE
    java_class = "org.apache.kafka.connect.transforms.TimestampConverter$Value"
