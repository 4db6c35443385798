"""The schema-registry converters against odradek's own registry (a real `odradek registry`
process): what they write, confluent-kafka's deserializers read, and the other way round."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from odradek.connect.converters.schema_registry.avro import AvroConverter
from odradek.connect.converters.schema_registry.json_schema import JsonSchemaConverter
from odradek.connect.converters.schema_registry.protobuf import ProtobufConverter
from odradek.connect.converters.schema_registry.protobuf_data import build_message_class
from odradek.connect.data import (
    FLOAT64_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    SchemaBuilder,
    Struct,
    logical,
)
from odradek.testing.registry_process import RegistryProcess

SCHEMA = (SchemaBuilder.struct().name("shop.Order").field("id", INT64_SCHEMA).field("who", STRING_SCHEMA)
          .field("note", OPTIONAL_STRING_SCHEMA).field("total", FLOAT64_SCHEMA).build())  # fmt: skip


def value() -> Struct:
    return Struct(SCHEMA).put("id", 1).put("who", "ada").put("note", None).put("total", 9.5)


@pytest.fixture(scope="module")
def registry(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("registry") / "registry.log"
    unique = uuid.uuid4().hex[:6]
    settings = {
        "kafkastore.topic": f"_schemas-connect-{unique}",
        "schema.registry.group.id": f"connect-{unique}",
    }
    proc = RegistryProcess(bootstrap, settings, log)
    proc.start()
    proc.wait_primary()
    try:
        yield proc.url
    finally:
        proc.stop()


@pytest.fixture
def converter() -> Iterator[Any]:
    made: list[Any] = []

    def make(cls: type, url: str) -> Any:
        conv = cls()
        conv.configure({"schema.registry.url": url}, False)
        made.append(conv)
        return conv

    yield make
    for conv in made:
        conv.close()


@pytest.fixture
def client(registry: str) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient({"url": registry}) as sr:
        yield sr


@pytest.mark.parametrize("cls", [AvroConverter, JsonSchemaConverter, ProtobufConverter])
def test_round_trip_through_odradeks_registry(
    cls: type, registry: str, topic_name: str, converter: Any, client: SchemaRegistryClient
) -> None:
    raw = converter(cls, registry).from_connect_data(topic_name, SCHEMA, value())
    back = converter(cls, registry).to_connect_data(
        topic_name, raw
    )  # a fresh converter: reads the schema by id
    assert back.value.get("id") == 1 and back.value.get("who") == "ada" and back.value.get("total") == 9.5
    ctx = SerializationContext(topic_name, MessageField.VALUE)
    if cls is AvroConverter:
        assert AvroDeserializer(client)(raw, ctx) == {"id": 1, "who": "ada", "note": None, "total": 9.5}
    elif cls is JsonSchemaConverter:
        assert JSONDeserializer(None, schema_registry_client=client)(raw, ctx) == {
            "id": 1,
            "who": "ada",
            "total": 9.5,
        }
    else:
        message = ProtobufDeserializer(
            build_message_class(SCHEMA), {"use.deprecated.format": False}, schema_registry_client=client
        )(raw, ctx)
        assert (message.id, message.who, message.total) == (1, "ada", 9.5)
    assert f"{topic_name}-value" in client.get_subjects()


def test_protobuf_logical_types_through_odradeks_registry(
    registry: str, topic_name: str, converter: Any
) -> None:
    schema = (SchemaBuilder.struct().name("shop.Line").field("qty", SchemaBuilder.int16().build())
              .field("day", logical.DATE_SCHEMA).field("at", logical.TIME_SCHEMA)
              .field("price", logical.decimal_schema(2)).build())  # fmt: skip
    line = (Struct(schema).put("qty", 3).put("day", dt.date(2025, 1, 31)).put("at", dt.time(8, 30))
            .put("price", decimal.Decimal("19.99")))  # fmt: skip
    raw = converter(ProtobufConverter, registry).from_connect_data(topic_name, schema, line)
    back = converter(ProtobufConverter, registry).to_connect_data(topic_name, raw)
    assert [(f.name, f.schema.type, f.schema.name) for f in back.schema.fields] == [
        (f.name, f.schema.type, f.schema.name) for f in schema.fields
    ]
    assert [back.value.get(f.name) for f in schema.fields] == [line.get(f.name) for f in schema.fields]


def test_avro_written_by_confluent_through_odradeks_registry(
    registry: str, topic_name: str, converter: Any, client: SchemaRegistryClient
) -> None:
    schema = {
        "type": "record",
        "name": "Payment",
        "namespace": "acme",
        "fields": [
            {
                "name": "amount",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
            },
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        ],
    }
    raw = AvroSerializer(client, json.dumps(schema))(
        {"amount": decimal.Decimal("3.10"), "at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)},
        SerializationContext(topic_name, MessageField.VALUE),
    )
    result = converter(AvroConverter, registry).to_connect_data(topic_name, raw)
    assert result.schema.name == "acme.Payment"
    assert result.value.get("amount") == decimal.Decimal("3.10")
    assert result.schema.field("at").schema.name == logical.TIMESTAMP


def test_file_pipeline_with_avro_values(standalone, registry: str, topic_name: str, tmp_path: Path) -> None:
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("alpha\nbeta\n")
    herder = standalone(
        **{
            "value.converter": "io.confluent.connect.avro.AvroConverter",
            "value.converter.schema.registry.url": registry,
        }
    )
    herder.put_connector_config(
        "src",
        {"connector.class": "FileStreamSource", "file": str(source), "topic": topic_name},
        allow_replace=False,
    )
    herder.put_connector_config(
        "snk",
        {"connector.class": "FileStreamSink", "file": str(sink), "topics": topic_name},
        allow_replace=False,
    )
    from connect_helpers import wait_for

    wait_for(lambda: sink.exists() and sink.read_text() == "alpha\nbeta\n", what="Avro pipeline")
