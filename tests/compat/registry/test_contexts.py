"""Schema contexts: ``:.ctx:subject`` qualified subjects and the ``/contexts/{ctx}/...`` URL prefix,
with confluent-kafka's SchemaRegistryClient and Avro serializers given a context URL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from odradek.testing.registry_process import RegistryProcess

MEDIA = {"content-type": "application/vnd.schemaregistry.v1+json"}


def record(name: str, *fields: str) -> str:
    return json.dumps(
        {"type": "record", "name": name, "fields": [{"name": f, "type": "string"} for f in fields]}
    )


@pytest.fixture
def http(registry: RegistryProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=registry.url, headers=MEDIA, timeout=30) as client:
        yield client


@pytest.fixture
def context() -> str:
    return f".ctx{uuid.uuid4().hex[:8]}"


def test_a_client_on_a_context_url_lives_in_that_context(
    registry: RegistryProcess, http: httpx.Client, context: str, subject: str
) -> None:
    scoped = SchemaRegistryClient({"url": f"{registry.url}/contexts/{context}"})
    plain = SchemaRegistryClient({"url": registry.url})
    try:
        schema = Schema(record("InContext", "a"), "AVRO")
        in_context = scoped.register_schema(subject, schema)
        assert in_context == 1  # ids are per context: the first one of a new context
        qualified = f":{context}:{subject}"
        assert scoped.get_subjects() == [qualified]  # the context's subjects (named in full, as Confluent)
        assert qualified in plain.get_subjects()
        assert plain.get_latest_version(qualified).schema_id == in_context
        assert scoped.get_latest_version(subject).schema_id == in_context
        assert scoped.get_versions(subject) == [1]
        assert scoped.lookup_schema(subject, schema).version == 1
        assert context in http.get("/contexts").json()
        # the same id in the default context is another schema (or none)
        other = http.get(f"/schemas/ids/{in_context}").json()
        assert other.get("schema") != schema.schema_str
        assert json.loads(scoped.get_schema(in_context).schema_str) == json.loads(schema.schema_str)
        assert http.get(f"/schemas/ids/{in_context}", params={"subject": qualified}).json()["schema"] == (
            schema.schema_str
        )
        assert http.get(f"/contexts/{context}/schemas/ids/{in_context}/subjects").json() == [qualified]
        # serializers and deserializers on the context URL write and read context ids
        serializer = AvroSerializer(scoped, record("Value", "name"), conf={"auto.register.schemas": True})
        ctx = SerializationContext(f"topic-{uuid.uuid4().hex[:6]}", MessageField.VALUE)
        data = serializer({"name": "x"}, ctx)
        assert data is not None and data[0] == 0
        value_subject = f"{ctx.topic}-value"
        assert plain.get_latest_version(f":{context}:{value_subject}").schema_id == int.from_bytes(data[1:5])
        fresh = SchemaRegistryClient({"url": f"{registry.url}/contexts/{context}"})
        try:
            assert AvroDeserializer(fresh)(data, ctx) == {"name": "x"}
        finally:
            fresh.close()
    finally:
        scoped.close()
        plain.close()


def test_context_config_mode_and_compatibility_routes(http: httpx.Client, context: str, subject: str) -> None:
    base = f"/contexts/{context}"
    # the context's own compatibility applies to its subjects (subject → context → global)
    assert http.put(base + "/config", json={"compatibility": "NONE"}).json() == {"compatibility": "NONE"}
    assert http.get(f"/config/:{context}:").json()["compatibilityLevel"] == "NONE"
    assert http.get(base + "/config").json()["compatibilityLevel"] == "NONE"
    r = http.post(base + f"/subjects/{subject}/versions", json={"schema": record("R", "a")})
    assert r.status_code == 200, r.text
    changed = record("R", "b")  # incompatible under BACKWARD (the global default), fine under NONE
    r = http.post(base + f"/compatibility/subjects/{subject}/versions/latest", json={"schema": changed})
    assert r.json() == {"is_compatible": True}
    r = http.get(base + f"/config/{subject}", params={"defaultToGlobal": "true"})
    assert r.json()["compatibilityLevel"] == "NONE"
    assert http.get(base + f"/config/{subject}").json()["error_code"] == 40408
    assert http.post(base + f"/subjects/{subject}/versions", json={"schema": changed}).status_code == 200
    # the same subject name in the default context keeps the global BACKWARD
    assert http.post(f"/subjects/{subject}/versions", json={"schema": record("R", "a")}).status_code == 200
    r = http.post(f"/subjects/{subject}/versions", json={"schema": changed})
    assert r.status_code == 409 and r.json()["error_code"] == 409
    # mode per context
    assert http.put(base + "/mode", json={"mode": "READONLY"}).json() == {"mode": "READONLY"}
    assert http.get(f"/mode/:{context}:").json() == {"mode": "READONLY"}
    r = http.post(base + f"/subjects/{subject}/versions", json={"schema": record("R", "c")})
    assert r.status_code == 422 and r.json()["error_code"] == 42205
    assert http.put(base + "/mode", json={"mode": "READWRITE"}).status_code == 200
    # listings: versions, subjects (a prefix within the context), schemas, qualified names stay as given
    assert http.get(base + f"/subjects/{subject}/versions").json() == [1, 2]
    assert http.get(base + "/subjects").json() == [f":{context}:{subject}"]
    assert http.get(base + "/subjects", params={"subjectPrefix": "nope"}).json() == []
    assert [s["version"] for s in http.get(base + "/schemas").json()] == [1, 2]
    assert http.get(base + f"/subjects/:.other:{subject}/versions").json()["error_code"] == 40401
    assert f":{context}:{subject}" in http.get("/subjects", params={"subjectPrefix": f":*:{subject}"}).json()
    # deleting a context that still has subjects is refused; a bad context name is a 400
    assert http.delete(f"/contexts/{context}").json()["error_code"] == 42211
    assert http.delete(base + f"/subjects/{subject}").json() == [1, 2]
    assert http.delete(base + f"/subjects/{subject}", params={"permanent": "true"}).json() == [1, 2]
    assert http.delete(f"/contexts/{context}").status_code == 204
    r = http.get("/contexts/.a:b/subjects")
    assert r.status_code == 400 and r.json()["error_code"] == 400
