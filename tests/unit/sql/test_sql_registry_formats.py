"""AVRO, PROTOBUF and JSON_SR without a broker: confluent-kafka's in-memory registry (`mock://`), its
serializers writing what SQL reads and its deserializers reading what SQL writes, schema inference,
and the errors for bad records and unsupported types."""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.confluent import meta_pb2
from confluent_kafka.schema_registry.confluent.type import decimal_utils
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from odradek.sql import types as t
from odradek.sql.compiler.registry_serdes import RegistryKeySerde, RegistryRowSerde, SchemaRegistry
from odradek.sql.errors import KsqlError
from odradek.sql.schema import Column, Namespace
from odradek.sql.testing import SqlTestDriver
from odradek.streams.errors import SerializationError

COLUMNS = (
    Column("ID", t.BIGINT),
    Column("NAME", t.STRING),
    Column("TS", t.TIMESTAMP),
    Column("TAGS", t.array(t.STRING)),
    Column("M", t.map_of(t.STRING, t.INTEGER)),
    Column("S", t.struct([("A", t.INTEGER), ("B", t.STRING)])),
    Column("AMT", t.decimal(10, 2)),
    Column("D", t.DATE),
    Column("T", t.TIME),
)
ROW = {
    "ID": 5,
    "NAME": "x",
    "TS": datetime.datetime(2024, 1, 2, 3, 4, 5, 6000),
    "TAGS": ["a", "b"],
    "M": {"k": 1},
    "S": {"A": 1, "B": "z"},
    "AMT": decimal.Decimal("-1.25"),
    "D": datetime.date(2024, 2, 29),
    "T": datetime.time(23, 59, 58, 123000),
}


@pytest.fixture
def registry() -> Iterator[SchemaRegistry]:
    reg = SchemaRegistry(f"mock://{uuid.uuid4().hex[:8]}")
    yield reg
    reg.close()


def ctx(topic: str, key: bool = False) -> SerializationContext:
    return SerializationContext(topic, MessageField.KEY if key else MessageField.VALUE)


@pytest.mark.parametrize("fmt", ["AVRO", "PROTOBUF", "JSON_SR"])
def test_round_trip_and_inference(registry: SchemaRegistry, fmt: str) -> None:
    columns, row = COLUMNS, ROW
    serde = RegistryRowSerde(registry, fmt, columns, True, False)
    data = serde.serialize("orders", row)
    assert data is not None and data[0] == 0
    assert serde.deserialize("orders", data) == row
    assert registry.infer("orders", fmt, False, None) == list(columns)
    decoded = registry.decode(data)
    assert decoded is not None and decoded[0] == fmt and decoded[1]["NAME"] == "x"
    assert registry.decode(b"plain") is None
    with pytest.raises(SerializationError, match="magic byte"):
        serde.deserialize("orders", b'{"ID": 1}')
    with pytest.raises(SerializationError, match="schema id 4242"):
        serde.deserialize("orders", b"\x00\x00\x00\x10\x92xx")


def test_confluent_deserializers_read_what_sql_writes(registry: SchemaRegistry) -> None:
    avro = RegistryRowSerde(registry, "AVRO", COLUMNS, True, False)
    read = AvroDeserializer(registry.client)(avro.serialize("a", ROW), ctx("a"))
    assert {**read, "TS": read["TS"].replace(tzinfo=None)} == ROW

    # Protobuf: the layout ksqlDB (Confluent's ProtobufConverter) writes, read by Confluent's deserializer
    pb = RegistryRowSerde(registry, "PROTOBUF", COLUMNS[6:], True, False)
    message = ProtobufDeserializer(_logical_class("ConnectDefault1"), {"use.deprecated.format": False})(
        pb.serialize("p", ROW), ctx("p")
    )
    assert decimal_utils.from_proto_decimal(message.AMT) == decimal.Decimal("-1.25")
    assert (message.D.year, message.D.month, message.D.day) == (2024, 2, 29)
    assert (message.T.hours, message.T.minutes, message.T.seconds, message.T.nanos) == (
        23,
        59,
        58,
        123_000_000,
    )
    registered = descriptor_pb2.FileDescriptorProto.FromString(
        base64.b64decode(registry.latest("p-value")[1].schema_str)
    )
    assert list(registered.dependency) == [
        "confluent/meta.proto", "confluent/type/decimal.proto", "google/type/date.proto", "google/type/timeofday.proto"
    ]  # fmt: skip
    amt = registered.message_type[0].field[0]
    assert amt.type_name == ".confluent.type.Decimal"
    assert dict(amt.options.Extensions[meta_pb2.field_meta].params) == {"precision": "10", "scale": "2"}
    key = RegistryKeySerde(
        RegistryRowSerde(registry, "AVRO", (Column("K", t.STRING, Namespace.KEY),), False, True), ["K"]
    )
    assert AvroDeserializer(registry.client)(key.serialize("a", ("abc",)), ctx("a", key=True)) == "abc"
    assert registry.latest("a-key")[1].schema_str == '"string"'

    js = RegistryRowSerde(registry, "JSON_SR", COLUMNS[:2], True, False)
    data = js.serialize("j", {"ID": 1, "NAME": "n"})
    schema = registry.latest("j-value")[1]
    assert JSONDeserializer(schema.schema_str, schema_registry_client=registry.client)(data, ctx("j")) == {
        "ID": 1,
        "NAME": "n",
    }


def _logical_class(name: str) -> Any:
    """A message with a confluent.type.Decimal (precision 10, scale 2), a google.type.Date and a
    google.type.TimeOfDay field, as Confluent's ProtobufConverter lays DECIMAL, DATE and TIME out."""
    file = descriptor_pb2.FileDescriptorProto(name=f"{name}.proto", syntax="proto3")
    file.dependency.extend(["confluent/meta.proto", "confluent/type/decimal.proto", "google/type/date.proto",
                            "google/type/timeofday.proto"])  # fmt: skip
    message = file.message_type.add(name=name)
    fd = descriptor_pb2.FieldDescriptorProto
    amt = message.field.add(name="AMT", number=1, type=fd.TYPE_MESSAGE, type_name=".confluent.type.Decimal")
    amt.options.Extensions[meta_pb2.field_meta].params.update({"precision": "10", "scale": "2"})
    message.field.add(name="D", number=2, type=fd.TYPE_MESSAGE, type_name=".google.type.Date")
    message.field.add(name="T", number=3, type=fd.TYPE_MESSAGE, type_name=".google.type.TimeOfDay")
    descriptor_pool.Default().Add(file) if name not in _ADDED else None
    _ADDED.add(name)
    return message_factory.GetMessageClass(descriptor_pool.Default().FindMessageTypeByName(name))


_ADDED: set[str] = set()


def _order_class() -> Any:
    file = descriptor_pb2.FileDescriptorProto(name="order.proto", package="shop", syntax="proto3")
    message = file.message_type.add(name="Order")
    fd = descriptor_pb2.FieldDescriptorProto
    message.field.add(name="id", number=1, type=fd.TYPE_INT32, label=fd.LABEL_OPTIONAL)
    message.field.add(name="customer", number=2, type=fd.TYPE_STRING, label=fd.LABEL_OPTIONAL)
    message.field.add(name="tags", number=3, type=fd.TYPE_STRING, label=fd.LABEL_REPEATED)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("shop.Order"))


ORDER_AVRO = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "fields": [
            {"name": "id", "type": "int"},
            {"name": "customer", "type": ["null", "string"]},
            {
                "name": "amount",
                "type": {"type": "bytes", "logicalType": "decimal", "precision": 8, "scale": 2},
            },
        ],
    }
)


def test_sql_reads_confluent_serializers_and_writes_registered_outputs(registry: SchemaRegistry) -> None:
    with SqlTestDriver(registry=registry) as sql:
        # Avro: columns inferred from the subject the serializer registered
        writer = AvroSerializer(registry.client, ORDER_AVRO)
        sql.produce_raw(
            "orders",
            None,
            writer({"id": 1, "customer": "ada", "amount": decimal.Decimal("2.50")}, ctx("orders")),
            1,
        )
        sql.execute("CREATE STREAM orders WITH (kafka_topic='orders', value_format='AVRO', partitions=1);")
        assert [str(c) for c in sql.source("ORDERS").schema.columns] == [
            "`ID` INTEGER",
            "`CUSTOMER` STRING",
            "`AMOUNT` DECIMAL(8, 2)",
        ]
        sql.execute(
            "CREATE TABLE totals WITH (format='AVRO') AS SELECT customer, SUM(amount) AS total FROM orders GROUP BY customer;"
        )
        sql.produce_raw(
            "orders",
            None,
            writer({"id": 2, "customer": "ada", "amount": decimal.Decimal("1.25")}, ctx("orders")),
            2,
        )
        sql.produce_raw(
            "orders",
            None,
            writer({"id": 3, "customer": None, "amount": decimal.Decimal("1")}, ctx("orders")),
            3,
        )
        assert sql.read("totals")[-1] == ({"CUSTOMER": "ada"}, {"TOTAL": decimal.Decimal("3.75")})
        key, value, _ = sql.raw("TOTALS")[-1]
        assert AvroDeserializer(registry.client)(key, ctx("TOTALS", key=True)) == "ada"
        assert AvroDeserializer(registry.client)(value, ctx("TOTALS")) == {"TOTAL": decimal.Decimal("3.75")}

        # Protobuf in, JSON_SR out
        order = _order_class()
        pb = ProtobufSerializer(order, registry.client, {"use.deprecated.format": False})
        sql.produce_raw("pb", b"k", pb(order(id=7, customer="cy", tags=["a", "b"]), ctx("pb")), 5)
        sql.execute("CREATE STREAM pb WITH (kafka_topic='pb', value_format='PROTOBUF', partitions=1);")
        assert [str(c) for c in sql.source("PB").schema.columns] == [
            "`ID` INTEGER",
            "`CUSTOMER` STRING",
            "`TAGS` ARRAY<STRING>",
        ]
        sql.execute(
            "CREATE STREAM js WITH (value_format='JSON_SR') AS SELECT id, ARRAY_LENGTH(tags) AS n FROM pb;"
        )
        sql.produce_raw("pb", b"k", pb(order(id=8, customer="dee", tags=["x"]), ctx("pb")), 6)
        assert sql.read("js") == [(None, {"ID": 7, "N": 2}), (None, {"ID": 8, "N": 1})]
        schema = registry.latest("JS-value")[1]
        assert schema.schema_type == "JSON"
        _, value, _ = sql.raw("JS")[-1]
        assert JSONDeserializer(schema.schema_str, schema_registry_client=registry.client)(
            value, ctx("JS")
        ) == {"ID": 8, "N": 1}

        # a record not in the registry's wire format is skipped by the query (deserialization handler)
        sql.produce_raw("pb", b"k", b"not protobuf", 7)
        assert sql.read("js") == []


def test_statement_errors() -> None:
    with SqlTestDriver() as sql, pytest.raises(KsqlError, match="needs a schema registry"):
        sql.execute(
            "CREATE STREAM a (v STRING) WITH (kafka_topic='a', value_format='JSON_SR', partitions=1);"
        )
    with SqlTestDriver(registry=SchemaRegistry(f"mock://{uuid.uuid4().hex[:8]}")) as sql:
        with pytest.raises(KsqlError, match="PROTOBUF format supports only STRING map keys"):
            sql.execute(
                "CREATE STREAM b (v MAP<INT, STRING>) WITH (kafka_topic='b', value_format='PROTOBUF', partitions=1);"
            )
        with pytest.raises(KsqlError, match="PROTOBUF format does not support ARRAY<ARRAY<INTEGER>>"):
            sql.execute(
                "CREATE STREAM b2 (v ARRAY<ARRAY<INT>>) WITH (kafka_topic='b2', value_format='PROTOBUF', partitions=1);"
            )
        with pytest.raises(KsqlError, match="could not be inferred"):
            sql.execute("CREATE STREAM c WITH (kafka_topic='c', value_format='AVRO', partitions=1);")
