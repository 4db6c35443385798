"""`JsonSchemaConverter` (Confluent's `io.confluent.connect.json.JsonSchemaConverter`): Connect
data as JSON validated against a registered JSON Schema, with Confluent's framing, through
confluent-kafka's `JSONSerializer`/`JSONDeserializer` (`json_schema_data.py` maps the schemas)."""

from __future__ import annotations

import json
from typing import Any

from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import SerializationContext

from odradek.connect.converters.schema_registry.base import Read, SchemaRegistryConverter, Write
from odradek.connect.converters.schema_registry.json_schema_data import (
    from_json_schema,
    from_json_value,
    to_json_schema,
    to_json_value,
)
from odradek.connect.data.schema import Schema


class JsonSchemaConverter(SchemaRegistryConverter):
    java_class = "io.confluent.connect.json.JsonSchemaConverter"
    format_name = "JSON Schema"

    def writer(self, schema: Schema) -> Write:
        serializer = JSONSerializer(
            json.dumps(to_json_schema(schema)), self.client, conf=self.serializer_conf
        )

        def write(value: Any, context: SerializationContext) -> bytes:
            return serializer(to_json_value(schema, value), context)  # type: ignore[no-any-return]

        return write

    def reader(self, schema_id: int) -> tuple[Schema, Read]:
        registered = self.client.get_schema(schema_id)
        schema = from_json_schema(json.loads(registered.schema_str or "{}"))
        deserializer = JSONDeserializer(registered.schema_str, schema_registry_client=self.client)

        def read(value: bytes, context: SerializationContext) -> Any:
            return from_json_value(schema, deserializer(value, context))

        return schema, read
