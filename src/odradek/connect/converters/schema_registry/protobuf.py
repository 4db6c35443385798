"""`ProtobufConverter` (Confluent's `io.confluent.connect.protobuf.ProtobufConverter`): Connect
structs as Protobuf messages with Confluent's framing (schema id and message indexes), through
confluent-kafka's `ProtobufSerializer`/`ProtobufDeserializer`; message classes are generated at
run time from the Connect schema (writing) or from the registered schema (reading, fetched in the
registry's `serialized` format). Mapping and its limits: `protobuf_data.py`."""

from __future__ import annotations

import base64
from typing import Any

from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import SerializationError
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from odradek.connect.api.errors import DataException
from odradek.connect.api.headers import Headers
from odradek.connect.converters.schema_registry.base import SchemaRegistryConverter, schema_id_of
from odradek.connect.converters.schema_registry.protobuf_data import (
    build_message_class,
    fill,
    read,
    schema_of,
)
from odradek.connect.converters.schema_registry.protobuf_types import add_dependencies
from odradek.connect.data.schema import Schema
from odradek.connect.data.schema_and_value import SchemaAndValue
from odradek.connect.data.struct import Struct


class ProtobufConverter(SchemaRegistryConverter):
    java_class = "io.confluent.connect.protobuf.ProtobufConverter"

    def from_connect_data(
        self, topic: str, schema: Schema | None, value: Any, headers: Headers | None = None
    ) -> bytes | None:
        if value is None:
            return None
        if schema is None or not isinstance(value, Struct):
            raise DataException("ProtobufConverter needs a struct with a schema")

        def build() -> tuple[Any, ProtobufSerializer]:
            cls = build_message_class(schema)
            conf = {**self.serializer_conf, "use.deprecated.format": False}
            return cls, ProtobufSerializer(cls, self.client, conf=conf)

        cls, serializer = self.serializers.remember(schema, build)
        try:
            return serializer(fill(cls(), schema, value), self.context(topic))  # type: ignore[no-any-return]
        except (SerializationError, ValueError, TypeError) as exc:
            raise DataException(f"Failed to serialize Protobuf data for topic {topic}: {exc}") from exc

    def to_connect_data(
        self, topic: str, value: bytes | None, headers: Headers | None = None
    ) -> SchemaAndValue:
        if value is None:
            return SchemaAndValue(None, None)
        schema_id = schema_id_of(value)

        def reader() -> tuple[Schema, ProtobufDeserializer]:
            registered = self.client.get_schema(schema_id, fmt="serialized")
            file = descriptor_pb2.FileDescriptorProto()
            file.ParseFromString(base64.b64decode(registered.schema_str or ""))
            pool = descriptor_pool.DescriptorPool()
            add_dependencies(pool, file.dependency)
            pool.Add(file)
            first = file.message_type[0].name
            descriptor = pool.FindMessageTypeByName(f"{file.package}.{first}" if file.package else first)
            cls = message_factory.GetMessageClass(descriptor)
            conf = {"use.deprecated.format": False}
            return schema_of(descriptor), ProtobufDeserializer(cls, conf, schema_registry_client=self.client)

        try:
            schema, deserializer = self.readers.remember(schema_id, reader)
            message = deserializer(value, self.context(topic))
            return SchemaAndValue(schema, read(message, schema))
        except (SerializationError, ValueError, TypeError, KeyError) as exc:
            raise DataException(f"Failed to deserialize Protobuf data for topic {topic}: {exc}") from exc
        except DataException:
            raise
        except Exception as exc:
            raise DataException(
                f"Failed to read Protobuf schema {schema_id} for topic {topic}: {exc}"
            ) from exc
