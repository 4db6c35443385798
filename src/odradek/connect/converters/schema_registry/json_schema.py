"""`JsonSchemaConverter` (Confluent's `io.confluent.connect.json.JsonSchemaConverter`): Connect
data as JSON validated against a registered JSON Schema, with Confluent's framing, through
confluent-kafka's `JSONSerializer`/`JSONDeserializer` (`json_schema_data.py` maps the schemas)."""

from __future__ import annotations

import json
from typing import Any

from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import SerializationError

from odradek.connect.api.errors import DataException
from odradek.connect.api.headers import Headers
from odradek.connect.converters.schema_registry.base import SchemaRegistryConverter, schema_id_of
from odradek.connect.converters.schema_registry.json_schema_data import (
    from_json_schema,
    from_json_value,
    to_json_schema,
    to_json_value,
)
from odradek.connect.data.schema import Schema
from odradek.connect.data.schema_and_value import SchemaAndValue


class JsonSchemaConverter(SchemaRegistryConverter):
    java_class = "io.confluent.connect.json.JsonSchemaConverter"

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if value is None:
            return None
        if schema is None:
            raise DataException("JsonSchemaConverter needs a schema (schemaless data: use the JsonConverter)")
        serializer = self.serializers.remember(
            schema,
            lambda: JSONSerializer(
                json.dumps(to_json_schema(schema)), self.client, conf=self.serializer_conf
            ),
        )
        try:
            return serializer(to_json_value(schema, value), self.context(topic))  # type: ignore[no-any-return]
        except (SerializationError, ValueError, TypeError) as exc:
            raise DataException(f"Failed to serialize JSON Schema data for topic {topic}: {exc}") from exc

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        if value is None:
            return SchemaAndValue(None, None)
        schema_id = schema_id_of(value)

        def reader() -> tuple[Schema, JSONDeserializer]:
            registered = self.client.get_schema(schema_id)
            return (
                from_json_schema(json.loads(registered.schema_str or "{}")),
                JSONDeserializer(registered.schema_str, schema_registry_client=self.client),
            )

        try:
            schema, deserializer = self.readers.remember(schema_id, reader)
            decoded = deserializer(value, self.context(topic))
            return SchemaAndValue(schema, from_json_value(schema, decoded))
        except (SerializationError, ValueError, TypeError, KeyError) as exc:
            raise DataException(f"Failed to deserialize JSON Schema data for topic {topic}: {exc}") from exc
        except DataException:
            raise
        except Exception as exc:
            raise DataException(f"Failed to read JSON schema {schema_id} for topic {topic}: {exc}") from exc
