"""`ProtobufConverter` (Confluent's `io.confluent.connect.protobuf.ProtobufConverter`): Connect
structs as Protobuf messages with Confluent's framing (schema id and message indexes), through
confluent-kafka's `ProtobufSerializer`/`ProtobufDeserializer`; message classes are generated at
run time from the Connect schema (writing) or from the registered schema (reading, fetched in the
registry's `serialized` format). Mapping and its limits: `protobuf_data.py`."""

from __future__ import annotations

import base64
from typing import Any

from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from odradek.connect.api.errors import DataException
from odradek.connect.converters.schema_registry.base import Read, SchemaRegistryConverter, Write
from odradek.connect.converters.schema_registry.protobuf_data import (
    build_message_class,
    fill,
    read,
    schema_of,
)
from odradek.connect.converters.schema_registry.protobuf_types import add_dependencies
from odradek.connect.data.schema import Schema
from odradek.connect.data.struct import Struct


class ProtobufConverter(SchemaRegistryConverter):
    java_class = "io.confluent.connect.protobuf.ProtobufConverter"
    format_name = "Protobuf"

    def check_writable(self, schema: Schema | None, value: Any) -> Schema:
        if schema is None or not isinstance(value, Struct):
            raise DataException("ProtobufConverter needs a struct with a schema")
        return schema

    def writer(self, schema: Schema) -> Write:
        cls = build_message_class(schema)
        conf = {**self.serializer_conf, "use.deprecated.format": False}
        serializer = ProtobufSerializer(cls, self.client, conf=conf)

        def write(value: Any, context: SerializationContext) -> bytes:
            return serializer(fill(cls(), schema, value), context)  # type: ignore[no-any-return]

        return write

    def reader(self, schema_id: int) -> tuple[Schema, Read]:
        registered = self.client.get_schema(schema_id, fmt="serialized")
        file = descriptor_pb2.FileDescriptorProto()
        file.ParseFromString(base64.b64decode(registered.schema_str or ""))
        pool = descriptor_pool.DescriptorPool()
        add_dependencies(pool, file.dependency)
        pool.Add(file)
        first = file.message_type[0].name
        descriptor = pool.FindMessageTypeByName(f"{file.package}.{first}" if file.package else first)
        cls = message_factory.GetMessageClass(descriptor)
        schema = schema_of(descriptor)
        deserializer = ProtobufDeserializer(
            cls, {"use.deprecated.format": False}, schema_registry_client=self.client
        )

        def decode(value: bytes, context: SerializationContext) -> Any:
            return read(deserializer(value, context), schema)

        return schema, decode
