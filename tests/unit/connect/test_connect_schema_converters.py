"""Avro, JSON Schema and Protobuf converters against confluent-kafka's own serializers: what the
converter writes, Confluent's deserializers read, and the other way round.

The registry here is confluent-kafka's in-memory client (`mock://`), shared by both sides; the
same round trips against odradek's schema registry process are in tests/connect once it ships.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from odradek.connect.api.errors import ConfigException, DataException
from odradek.connect.converters.schema_registry.avro import AvroConverter
from odradek.connect.converters.schema_registry.json_schema import JsonSchemaConverter
from odradek.connect.converters.schema_registry.protobuf import ProtobufConverter
from odradek.connect.converters.schema_registry.protobuf_data import build_message_class
from odradek.connect.data import (
    BYTES_SCHEMA,
    FLOAT64_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    SchemaBuilder,
    Struct,
    Type,
    logical,
)

CTX = SerializationContext("orders", MessageField.VALUE)
ADDRESS = SchemaBuilder.struct().name("com.example.Address").field("city", STRING_SCHEMA).build()
ORDER = (
    SchemaBuilder.struct().name("com.example.Order")
    .field("id", INT64_SCHEMA).field("note", OPTIONAL_STRING_SCHEMA).field("qty", INT32_SCHEMA)
    .field("tags", SchemaBuilder.array(STRING_SCHEMA).build())
    .field("attrs", SchemaBuilder.map(STRING_SCHEMA, INT32_SCHEMA).build())
    .field("ship_to", ADDRESS).field("raw", BYTES_SCHEMA).field("score", FLOAT64_SCHEMA)
    .build()
)  # fmt: skip


def order() -> Struct:
    return (Struct(ORDER).put("id", 7).put("note", None).put("qty", 3).put("tags", ["a", "b"])
            .put("attrs", {"x": 1}).put("ship_to", Struct(ADDRESS).put("city", "Lyon")).put("raw", b"\x01\x02")
            .put("score", 2.5))  # fmt: skip


@pytest.fixture
def client() -> SchemaRegistryClient:
    return SchemaRegistryClient.new_client({"url": "mock://converters"})


def converter(cls: type, client: SchemaRegistryClient, **extra: str) -> Any:
    conv = cls()
    conv.configure({"schema.registry.url": "mock://converters", **extra}, False)
    conv.client = client  # one in-memory registry for both sides
    return conv


def test_avro_written_by_the_converter_reads_in_confluent_and_back(client: SchemaRegistryClient) -> None:
    conv = converter(AvroConverter, client)
    raw = conv.from_connect_data("orders", ORDER, order())
    assert raw[0] == 0  # Confluent framing
    registered = json.loads(client.get_schema(int.from_bytes(raw[1:5], "big")).schema_str)
    assert (
        registered["type"] == "record"
        and registered["name"] == "Order"
        and registered["namespace"] == "com.example"
    )
    assert {"name": "note", "type": ["null", "string"], "default": None} in registered["fields"]
    decoded = AvroDeserializer(client)(raw, CTX)
    assert decoded == {
        "id": 7,
        "note": None,
        "qty": 3,
        "tags": ["a", "b"],
        "attrs": {"x": 1},
        "ship_to": {"city": "Lyon"},
        "raw": b"\x01\x02",
        "score": 2.5,
    }
    assert client.get_latest_version("orders-value").version == 1  # TopicNameStrategy


def test_avro_written_by_confluent_reads_in_the_converter(client: SchemaRegistryClient) -> None:
    schema = {
        "type": "record",
        "name": "Payment",
        "namespace": "acme",
        "fields": [
            {"name": "id", "type": "string"},
            {
                "name": "amount",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
            },
            {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "memo", "type": ["null", "string"], "default": None},
        ],
    }
    raw = AvroSerializer(client, json.dumps(schema))(
        {
            "id": "p1",
            "amount": decimal.Decimal("12.34"),
            "at": dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC),
            "day": dt.date(2024, 5, 6),
            "memo": None,
        },
        CTX,
    )
    result = converter(AvroConverter, client).to_connect_data("orders", raw)
    assert result.schema.name == "acme.Payment"
    assert result.schema.field("amount").schema.name == logical.DECIMAL
    assert result.schema.field("memo").schema.optional
    value = result.value
    assert value.get("amount") == decimal.Decimal("12.34") and value.get("day") == dt.date(2024, 5, 6)
    assert value.get("at") == dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    # and writes back the same Avro body (under its own registration of the equivalent schema)
    again = converter(AvroConverter, client).from_connect_data("orders", result.schema, value)
    assert again[5:] == raw[5:]


def test_json_schema_both_ways(client: SchemaRegistryClient) -> None:
    conv = converter(JsonSchemaConverter, client)
    raw = conv.from_connect_data("orders", ORDER, order())
    decoded = JSONDeserializer(None, schema_registry_client=client)(raw, CTX)
    assert decoded["ship_to"] == {"city": "Lyon"} and decoded["raw"] == "AQI=" and "note" not in decoded
    assert conv.to_connect_data("orders", raw).value == order()
    schema = {
        "type": "object",
        "title": "acme.Event",
        "properties": {"name": {"type": "string"}, "count": {"type": "integer"}, "ok": {"type": "boolean"}},
        "required": ["name", "count"],
    }
    theirs = JSONSerializer(json.dumps(schema), client)({"name": "x", "count": 2, "ok": True}, CTX)
    result = conv.to_connect_data("orders", theirs)
    assert result.schema.name == "acme.Event" and result.schema.field("count").schema.type is Type.INT64
    assert result.schema.field("ok").schema.optional and not result.schema.field("name").schema.optional
    assert (result.value.get("name"), result.value.get("count"), result.value.get("ok")) == ("x", 2, True)


def test_protobuf_both_ways(client: SchemaRegistryClient) -> None:
    schema = (SchemaBuilder.struct().name("acme.Reading").field("sensor", STRING_SCHEMA)
              .field("value", FLOAT64_SCHEMA).field("at", logical.OPTIONAL_TIMESTAMP_SCHEMA)
              .field("labels", SchemaBuilder.map(STRING_SCHEMA, STRING_SCHEMA).optional().build())
              .field("ship_to", ADDRESS.as_optional()).build())  # fmt: skip
    value = (Struct(schema).put("sensor", "s1").put("value", 21.5)
             .put("at", dt.datetime(2024, 1, 1, tzinfo=dt.UTC)).put("labels", {"room": "a"})
             .put("ship_to", Struct(ADDRESS.as_optional()).put("city", "Oslo")))  # fmt: skip
    conv = converter(ProtobufConverter, client)
    raw = conv.from_connect_data("orders", schema, value)
    cls = build_message_class(schema)
    message = ProtobufDeserializer(cls, {"use.deprecated.format": False}, schema_registry_client=client)(
        raw, CTX
    )
    assert (message.sensor, message.value, message.labels["room"], message.ship_to.city) == (
        "s1",
        21.5,
        "a",
        "Oslo",
    )
    assert message.at.ToMilliseconds() == logical.timestamp_to_millis(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    theirs = ProtobufSerializer(cls, client, {"use.deprecated.format": False})(message, CTX)
    back = conv.to_connect_data("orders", theirs)
    assert back.value.get("sensor") == "s1" and back.value.get("labels") == {"room": "a"}
    assert back.value.get("ship_to").get("city") == "Oslo"


def test_protobuf_keeps_int8_int16_date_time_decimal_as_confluent_does(client: SchemaRegistryClient) -> None:
    money = logical.decimal_schema(2)
    schema = (SchemaBuilder.struct().name("acme.Payment").field("tiny", SchemaBuilder.int8().build())
              .field("small", SchemaBuilder.int16().optional().build()).field("day", logical.DATE_SCHEMA)
              .field("at", logical.TIME_SCHEMA).field("amount", money)
              .field("history", SchemaBuilder.array(money).build())
              .field("by_day", SchemaBuilder.map(STRING_SCHEMA, logical.DATE_SCHEMA).build()).build())  # fmt: skip
    value = (Struct(schema).put("tiny", -7).put("small", 300).put("day", dt.date(2024, 2, 29))
             .put("at", dt.time(13, 5, 7, 250_000)).put("amount", decimal.Decimal("-12.34"))
             .put("history", [decimal.Decimal("0.10"), decimal.Decimal("99999.99")])
             .put("by_day", {"a": dt.date(1969, 12, 31)}))  # fmt: skip
    conv = converter(ProtobufConverter, client)
    raw = conv.from_connect_data("orders", schema, value)
    back = conv.to_connect_data("orders", raw)
    types = {f.name: (f.schema.type, f.schema.name) for f in back.schema.fields}
    assert types == {f.name: (f.schema.type, f.schema.name) for f in schema.fields} | {
        "history": (Type.ARRAY, None),
        "by_day": (Type.MAP, None),
    }
    assert back.schema.field("amount").schema.params[logical.SCALE] == "2"
    for field in schema.fields:
        assert back.value.get(field.name) == value.get(field.name), field.name
    # Confluent's message types, readable by confluent-kafka's own deserializer
    message = ProtobufDeserializer(
        build_message_class(schema), {"use.deprecated.format": False}, schema_registry_client=client
    )(raw, CTX)
    assert (message.day.year, message.day.month, message.day.day) == (2024, 2, 29)
    assert (message.at.hours, message.at.minutes, message.at.seconds, message.at.nanos) == (
        13,
        5,
        7,
        250_000_000,
    )
    assert (int.from_bytes(message.amount.value, "big", signed=True), message.amount.scale) == (-1234, 2)
    # the registered file imports Confluent's well-known files (registries know them: no references)
    from google.protobuf import descriptor_pb2

    registered = client.get_latest_version("orders-value").schema
    file = descriptor_pb2.FileDescriptorProto()
    file.ParseFromString(base64.b64decode(registered.schema_str))
    assert set(file.dependency) == {
        "google/type/date.proto",
        "google/type/timeofday.proto",
        "confluent/type/decimal.proto",
        "confluent/meta.proto",
    }


@pytest.mark.parametrize("cls", [AvroConverter, JsonSchemaConverter, ProtobufConverter])
def test_bad_bytes_and_configs(cls: type, client: SchemaRegistryClient) -> None:
    conv = converter(cls, client)
    with pytest.raises(DataException):
        conv.to_connect_data("orders", b"plain text, no magic byte")
    with pytest.raises(DataException):
        conv.to_connect_data("orders", b"\x00\x00\x00\x30\x39payload")  # schema id 12345 unknown
    with pytest.raises(DataException):
        conv.from_connect_data("orders", None, {"schemaless": True})
    assert conv.to_connect_data("orders", None).value is None
    with pytest.raises(ConfigException):
        cls().configure({}, False)
