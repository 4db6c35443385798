"""Serdes in Confluent's schema-registry wire format (magic byte 0, 4-byte schema id, payload):
Avro, JSON Schema and Protobuf, through confluent-kafka's own schema-registry serializers, so the
bytes are exactly what every Confluent-compatible client writes and reads.

    registry = {"url": "http://127.0.0.1:8081"}
    orders = avro_serde(registry, ORDER_SCHEMA)                 # dicts <-> Avro
    builder.stream("orders", value_serde=orders)

Subjects follow the serializer's naming strategy (topic name by default: `{topic}-value`). Records
in state stores and changelogs use the store's changelog topic as the subject topic; a serde nested
inside another one (a windowed key, a joined pair) uses `internal_subject_topic`.

confluent-kafka's avro, json and protobuf extras are odradek dependencies (Connect uses them too).
"""

from __future__ import annotations

from typing import Any

from odradek.streams.errors import SerializationError
from odradek.streams.serdes import Headers, Serde

INTERNAL_SUBJECT_TOPIC = "odradek-streams-internal"


def registry_client(registry: Any) -> Any:
    """A `SchemaRegistryClient` from a client, a URL, or a config dict (`{"url": ...}`)."""
    from confluent_kafka.schema_registry import SchemaRegistryClient

    if isinstance(registry, SchemaRegistryClient):
        return registry
    conf = {"url": registry} if isinstance(registry, str) else dict(registry)
    return SchemaRegistryClient.new_client(conf)  # `mock://...` gives confluent's in-memory client


class SchemaRegistrySerde(Serde[Any]):
    def __init__(
        self,
        name: str,
        serializer: Any,
        deserializer: Any,
        is_key: bool,
        internal_subject_topic: str = INTERNAL_SUBJECT_TOPIC,
    ) -> None:
        self.name = name
        self.serializer = serializer
        self.deserializer = deserializer
        self.is_key = is_key
        self.internal_subject_topic = internal_subject_topic

    def _context(self, topic: str, headers: Headers | None) -> Any:
        from confluent_kafka.serialization import MessageField, SerializationContext

        field = MessageField.KEY if self.is_key else MessageField.VALUE
        return SerializationContext(topic or self.internal_subject_topic, field, headers)  # type: ignore[arg-type]

    def serialize(self, topic: str, obj: Any, headers: Headers | None = None) -> bytes | None:
        if obj is None:
            return None
        try:
            return self.serializer(obj, self._context(topic, headers))  # type: ignore[no-any-return]
        except Exception as exc:
            raise SerializationError(f"{self.name} serializer: {exc}") from exc

    def deserialize(self, topic: str, data: bytes | None, headers: Headers | None = None) -> Any:
        if data is None:
            return None
        try:
            return self.deserializer(data, self._context(topic, headers))
        except Exception as exc:
            raise SerializationError(f"{self.name} deserializer: {exc}") from exc

    def close(self) -> None:
        """Close the registry client's HTTP connections (shared by this serde's two halves)."""
        client = getattr(self.serializer, "_registry", None)
        if client is not None and hasattr(client, "close"):
            client.close()

    def to_bytes(self, obj: Any) -> bytes:
        data = self.serialize("", obj)
        assert data is not None
        return data

    def from_bytes(self, data: bytes) -> Any:
        return self.deserialize("", data)


def avro_serde(
    registry: Any,
    schema_str: str,
    *,
    is_key: bool = False,
    conf: dict[str, Any] | None = None,
    to_dict: Any = None,
    from_dict: Any = None,
) -> SchemaRegistrySerde:
    """Avro: Python dicts (or objects through `to_dict`/`from_dict`) <-> Avro with `schema_str`."""
    from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer

    client = registry_client(registry)
    serializer = AvroSerializer(client, schema_str, to_dict, conf)
    deserializer = AvroDeserializer(client, schema_str, from_dict)
    return SchemaRegistrySerde("avro", serializer, deserializer, is_key)


def json_schema_serde(
    registry: Any,
    schema_str: str,
    *,
    is_key: bool = False,
    conf: dict[str, Any] | None = None,
    to_dict: Any = None,
    from_dict: Any = None,
) -> SchemaRegistrySerde:
    """JSON Schema: values are validated against `schema_str` both ways."""
    from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer

    client = registry_client(registry)
    serializer = JSONSerializer(schema_str, client, to_dict, conf)
    deserializer = JSONDeserializer(schema_str, from_dict, schema_registry_client=client)
    return SchemaRegistrySerde("json-schema", serializer, deserializer, is_key)


def protobuf_serde(
    registry: Any, message_type: Any, *, is_key: bool = False, conf: dict[str, Any] | None = None
) -> SchemaRegistrySerde:
    """Protobuf: instances of the generated class `message_type`."""
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer

    client = registry_client(registry)
    serializer = ProtobufSerializer(message_type, client, {"use.deprecated.format": False, **(conf or {})})
    deserializer = ProtobufDeserializer(message_type, {"use.deprecated.format": False})
    return SchemaRegistrySerde("protobuf", serializer, deserializer, is_key)
