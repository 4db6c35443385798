"""AVRO, JSONSCHEMA and PROTOBUF through the proxy and odradek's schema registry, checked against
confluent-kafka's own deserializers (and the raw Confluent framing) byte for byte.

The registry is a real `odradek registry` process (ODRADEK_TEST_SCHEMA_REGISTRY=URL runs these tests
against another Confluent-compatible registry instead).
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable, Iterator

import httpx
import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.json_schema import JSONDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from rest_media import V2

from odradek.testing.service_process import rest_proxy

AVRO_V2 = "application/vnd.kafka.avro.v2+json"
PROTOBUF_V2 = "application/vnd.kafka.protobuf.v2+json"
USER = {
    "type": "record",
    "name": "User",
    "namespace": "test.rest",
    "fields": [
        {"name": "name", "type": "string"},
        {"name": "age", "type": ["null", "int"], "default": None},
        {"name": "tags", "type": {"type": "array", "items": "string"}, "default": []},
    ],
}
ORDER_JSON_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "item": {"type": "string"}},
    "required": ["id", "item"],
    "additionalProperties": False,
}
PROTO = (
    'syntax = "proto3";\npackage test.rest;\nmessage Point { int32 x = 1; int32 y = 2; string label = 3; }\n'
)


@pytest.fixture(scope="module")
def registry_url(bootstrap: str) -> Iterator[str]:
    external = os.environ.get("ODRADEK_TEST_SCHEMA_REGISTRY")
    if external:
        yield external
        return
    from odradek.testing.registry_process import RegistryProcess

    registry = RegistryProcess(bootstrap).start()
    try:
        registry.wait_primary()
        yield registry.url
    finally:
        registry.stop()


@pytest.fixture(scope="module")
def sr_client(registry_url: str) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient({"url": registry_url}) as client:
        yield client


@pytest.fixture(scope="module")
def sr_http(bootstrap: str, registry_url: str) -> Iterator[httpx.Client]:
    with (
        rest_proxy(bootstrap, "--schema-registry", registry_url) as proxy,
        httpx.Client(base_url=proxy.url, timeout=30) as client,
    ):
        yield client


def read(bootstrap: str, topic: str, count: int) -> list:  # type: ignore[type-arg]
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "rest-sr-reader", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    out = []
    try:
        while len(out) < count:
            msg = consumer.poll(10)
            assert msg is not None and msg.error() is None
            out.append(msg)
    finally:
        consumer.close()
    return out


def test_avro_v2_both_ways(
    sr_http: httpx.Client, sr_client: SchemaRegistryClient, bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    body = {
        "key_schema": json.dumps("string"),
        "value_schema": json.dumps(USER),
        "records": [
            {"key": "u1", "value": {"name": "ann", "age": {"int": 31}, "tags": ["a"]}},
            {"key": "u2", "value": {"name": "bob", "age": None, "tags": []}},
            {"key": "u3", "value": None},
        ],
    }
    r = sr_http.post(f"/topics/{topic}", json=body, headers={"content-type": AVRO_V2})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["key_schema_id"] > 0 and answer["value_schema_id"] > 0
    assert [o["offset"] for o in answer["offsets"]] == [0, 1, 2]
    values, keys = AvroDeserializer(sr_client), AvroDeserializer(sr_client)
    msgs = read(bootstrap, topic, 3)
    ctx = SerializationContext(topic, MessageField.VALUE)
    assert values(msgs[0].value(), ctx) == {"name": "ann", "age": 31, "tags": ["a"]}
    assert values(msgs[1].value(), ctx) == {"name": "bob", "age": None, "tags": []}
    assert msgs[2].value() is None
    assert keys(msgs[0].key(), SerializationContext(topic, MessageField.KEY)) == "u1"
    assert struct.unpack(">bI", msgs[0].value()[:5]) == (0, answer["value_schema_id"])
    # by id, and errors
    by_id = {
        "value_schema_id": answer["value_schema_id"],
        "records": [{"value": {"name": "cy", "age": None, "tags": []}}],
    }
    assert sr_http.post(f"/topics/{topic}", json=by_id, headers={"content-type": AVRO_V2}).status_code == 200
    r = sr_http.post(
        f"/topics/{topic}", json={"records": [{"value": {"name": "x"}}]}, headers={"content-type": AVRO_V2}
    )
    assert r.status_code == 422 and r.json()["error_code"] == 42202
    r = sr_http.post(
        f"/topics/{topic}",
        json={"value_schema": json.dumps(USER), "records": [{"key": "k", "value": None}]},
        headers={"content-type": AVRO_V2},
    )
    assert r.status_code == 422 and r.json()["error_code"] == 42201
    bad = {"value_schema_id": answer["value_schema_id"], "records": [{"value": {"name": 5}}]}
    r = sr_http.post(f"/topics/{topic}", json=bad, headers={"content-type": AVRO_V2})
    assert (
        r.status_code == 422 and r.json()["error_code"] == 42206 and r.json()["pointer"] == "/records/0/value"
    )
    r = sr_http.post(
        f"/topics/{topic}",
        json={"value_schema": "{not avro", "records": []},
        headers={"content-type": AVRO_V2},
    )
    assert r.status_code == 422 and r.json()["error_code"] == 42205
    # a v2 avro consumer reads them back in Avro's JSON encoding
    r = sr_http.post(
        "/consumers/rest-avro",
        json={"format": "avro", "auto.offset.reset": "earliest"},
        headers={"content-type": V2},
    )
    url = "/consumers/rest-avro/instances/" + r.json()["instance_id"]
    sr_http.post(url + "/subscription", json={"topics": [topic]}, headers={"content-type": V2})
    got: list = []  # type: ignore[type-arg]
    for _ in range(30):
        got += sr_http.get(url + "/records?timeout=500", headers={"accept": AVRO_V2}).json()
        if len(got) >= 4:
            break
    assert [g["value"] for g in got] == [
        {"name": "ann", "age": {"int": 31}, "tags": ["a"]},
        {"name": "bob", "age": None, "tags": []},
        None,
        {"name": "cy", "age": None, "tags": []},
    ]
    assert got[0]["key"] == "u1"
    sr_http.delete(url)


def test_jsonschema_v3_both_ways(
    sr_http: httpx.Client, sr_client: SchemaRegistryClient, bootstrap: str, make_topic: Callable[..., str]
) -> None:
    topic = make_topic(1)
    clusters = sr_http.get("/v3/clusters").json()["data"][0]["cluster_id"]
    url = f"/v3/clusters/{clusters}/topics/{topic}/records"
    record = {
        "value": {
            "type": "JSONSCHEMA",
            "schema": json.dumps(ORDER_JSON_SCHEMA),
            "data": {"id": 7, "item": "tea"},
        }
    }
    r = sr_http.post(url, json=record)
    assert r.status_code == 200 and r.json()["error_code"] == 200, r.text
    assert r.json()["value"]["type"] == "JSONSCHEMA" and r.json()["value"]["schema_id"] > 0
    # by subject (latest version), type left out
    r = sr_http.post(url, json={"value": {"subject": f"{topic}-value", "data": {"id": 8, "item": "cake"}}})
    assert r.status_code == 200, r.text
    r = sr_http.post(
        url, json={"value": {"type": "JSONSCHEMA", "subject": f"{topic}-value", "data": {"id": "nine"}}}
    )
    assert r.status_code == 422 and r.json()["error_code"] == 42206, r.text
    decode = JSONDeserializer(None, schema_registry_client=sr_client)
    msgs = read(bootstrap, topic, 2)
    ctx = SerializationContext(topic, MessageField.VALUE)
    assert [decode(m.value(), ctx) for m in msgs] == [{"id": 7, "item": "tea"}, {"id": 8, "item": "cake"}]
    data = sr_http.get(
        f"/v3/clusters/{clusters}/topics/{topic}/partitions/0/records",
        params={"offset": 0, "value_format": "JSONSCHEMA"},
    ).json()["data"]
    assert [d["value"] for d in data] == [
        {"type": "JSONSCHEMA", "data": {"id": 7, "item": "tea"}},
        {"type": "JSONSCHEMA", "data": {"id": 8, "item": "cake"}},
    ]


def test_protobuf_v2_both_ways(sr_http: httpx.Client, bootstrap: str, make_topic: Callable[..., str]) -> None:
    from google.protobuf import descriptor_pb2, descriptor_pool
    from google.protobuf.message_factory import GetMessageClass

    topic = make_topic(1)
    body = {
        "value_schema": PROTO,
        "records": [{"value": {"x": 3, "y": -4, "label": "p"}}, {"value": {"x": 1}}],
    }
    r = sr_http.post(f"/topics/{topic}", json=body, headers={"content-type": PROTOBUF_V2})
    assert r.status_code == 200, r.text
    schema_id = r.json()["value_schema_id"]
    # an independent oracle: the message built from a hand-written descriptor, Confluent's framing
    file = descriptor_pb2.FileDescriptorProto(name="oracle.proto", package="test.rest", syntax="proto3")
    point = file.message_type.add(name="Point")
    for number, (name, kind) in enumerate((("x", 5), ("y", 5), ("label", 9)), start=1):
        point.field.add(name=name, number=number, type=kind, label=1, json_name=name)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    point_class = GetMessageClass(pool.FindMessageTypeByName("test.rest.Point"))
    first, second = read(bootstrap, topic, 2)
    assert (
        first.value()
        == b"\x00"
        + struct.pack(">I", schema_id)
        + b"\x00"
        + point_class(x=3, y=-4, label="p").SerializeToString()
    )
    assert second.value()[6:] == point_class(x=1).SerializeToString()
    clusters = sr_http.get("/v3/clusters").json()["data"][0]["cluster_id"]
    data = sr_http.get(
        f"/v3/clusters/{clusters}/topics/{topic}/partitions/0/records",
        params={"offset": 0, "value_format": "PROTOBUF"},
    ).json()["data"]
    assert [d["value"]["data"] for d in data] == [{"x": 3, "y": -4, "label": "p"}, {"x": 1}]
    r = sr_http.post(
        f"/topics/{topic}",
        json={"value_schema_id": schema_id, "records": [{"value": {"z": 1}}]},
        headers={"content-type": PROTOBUF_V2},
    )
    assert r.status_code == 422 and r.json()["error_code"] == 42206


def test_schema_formats_need_a_registry(http: httpx.Client, make_topic: Callable[..., str]) -> None:
    topic = make_topic(1)
    r = http.post(
        f"/topics/{topic}",
        json={"value_schema": '"string"', "records": [{"value": "x"}]},
        headers={"content-type": AVRO_V2},
    )
    assert (
        r.status_code == 422 and r.json()["error_code"] == 42205 and "schema registry" in r.json()["message"]
    )
