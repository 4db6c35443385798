"""The registry serdes against odradek's own schema registry (a real `odradek registry` process):
Avro in, an aggregation with Avro state, Avro out; JSON Schema and Protobuf round trips; the
subjects the serdes registered."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import wrappers_pb2
from streams_kafka import Kafka, wait_for

from odradek.streams import KafkaStreams, Materialized, StreamsBuilder
from odradek.streams.registry_serdes import avro_serde, json_schema_serde, protobuf_serde
from odradek.testing.registry_process import RegistryProcess

# confluent-kafka's registry client (httpx2) leaves a connection or two for the garbage collector
# during these calls (closed, but as a ResourceWarning); the serdes' own clients are closed
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

ORDER = json.dumps(
    {
        "type": "record",
        "name": "Order",
        "fields": [{"name": "user", "type": "string"}, {"name": "amount", "type": "int"}],
    }
)
TOTAL = json.dumps({"type": "record", "name": "Total", "fields": [{"name": "amount", "type": "long"}]})


@pytest.fixture(scope="module")
def registry(streams_bootstrap: str) -> Iterator[str]:
    with RegistryProcess(streams_bootstrap) as process:
        yield process.url


def test_avro_topology_through_odradeks_registry(kafka: Kafka, registry: str) -> None:
    orders, totals = kafka.topic("avro-orders"), kafka.topic("avro-totals")
    client = SchemaRegistryClient({"url": registry})
    writer = AvroSerializer(client, ORDER)
    kafka.produce(
        orders,
        [
            (b"u1", writer({"user": "u1", "amount": a}, SerializationContext(orders, MessageField.VALUE)), i)
            for i, a in enumerate((5, 7, 30))
        ],
    )
    order_serde, total_serde = avro_serde(registry, ORDER), avro_serde(registry, TOTAL)
    b = StreamsBuilder()
    (
        b.stream(orders, value_serde=order_serde)
        .group_by_key()
        .aggregate(
            lambda: {"amount": 0},
            lambda k, order, total: {"amount": total["amount"] + order["amount"]},
            materialized=Materialized("totals", value_serde=total_serde),
        )
        .to_stream()
        .to(totals, value_serde=total_serde)
    )
    streams = KafkaStreams(b.build(), kafka.config("avro"))
    streams.start()
    try:
        reader = AvroDeserializer(client)  # reads with the writer's schema, fetched by id
        msgs = kafka.read(totals, lambda m: len(m) >= 1 and _last(m, reader, totals) == {"amount": 42})
        assert _last(msgs, reader, totals) == {"amount": 42}
        wait_for(lambda: _safe(lambda: streams.store("totals").get("u1")) == {"amount": 42}, what="state")
    finally:
        streams.close()
        for serde in (order_serde, total_serde):
            serde.close()
        client.close()
    with urllib.request.urlopen(f"{registry}/subjects", timeout=10) as response:
        subjects = set(json.loads(response.read()))
    app = streams.application_id
    assert {f"{orders}-value", f"{totals}-value", f"{app}-totals-changelog-value"} <= subjects


def _last(msgs: list[Any], reader: Any, topic: str) -> Any:
    return reader(msgs[-1].value(), SerializationContext(topic, MessageField.VALUE)) if msgs else None


def _safe(fn: Any) -> Any:
    try:
        return fn()
    except Exception:
        return None


def test_json_schema_and_protobuf_round_trips(registry: str) -> None:
    schema = json.dumps({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})
    js = json_schema_serde(registry, schema)
    assert js.deserialize("js-topic", js.serialize("js-topic", {"n": 1})) == {"n": 1}
    pb = protobuf_serde(registry, wrappers_pb2.StringValue)
    assert (
        pb.deserialize("pb-topic", pb.serialize("pb-topic", wrappers_pb2.StringValue(value="x"))).value == "x"
    )
    with urllib.request.urlopen(f"{registry}/subjects", timeout=10) as response:
        subjects = set(json.loads(response.read()))
    assert {"js-topic-value", "pb-topic-value"} <= subjects
