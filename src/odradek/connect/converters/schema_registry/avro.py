"""`AvroConverter` (Confluent's `io.confluent.connect.avro.AvroConverter`): Connect data as Avro
with Confluent's framing, through confluent-kafka's `AvroSerializer`/`AvroDeserializer`, so the
bytes are exactly what Confluent's clients write and read (`avro_data.py` maps the schemas)."""

from __future__ import annotations

import json
from typing import Any

from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import SerializationContext

from odradek.connect.converters.schema_registry.avro_data import (
    from_avro_schema,
    from_avro_value,
    to_avro_schema,
    to_avro_value,
)
from odradek.connect.converters.schema_registry.base import Read, SchemaRegistryConverter, Write
from odradek.connect.data.schema import Schema


class AvroConverter(SchemaRegistryConverter):
    java_class = "io.confluent.connect.avro.AvroConverter"
    format_name = "Avro"

    def writer(self, schema: Schema) -> Write:
        serializer = AvroSerializer(
            self.client, json.dumps(to_avro_schema(schema)), conf=self.serializer_conf
        )

        def write(value: Any, context: SerializationContext) -> bytes:
            return serializer(to_avro_value(schema, value), context)  # type: ignore[no-any-return]

        return write

    def reader(self, schema_id: int) -> tuple[Schema, Read]:
        registered = self.client.get_schema(schema_id)
        schema = from_avro_schema(registered.schema_str)
        deserializer = AvroDeserializer(self.client, registered.schema_str)

        def read(value: bytes, context: SerializationContext) -> Any:
            return from_avro_value(schema, deserializer(value, context))

        return schema, read
