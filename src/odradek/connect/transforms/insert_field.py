"""`InsertField`: add the record's topic, partition, offset (sink records only), timestamp and a
static string to the key/value. A field name ending in `!` is required, in `?` (the default)
optional. With a schema the timestamp is a Connect Timestamp; without, epoch milliseconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from odradek.connect.api.config_def import ConfigDef, ConfigType, Importance
from odradek.connect.api.errors import ConfigException
from odradek.connect.api.records import ConnectRecord, SinkRecord
from odradek.connect.data import logical
from odradek.connect.data.schema import Schema, SchemaBuilder, Type
from odradek.connect.data.struct import Struct
from odradek.connect.transforms.base import (
    Part,
    PartTransformation,
    require_map,
    require_sink_record,
    require_struct,
)
from odradek.connect.transforms.schema_util import SchemaCache, copy_basics

PURPOSE = "field insertion"


@dataclass(frozen=True)
class InsertionSpec:
    name: str
    optional: bool

    @classmethod
    def parse(cls, text: str | None) -> InsertionSpec | None:
        if not text:
            return None
        if text.endswith("?"):
            return cls(text[:-1], True)
        if text.endswith("!"):
            return cls(text[:-1], False)
        return cls(text, True)


class InsertField(PartTransformation):
    @classmethod
    def config_def(cls) -> ConfigDef:
        definition = ConfigDef()
        for name, doc in (
            (
                "topic.field",
                "Field name for Kafka topic. Suffix with ! to make this a required field, or ? to keep it optional (the default).",
            ),
            (
                "partition.field",
                "Field name for Kafka partition. Suffix with ! to make this a required field, or ? to keep it optional (the default).",
            ),
            (
                "offset.field",
                "Field name for Kafka offset - only applicable to sink connectors. Suffix with ! to make this a required field, or ? to keep it optional (the default).",
            ),
            (
                "timestamp.field",
                "Field name for record timestamp. Suffix with ! to make this a required field, or ? to keep it optional (the default).",
            ),
            (
                "static.field",
                "Field name for static data field. Suffix with ! to make this a required field, or ? to keep it optional (the default).",
            ),
            ("static.value", "Static field value, if field name configured."),
        ):
            definition.define(name, ConfigType.STRING, None, None, Importance.MEDIUM, doc)
        return definition.define(
            "replace.null.with.default",
            ConfigType.BOOLEAN,
            True,
            None,
            Importance.MEDIUM,
            "Whether to replace fields that have a default value and that are null to the default value.",
        )

    def setup(self) -> None:
        self.topic = InsertionSpec.parse(self.config.get_string("topic.field"))
        self.partition = InsertionSpec.parse(self.config.get_string("partition.field"))
        self.offset = InsertionSpec.parse(self.config.get_string("offset.field"))
        self.timestamp = InsertionSpec.parse(self.config.get_string("timestamp.field"))
        self.static = InsertionSpec.parse(self.config.get_string("static.field"))
        self.static_value = self.config.get_string("static.value")
        if not any((self.topic, self.partition, self.offset, self.timestamp, self.static)):
            raise ConfigException("topic.field", None, "No field insertion configured")
        if self.static is not None and self.static_value is None:
            raise ConfigException(
                "static.value", None, "No value specified for static field: " + self.static.name
            )
        self.replace_null = self.config.get_bool("replace.null.with.default")
        self.cache = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        value = self.value_of(record)
        schema = self.schema_of(record)
        if value is None and (schema is None or schema.optional):
            return record  # tombstones pass untouched, as in Kafka
        if self.offset is not None:
            require_sink_record(record, PURPOSE)
        if schema is None:
            updated = dict(require_map(value, PURPOSE))
            for spec, inserted in self._insertions(record, with_schema=False):
                updated[spec.name] = inserted
            return self.with_part(record, None, updated)
        struct = require_struct(value, PURPOSE)
        new_schema = self.cache.get_or_build(schema, self._build)
        out = Struct(new_schema)
        for f in schema.fields:
            out.put(f.name, struct.get(f.name) if self.replace_null else struct.get_without_default(f.name))
        for spec, inserted in self._insertions(record, with_schema=True):
            out.put(spec.name, inserted)
        return self.with_part(record, new_schema, out)

    def _insertions(self, record: ConnectRecord, with_schema: bool) -> list[tuple[InsertionSpec, Any]]:
        found: list[tuple[InsertionSpec, Any]] = []
        if self.topic is not None:
            found.append((self.topic, record.topic))
        if self.partition is not None:
            found.append((self.partition, record.kafka_partition))
        if self.offset is not None:
            assert isinstance(record, SinkRecord)
            found.append((self.offset, record.kafka_offset))
        if self.timestamp is not None:
            ts = record.timestamp
            found.append(
                (self.timestamp, logical.millis_to_timestamp(ts) if with_schema and ts is not None else ts)
            )
        if self.static is not None:
            found.append((self.static, self.static_value))
        return found

    def _build(self, schema: Schema) -> Schema:
        builder = copy_basics(schema, SchemaBuilder.struct())
        for f in schema.fields:
            builder.field(f.name, f.schema)
        for spec, field_type in (
            (self.topic, SchemaBuilder(Type.STRING)),
            (self.partition, SchemaBuilder(Type.INT32)),
            (self.offset, SchemaBuilder(Type.INT64)),
            (self.timestamp, SchemaBuilder.int64().name(logical.TIMESTAMP).version(1)),
            (self.static, SchemaBuilder(Type.STRING)),
        ):
            if spec is not None:
                builder.field(spec.name, (field_type.optional() if spec.optional else field_type).build())
        return builder.build()


class InsertFieldKey(InsertField):
    part = Part.KEY
    java_class = "org.apache.kafka.connect.transforms.InsertField$Key"


class InsertFieldValue(InsertField):
    part = Part.VALUE
    java_class = "org.apache.kafka.connect.transforms.InsertField$Value"
