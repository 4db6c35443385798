"""Protobuf schemas registered as descriptors (confluent-kafka's ProtobufSerializer) are answered as
.proto text, as Confluent does, and as base64 with ``format=serialized``; clients keep working."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer, ProtobufSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from odradek.registry.formats import protobuf
from odradek.testing.registry_process import RegistryProcess

ORDER = """
syntax = "proto3";
package odradek.text;

message Order {
  string id = 1;
  map<string, int64> counts = 2;
  optional string note = 3;
  oneof payment {
    string card = 4;
    int64 cash_cents = 5;
  }
  Status status = 6;
  repeated Line lines = 7;
  reserved 9, 10 to 12;

  message Line {
    string sku = 1;
    uint32 quantity = 2;
  }
  enum Status {
    STATUS_UNSPECIFIED = 0;
    STATUS_PAID = 1;
  }
}
"""


def order_class() -> Any:
    form = protobuf.parse(ORDER).form
    assert isinstance(form, protobuf.ProtobufForm)
    file = descriptor_pb2.FileDescriptorProto()
    file.CopyFrom(form.file)
    file.name = "order.proto"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("odradek.text.Order"))


@pytest.fixture
def client(registry: RegistryProcess) -> Iterator[SchemaRegistryClient]:
    client = SchemaRegistryClient({"url": registry.url})
    yield client
    client.close()


def test_descriptor_schemas_read_back_as_proto_text(
    registry: RegistryProcess, client: SchemaRegistryClient, topic_name: str
) -> None:
    order = order_class()
    ctx = SerializationContext(topic_name, MessageField.VALUE)
    conf = {"use.deprecated.format": False}
    data = ProtobufSerializer(order, client, conf)(order(id="o1", counts={"a": 2}, card="x", status=1), ctx)
    schema_id = int.from_bytes(data[1:5], "big")
    subject = f"{topic_name}-value"
    with httpx.Client(base_url=registry.url, timeout=30) as http:
        text = http.get(f"/schemas/ids/{schema_id}").json()["schema"]
        assert text.startswith('syntax = "proto3";')
        for line in (
            "package odradek.text;",
            "message Order {",
            "  map<string, int64> counts = 2;",
            "  optional string note = 3;",
            "  oneof payment {",
            "  reserved 9, 10 to 12;",
            "  enum Status {",
        ):
            assert line in text.splitlines(), line
        assert http.get(f"/schemas/ids/{schema_id}/schema").text == text
        assert http.get(f"/subjects/{subject}/versions/latest").json()["schema"] == text
        assert http.get(f"/subjects/{subject}/versions/1/schema").text == text
        serialized = http.get(f"/schemas/ids/{schema_id}", params={"format": "serialized"}).json()["schema"]
        file = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(serialized))
        assert [m.name for m in file.message_type] == ["Order"]
        # the printed text is the registered schema: registering it again names the same id
        r = http.post(
            f"/subjects/{subject}/versions",
            json={"schema": text, "schemaType": "PROTOBUF"},
            headers={"content-type": "application/vnd.schemaregistry.v1+json"},
        )
        assert r.status_code == 200 and r.json()["id"] == schema_id, r.text
    assert client.get_versions(subject) == [1]
    assert client.lookup_schema(subject, Schema(text, "PROTOBUF")).schema_id == schema_id
    # Confluent's deserializer (fetches format=serialized) and a serializer using the latest version
    got = ProtobufDeserializer(order, conf)(data, ctx)
    assert (got.id, dict(got.counts), got.card, got.status) == ("o1", {"a": 2}, "x", 1)
    latest = ProtobufSerializer(
        order, client, {**conf, "use.latest.version": True, "auto.register.schemas": False}
    )
    assert latest(order(id="o2"), ctx)[1:5] == data[1:5]
