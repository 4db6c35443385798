"""Broker-side schema validation (`confluent.value.schema.validation`, `confluent.key.schema.validation`)
with a real broker, a real registry and confluent-kafka producers."""

from __future__ import annotations

import json
import socket
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from odradek.testing.broker_process import BrokerProcess
from odradek.testing.registry_process import RegistryProcess

SCHEMA = json.dumps({"type": "record", "name": "Event", "fields": [{"name": "n", "type": "int"}]})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BrokerProcess, RegistryProcess]]:
    """A broker told where the registry is, and that registry running against it."""
    port = free_port()
    data = Path(tmp_path_factory.mktemp("validated"))
    broker = BrokerProcess(data / "broker", {"confluent.schema.registry.url": f"http://127.0.0.1:{port}"})
    broker.start()
    registry = RegistryProcess(broker.bootstrap, {}, data / "registry.log", listen=f"127.0.0.1:{port}")
    try:
        registry.start()
        registry.wait_primary()
        yield broker, registry
    finally:
        registry.stop()
        broker.stop()


def create(bootstrap: str, config: dict[str, str]) -> str:
    name = f"validated-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, 1, 1, config=config)])[name].result(15)
    return name


Items = list[tuple[bytes | None, bytes | None]]


def send(bootstrap: str, topic: str, items: Items, **conf: str) -> list[KafkaError | None]:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": "0", "message.timeout.ms": "20000", **conf}
    )
    results: list[KafkaError | None] = []
    for key, value in items:
        producer.produce(topic, key=key, value=value, on_delivery=lambda err, _m: results.append(err))
        producer.flush(30)
    return results


def framed(schema_id: int, body: bytes = b"\x02") -> bytes:
    return b"\x00" + struct.pack(">i", schema_id) + body


def codes(errors: list[KafkaError | None]) -> list[int | None]:
    return [e.code() if e is not None else None for e in errors]


def test_values_must_carry_a_schema_of_the_topics_subject(
    stack: tuple[BrokerProcess, RegistryProcess],
) -> None:
    broker, registry = stack
    topic = create(broker.bootstrap, {"confluent.value.schema.validation": "true"})
    client = SchemaRegistryClient({"url": registry.url})
    serialize = AvroSerializer(client, SCHEMA)
    good = serialize({"n": 1}, SerializationContext(topic, MessageField.VALUE))
    other_id = client.register_schema(f"{topic}-other", Schema('"string"', "AVRO"))
    client.close()
    results = send(
        broker.bootstrap,
        topic,
        [
            (None, good),
            (None, b"plain bytes"),
            (None, framed(other_id)),
            (None, framed(987654)),
            (b"k", None),
        ],
    )
    assert codes(results) == [
        None,
        KafkaError.INVALID_RECORD,
        KafkaError.INVALID_RECORD,
        KafkaError.INVALID_RECORD,
        None,  # a tombstone carries no schema
    ]
    plain = create(broker.bootstrap, {})
    assert codes(send(broker.bootstrap, plain, [(None, b"anything goes")])) == [None]


def test_keys_are_checked_when_asked(stack: tuple[BrokerProcess, RegistryProcess]) -> None:
    broker, registry = stack
    topic = create(broker.bootstrap, {"confluent.key.schema.validation": "true"})
    client = SchemaRegistryClient({"url": registry.url})
    key_id = client.register_schema(f"{topic}-key", Schema('"string"', "AVRO"))
    client.close()
    results = send(broker.bootstrap, topic, [(framed(key_id), b"v"), (b"raw key", b"v"), (None, b"v")])
    assert codes(results) == [None, KafkaError.INVALID_RECORD, None]


def test_an_unreachable_registry_is_retriable_and_loses_nothing(tmp_path: Path) -> None:
    broker = BrokerProcess(
        tmp_path / "b", {"confluent.schema.registry.url": f"http://127.0.0.1:{free_port()}"}
    )
    with broker:
        topic = create(broker.bootstrap, {"confluent.value.schema.validation": "true"})
        results = send(broker.bootstrap, topic, [(None, framed(1))], **{"message.timeout.ms": "2500"})
        assert codes(results) in ([KafkaError._MSG_TIMED_OUT], [KafkaError.REQUEST_TIMED_OUT])


def test_the_config_is_a_topic_config(stack: tuple[BrokerProcess, RegistryProcess]) -> None:
    broker, _ = stack
    from confluent_kafka.admin import ConfigResource

    topic = create(broker.bootstrap, {"confluent.value.schema.validation": "true"})
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    described = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)])
    configs = next(iter(described.values())).result(15)
    assert configs["confluent.value.schema.validation"].value == "true"
    assert configs["confluent.key.schema.validation"].value == "false"


RECORD_NAME_STRATEGY = "io.confluent.kafka.serializers.subject.RecordNameStrategy"
NAMED = json.dumps(
    {"type": "record", "name": "Event", "namespace": "com.acme", "fields": [{"name": "n", "type": "int"}]}
)


def test_record_name_strategies(stack: tuple[BrokerProcess, RegistryProcess]) -> None:
    from confluent_kafka.schema_registry import (
        record_subject_name_strategy,
        topic_record_subject_name_strategy,
    )
    from confluent_kafka.schema_registry.protobuf import ProtobufSerializer
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    broker, registry = stack
    by_record = create(
        broker.bootstrap,
        {
            "confluent.value.schema.validation": "true",
            "confluent.value.subject.name.strategy": RECORD_NAME_STRATEGY,
        },
    )
    by_topic_record = create(
        broker.bootstrap,
        {
            "confluent.value.schema.validation": "true",
            "confluent.value.subject.name.strategy": "TopicRecordNameStrategy",
        },
    )
    client = SchemaRegistryClient({"url": registry.url})
    record_ctx = SerializationContext(by_record, MessageField.VALUE)
    topic_record_ctx = SerializationContext(by_topic_record, MessageField.VALUE)
    as_record = AvroSerializer(client, NAMED, conf={"subject.name.strategy": record_subject_name_strategy})
    as_topic_record = AvroSerializer(
        client, NAMED, conf={"subject.name.strategy": topic_record_subject_name_strategy}
    )
    record_value = as_record({"n": 1}, record_ctx)
    topic_record_value = as_topic_record({"n": 2}, topic_record_ctx)
    other_schema = NAMED.replace('"Event"', '"Other"')
    topic_named = framed(client.register_schema(f"{by_record}-value", Schema(other_schema, "AVRO")))
    # Protobuf: the message's full name
    proto = descriptor_pb2.FileDescriptorProto(name="e.proto", package="com.acme.pb", syntax="proto3")
    proto.message_type.add(name="Reading").field.add(name="n", number=1, type=5, label=1)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    reading = message_factory.GetMessageClass(pool.FindMessageTypeByName("com.acme.pb.Reading"))
    pb = ProtobufSerializer(
        reading,
        client,
        {"use.deprecated.format": False, "subject.name.strategy": record_subject_name_strategy},
    )
    proto_value = pb(reading(n=3), record_ctx)
    assert "com.acme.pb.Reading" in client.get_subjects()
    client.close()
    fresh_id = framed(int.from_bytes(record_value[1:5], "big") + 1000)
    results = send(
        broker.bootstrap,
        by_record,
        [
            (None, record_value),
            (None, proto_value),
            (None, topic_record_value),
            (None, fresh_id),
            (None, topic_named),
        ],
    )
    # the same Avro schema has one id everywhere: registered under com.acme.Event, it passes on
    # by_record; under by_topic_record only <that topic>-com.acme.Event counts
    # an id registered only under <topic>-value (TopicNameStrategy) is not one of com.acme.Other
    assert codes(results) == [None, None, None, KafkaError.INVALID_RECORD, KafkaError.INVALID_RECORD]
    results = send(broker.bootstrap, by_topic_record, [(None, topic_record_value), (None, proto_value)])
    assert codes(results) == [None, KafkaError.INVALID_RECORD]
    # an id registered only under another topic's TopicRecordNameStrategy subject is refused
    other = create(
        broker.bootstrap,
        {
            "confluent.value.schema.validation": "true",
            "confluent.value.subject.name.strategy": "TopicRecordNameStrategy",
        },
    )
    assert codes(send(broker.bootstrap, other, [(None, proto_value)])) == [KafkaError.INVALID_RECORD]
