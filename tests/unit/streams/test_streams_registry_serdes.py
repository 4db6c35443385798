"""Avro, JSON Schema and Protobuf serdes (confluent-kafka's schema-registry serializers) through the
test driver, against confluent-kafka's in-memory registry client (`mock://`); the same serdes
against odradek's own schema registry: tests/integration/streams/test_streams_registry.py."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from google.protobuf import wrappers_pb2

from odradek.streams import Serdes, SerializationError, StreamsBuilder
from odradek.streams.registry_serdes import avro_serde, json_schema_serde, protobuf_serde

ORDER = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "fields": [{"name": "id", "type": "string"}, {"name": "amount", "type": "int"}],
    }
)
ORDER_JSON = json.dumps(
    {
        "type": "object",
        "properties": {"id": {"type": "string"}, "amount": {"type": "integer"}},
        "required": ["id", "amount"],
    }
)


@pytest.fixture
def registry() -> str:
    return f"mock://{uuid.uuid4().hex}"


def test_avro_values_through_a_topology(make_driver: Any, registry: str) -> None:
    serde = avro_serde(registry, ORDER)
    b = StreamsBuilder()
    b.stream("orders", value_serde=serde).filter(lambda k, v: v["amount"] > 10).to("big", value_serde=serde)
    d = make_driver(b)
    inp = d.create_input_topic("orders", Serdes.STRING, serde)
    inp.pipe_input("a", {"id": "a", "amount": 5}, 1)
    inp.pipe_input("b", {"id": "b", "amount": 50}, 2)
    raw = d.create_output_topic("big", Serdes.STRING, Serdes.BYTES).read_record()
    assert raw.value[0] == 0 and len(raw.value) > 5  # Confluent wire format: magic byte, schema id
    assert serde.deserialize("big", raw.value) == {"id": "b", "amount": 50}


def test_avro_aggregate_state_is_stored_with_the_serde(make_driver: Any, registry: str) -> None:
    serde = avro_serde(registry, ORDER)
    b = StreamsBuilder()
    b.stream("orders", value_serde=serde).group_by_key().reduce(
        lambda a, v: {"id": a["id"], "amount": a["amount"] + v["amount"]}
    ).to_stream().to("totals", value_serde=serde)
    d = make_driver(b)
    inp = d.create_input_topic("orders", Serdes.STRING, serde)
    inp.pipe_input("a", {"id": "a", "amount": 5}, 1)
    inp.pipe_input("a", {"id": "a", "amount": 7}, 2)
    out = d.create_output_topic("totals", Serdes.STRING, serde).read_values_to_list()
    assert out[-1] == {"id": "a", "amount": 12}


def test_json_schema_validates(make_driver: Any, registry: str) -> None:
    serde = json_schema_serde(registry, ORDER_JSON)
    assert serde.deserialize("t", serde.serialize("t", {"id": "x", "amount": 1})) == {"id": "x", "amount": 1}
    with pytest.raises(SerializationError):
        serde.serialize("t", {"id": "x"})


def test_protobuf_round_trip(registry: str) -> None:
    serde = protobuf_serde(registry, wrappers_pb2.StringValue)
    data = serde.serialize("t", wrappers_pb2.StringValue(value="hi"))
    assert data is not None and data[0] == 0
    assert serde.deserialize("t", data).value == "hi"


def test_bad_bytes_are_a_deserialization_error(registry: str) -> None:
    serde = avro_serde(registry, ORDER)
    with pytest.raises(SerializationError, match="avro deserializer"):
        serde.deserialize("t", b"not avro")
