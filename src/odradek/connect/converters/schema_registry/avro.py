"""`AvroConverter` (Confluent's `io.confluent.connect.avro.AvroConverter`): Connect data as Avro
with Confluent's framing, through confluent-kafka's `AvroSerializer`/`AvroDeserializer`, so the
bytes are exactly what Confluent's clients write and read (`avro_data.py` maps the schemas)."""

from __future__ import annotations

import json
from typing import Any

from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import SerializationError

from odradek.connect.api.errors import DataException
from odradek.connect.api.headers import Headers
from odradek.connect.converters.schema_registry.avro_data import (
    from_avro_schema,
    from_avro_value,
    to_avro_schema,
    to_avro_value,
)
from odradek.connect.converters.schema_registry.base import SchemaRegistryConverter, schema_id_of
from odradek.connect.data.schema import Schema
from odradek.connect.data.schema_and_value import SchemaAndValue


class AvroConverter(SchemaRegistryConverter):
    java_class = "io.confluent.connect.avro.AvroConverter"

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if value is None:
            return None
        if schema is None:
            raise DataException("AvroConverter needs a schema (schemaless data: use the JsonConverter)")
        serializer = self.serializers.remember(
            schema,
            lambda: AvroSerializer(
                self.client, json.dumps(to_avro_schema(schema)), conf=self.serializer_conf
            ),
        )
        try:
            return serializer(to_avro_value(schema, value), self.context(topic))  # type: ignore[no-any-return]
        except (SerializationError, ValueError, TypeError) as exc:
            raise DataException(f"Failed to serialize Avro data from topic {topic}: {exc}") from exc

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        if value is None:
            return SchemaAndValue(None, None)
        schema_id = schema_id_of(value)

        def reader() -> tuple[Schema, AvroDeserializer]:
            registered = self.client.get_schema(schema_id)
            return from_avro_schema(registered.schema_str), AvroDeserializer(
                self.client, registered.schema_str
            )

        try:
            schema, deserializer = self.readers.remember(schema_id, reader)
            decoded = deserializer(value, self.context(topic))
        except (SerializationError, ValueError, TypeError, KeyError) as exc:
            raise DataException(f"Failed to deserialize Avro data from topic {topic}: {exc}") from exc
        except Exception as exc:  # registry errors (unknown id, unreachable)
            raise DataException(f"Failed to read Avro schema {schema_id} for topic {topic}: {exc}") from exc
        return SchemaAndValue(schema, from_avro_value(schema, decoded))
