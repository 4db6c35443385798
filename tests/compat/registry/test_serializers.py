"""confluent-kafka's Avro, JSON Schema and Protobuf serializers end to end: producer → odradek broker →
consumer, schemas registered in odradek's registry on the way (auto-register), evolved, and refused."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext, SerializationError
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from odradek.testing.registry_process import RegistryProcess


@pytest.fixture
def client(registry: RegistryProcess) -> Iterator[SchemaRegistryClient]:
    client = SchemaRegistryClient({"url": registry.url})
    yield client
    client.close()


def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
    for value in values:
        producer.produce(topic, value=value)
    assert producer.flush(15) == 0


def consume(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": topic, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    out: list[bytes] = []
    try:
        for _ in range(100):
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                out.append(msg.value())
                if len(out) == count:
                    break
    finally:
        consumer.close()
    return out


def roundtrip(
    bootstrap: str, topic: str, serialize: Callable[[Any, SerializationContext], bytes], values: list[Any]
) -> list[bytes]:
    ctx = SerializationContext(topic, MessageField.VALUE)
    produce(bootstrap, topic, [serialize(v, ctx) for v in values])
    return consume(bootstrap, topic, len(values))


V1 = {
    "type": "record",
    "name": "Order",
    "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"}],
}
V2 = {**V1, "fields": [*V1["fields"], {"name": "qty", "type": "int", "default": 1}]}
BAD = {**V1, "fields": [{"name": "id", "type": "string"}]}


def test_avro_produce_consume_evolve_refuse(
    client: SchemaRegistryClient, bootstrap: str, topic_name: str
) -> None:
    ctx = SerializationContext(topic_name, MessageField.VALUE)
    v1 = AvroSerializer(client, json.dumps(V1))
    raw = roundtrip(bootstrap, topic_name, v1, [{"id": 1, "item": "tea"}, {"id": 2, "item": "cake"}])
    reader = AvroDeserializer(client)
    assert [reader(r, ctx) for r in raw] == [{"id": 1, "item": "tea"}, {"id": 2, "item": "cake"}]
    # evolve: v2 adds a field with a default; a v2 reader reads v1 data
    v2 = AvroSerializer(client, json.dumps(V2))
    produce(bootstrap, topic_name, [v2({"id": 3, "item": "jam", "qty": 4}, ctx)])
    assert client.get_versions(f"{topic_name}-value") == [1, 2]
    new_reader = AvroDeserializer(client, json.dumps(V2))
    assert new_reader(raw[0], ctx) == {"id": 1, "item": "tea", "qty": 1}
    # refuse: an incompatible change never reaches the topic
    bad = AvroSerializer(client, json.dumps(BAD))
    with pytest.raises((SerializationError, SchemaRegistryError)) as exc:
        bad({"id": "x"}, ctx)
    assert "409" in str(exc.value) or "incompatible" in str(exc.value).lower()


JSON_V1 = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Reading",
    "type": "object",
    "properties": {"sensor": {"type": "string"}, "value": {"type": "number"}},
    "required": ["sensor"],
    "additionalProperties": False,
}


def test_json_schema_produce_consume_evolve_refuse(
    client: SchemaRegistryClient, bootstrap: str, topic_name: str
) -> None:
    ctx = SerializationContext(topic_name, MessageField.VALUE)
    serializer = JSONSerializer(json.dumps(JSON_V1), client, lambda v, _c: v)
    raw = roundtrip(bootstrap, topic_name, serializer, [{"sensor": "s1", "value": 20.5}])
    deserializer = JSONDeserializer(
        json.dumps(JSON_V1), from_dict=lambda v, _c: v, schema_registry_client=client
    )
    assert deserializer(raw[0], ctx) == {"sensor": "s1", "value": 20.5}
    # closed content model: adding an optional property is backward compatible
    v2 = {**JSON_V1, "properties": {**JSON_V1["properties"], "unit": {"type": "string"}}}
    JSONSerializer(json.dumps(v2), client, lambda v, _c: v)({"sensor": "s2", "unit": "C"}, ctx)
    assert client.get_versions(f"{topic_name}-value") == [1, 2]
    # making a property required without a default is not
    v3 = {**v2, "required": ["sensor", "unit"]}
    with pytest.raises((SerializationError, SchemaRegistryError)):
        JSONSerializer(json.dumps(v3), client, lambda v, _c: v)({"sensor": "s3", "unit": "C"}, ctx)


def message_class(
    fields: list[tuple[str, int, int]], name: str = "Measurement", file: str = "m.proto"
) -> Any:
    proto = descriptor_pb2.FileDescriptorProto(name=file, package="odradek.test", syntax="proto3")
    message = proto.message_type.add(name=name)
    for field_name, number, field_type in fields:
        message.field.add(name=field_name, number=number, type=field_type, label=1)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"odradek.test.{name}"))


F = descriptor_pb2.FieldDescriptorProto


def test_protobuf_produce_consume_evolve_refuse(
    client: SchemaRegistryClient, bootstrap: str, topic_name: str
) -> None:
    ctx = SerializationContext(topic_name, MessageField.VALUE)
    v1 = message_class([("sensor", 1, F.TYPE_STRING), ("value", 2, F.TYPE_DOUBLE)])
    serializer = ProtobufSerializer(v1, client, {"use.deprecated.format": False})
    raw = roundtrip(bootstrap, topic_name, serializer, [v1(sensor="s1", value=1.5)])
    deserializer = ProtobufDeserializer(v1, {"use.deprecated.format": False})
    got = deserializer(raw[0], ctx)
    assert (got.sensor, got.value) == ("s1", 1.5)
    registered = client.get_latest_version(f"{topic_name}-value")
    assert registered.schema.schema_type == "PROTOBUF"
    # evolve: a new field number is compatible
    v2 = message_class(
        [("sensor", 1, F.TYPE_STRING), ("value", 2, F.TYPE_DOUBLE), ("unit", 3, F.TYPE_STRING)]
    )
    ProtobufSerializer(v2, client, {"use.deprecated.format": False})(v2(sensor="s2", unit="C"), ctx)
    assert client.get_versions(f"{topic_name}-value") == [1, 2]
    # refuse: field 2 from double to string changes its wire type
    bad = message_class([("sensor", 1, F.TYPE_STRING), ("value", 2, F.TYPE_STRING)])
    with pytest.raises((SerializationError, SchemaRegistryError)):
        ProtobufSerializer(bad, client, {"use.deprecated.format": False})(bad(sensor="s3", value="x"), ctx)
