"""Schemas with Confluent schema references (a Protobuf import, an Avro named type, a JSON Schema
`$ref` registered as subjects of their own): SQL infers columns through the references and reads
and writes records whose schema has them."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from odradek.sql import types as t
from odradek.sql.compiler.registry_schemas import UnsupportedSchema, columns_of_json
from odradek.sql.compiler.registry_serdes import RegistryRowSerde, SchemaRegistry
from odradek.sql.schema import Column, Namespace

_FD = descriptor_pb2.FieldDescriptorProto
CUSTOMER = t.struct([("NAME", t.STRING), ("TIER", t.INTEGER)])
COLUMNS = [Column("ID", t.BIGINT), Column("CUSTOMER", CUSTOMER), Column("OTHERS", t.array(CUSTOMER))]
ROW = {"ID": 7, "CUSTOMER": {"NAME": "ada", "TIER": 2}, "OTHERS": [{"NAME": "bob", "TIER": 1}]}


@pytest.fixture
def registry() -> Iterator[SchemaRegistry]:
    reg = SchemaRegistry(f"mock://{uuid.uuid4().hex[:8]}")
    yield reg
    reg.close()


def ctx(topic: str) -> SerializationContext:
    return SerializationContext(topic, MessageField.VALUE)


def order_class() -> Any:
    """shop.Order in order.proto, importing shop.Customer from common/customer.proto."""
    common = descriptor_pb2.FileDescriptorProto(name="common/customer.proto", package="shop", syntax="proto3")
    customer = common.message_type.add(name="Customer")
    customer.field.add(name="name", number=1, type=_FD.TYPE_STRING, label=_FD.LABEL_OPTIONAL)
    customer.field.add(name="tier", number=2, type=_FD.TYPE_INT32, label=_FD.LABEL_OPTIONAL)
    order = descriptor_pb2.FileDescriptorProto(name="shop/order.proto", package="shop", syntax="proto3")
    order.dependency.append("common/customer.proto")
    message = order.message_type.add(name="Order")
    message.field.add(name="id", number=1, type=_FD.TYPE_INT64, label=_FD.LABEL_OPTIONAL)
    message.field.add(
        name="customer", number=2, type=_FD.TYPE_MESSAGE, type_name=".shop.Customer", label=_FD.LABEL_OPTIONAL
    )
    message.field.add(
        name="others", number=3, type=_FD.TYPE_MESSAGE, type_name=".shop.Customer", label=_FD.LABEL_REPEATED
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(common)
    pool.Add(order)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("shop.Order"))


def test_protobuf_import_through_a_reference(registry: SchemaRegistry) -> None:
    order = order_class()
    writer = ProtobufSerializer(order, registry.client, {"use.deprecated.format": False})
    msg = order(id=7)
    msg.customer.name, msg.customer.tier = "ada", 2
    msg.others.add(name="bob", tier=1)
    data = writer(msg, ctx("orders"))
    registered = registry.latest("orders-value")[1]
    assert [r.name for r in registered.references] == ["common/customer.proto"]

    assert registry.infer("orders", "PROTOBUF", False, None) == COLUMNS
    serde = RegistryRowSerde(registry, "PROTOBUF", tuple(COLUMNS), True, False)
    assert serde.deserialize("orders", data) == ROW
    decoded = registry.decode(data)
    assert decoded is not None and decoded[1]["customer"] == {"name": "ada", "tier": 2}

    # writing with the referencing schema (VALUE_SCHEMA_ID): Confluent's deserializer reads it
    schema_id = registry.latest("orders-value")[0]
    pinned = RegistryRowSerde(registry, "PROTOBUF", tuple(COLUMNS), True, False, schema_id=schema_id)
    out = pinned.serialize("copy", ROW)
    assert out is not None and out[1:5] == schema_id.to_bytes(4, "big")
    read = ProtobufDeserializer(order, {"use.deprecated.format": False})(out, ctx("copy"))
    assert (read.id, read.customer.name, read.customer.tier, read.others[0].name) == (7, "ada", 2, "bob")


def test_protobuf_import_without_a_reference_is_refused(registry: SchemaRegistry) -> None:
    order = order_class()
    file = descriptor_pb2.FileDescriptorProto()
    order.DESCRIPTOR.file.CopyToProto(file)

    text = base64.b64encode(file.SerializeToString()).decode()
    registry.client.register_schema("bare-value", Schema(text, "PROTOBUF"))
    with pytest.raises(UnsupportedSchema, match=r"common/customer\.proto without a schema reference"):
        registry.infer("bare", "PROTOBUF", False, None)


CUSTOMER_AVRO = {
    "type": "record",
    "name": "Customer",
    "namespace": "shop",
    "fields": [{"name": "name", "type": "string"}, {"name": "tier", "type": "int"}],
}
ORDER_AVRO = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "customer", "type": "shop.Customer"},
        {"name": "others", "type": {"type": "array", "items": "shop.Customer"}},
    ],
}


def test_avro_named_type_through_a_reference(registry: SchemaRegistry) -> None:
    client = registry.client
    client.register_schema("customer", Schema(json.dumps(CUSTOMER_AVRO), "AVRO"))
    refs = [SchemaReference("shop.Customer", "customer", 1)]
    schema = Schema(json.dumps(ORDER_AVRO), "AVRO", refs)
    client.register_schema("orders-value", schema)
    writer = AvroSerializer(client, schema, conf={"auto.register.schemas": False, "use.latest.version": True})
    value = {"id": 7, "customer": {"name": "ada", "tier": 2}, "others": [{"name": "bob", "tier": 1}]}
    data = writer(value, ctx("orders"))

    assert registry.infer("orders", "AVRO", False, None) == COLUMNS
    serde = RegistryRowSerde(registry, "AVRO", tuple(COLUMNS), True, False)
    assert serde.deserialize("orders", data) == ROW
    decoded = registry.decode(data)
    assert decoded is not None and decoded[1] == value

    schema_id = registry.latest("orders-value")[0]
    pinned = RegistryRowSerde(registry, "AVRO", tuple(COLUMNS), True, False, schema_id=schema_id)
    assert AvroDeserializer(client)(pinned.serialize("copy", ROW), ctx("copy")) == value


def test_json_schema_ref_through_a_reference(registry: SchemaRegistry) -> None:
    client = registry.client
    customer = {
        "$id": "https://example.com/customer.json",
        "type": "object",
        "properties": {"name": {"type": "string"}, "tier": {"type": "integer", "connect.type": "int32"}},
    }
    client.register_schema("customer", Schema(json.dumps(customer), "JSON"))
    order = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "customer": {"$ref": "customer.json"},
            "others": {"type": "array", "items": {"$ref": "https://example.com/customer.json"}},
        },
    }
    refs = [SchemaReference("customer.json", "customer", 1)]
    client.register_schema("orders-value", Schema(json.dumps(order), "JSON", refs))
    assert registry.infer("orders", "JSON_SR", False, None) == COLUMNS

    with pytest.raises(UnsupportedSchema, match="names no schema reference"):
        columns_of_json(json.dumps(order), Namespace.VALUE)
    nested = {"type": "object", "properties": {"c": {"$ref": "customer.json#/properties/name"}}}
    assert columns_of_json(
        json.dumps(nested), Namespace.VALUE, [("customer.json", json.dumps(customer))]
    ) == [Column("C", t.STRING)]
