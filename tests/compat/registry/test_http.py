"""Every endpoint over plain HTTP (httpx): status codes, Confluent error codes and bodies, and bad
input that must be refused with the right code and store nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from odradek.testing.registry_process import RegistryProcess

CT = {"Content-Type": "application/vnd.schemaregistry.v1+json"}
AVRO = json.dumps({"type": "record", "name": "A", "fields": [{"name": "x", "type": "int"}]})
AVRO2 = json.dumps(
    {
        "type": "record",
        "name": "A",
        "fields": [{"name": "x", "type": "int"}, {"name": "y", "type": "int", "default": 0}],
    }
)
PROTO = 'syntax = "proto3";\npackage t;\nmessage M { int32 a = 1; }\n'


@pytest.fixture
def http(registry: RegistryProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=registry.url, timeout=20, headers=CT) as client:
        yield client


def error(response: httpx.Response, status: int, code: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code, body
    assert response.headers["content-type"].startswith("application/vnd.schemaregistry.v1+json")
    return str(body["message"])


def register(http: httpx.Client, subject: str, schema: str, **extra: Any) -> httpx.Response:
    return http.post(f"/subjects/{subject}/versions", json={"schema": schema, **extra})


def test_subject_and_version_endpoints(http: httpx.Client, subject: str) -> None:
    assert http.get("/").json() == {}
    r = register(http, subject, AVRO)
    assert r.status_code == 200
    schema_id = r.json()["id"]
    assert register(http, subject, AVRO2).status_code == 200
    assert subject in http.get("/subjects").json()
    assert http.get("/subjects", params={"subjectPrefix": subject}).json() == [subject]
    assert http.get(f"/subjects/{subject}/versions").json() == [1, 2]
    latest = http.get(f"/subjects/{subject}/versions/latest").json()
    assert latest["version"] == 2 and latest["subject"] == subject and "schemaType" not in latest
    assert http.get(f"/subjects/{subject}/versions/-1").json()["version"] == 2
    assert json.loads(http.get(f"/subjects/{subject}/versions/1/schema").text) == json.loads(AVRO)
    looked_up = http.post(f"/subjects/{subject}", json={"schema": AVRO}).json()
    assert (looked_up["id"], looked_up["version"]) == (schema_id, 1)
    assert http.get(f"/subjects/{subject}/versions/1/referencedby").json() == []
    # soft delete, deleted=true, deletedOnly, hard delete
    assert http.delete(f"/subjects/{subject}/versions/1").json() == 1
    error(http.get(f"/subjects/{subject}/versions/1"), 404, 40402)
    assert http.get(f"/subjects/{subject}/versions/1", params={"deleted": "true"}).json()["deleted"] is True
    assert http.get(f"/subjects/{subject}/versions", params={"deleted": "true"}).json() == [1, 2]
    assert http.get(f"/subjects/{subject}/versions", params={"deletedOnly": "true"}).json() == [1]
    error(http.delete(f"/subjects/{subject}/versions/1"), 404, 40406)
    error(http.delete(f"/subjects/{subject}/versions/2", params={"permanent": "true"}), 404, 40407)
    assert http.delete(f"/subjects/{subject}/versions/1", params={"permanent": "true"}).json() == 1
    error(http.delete(f"/subjects/{subject}", params={"permanent": "true"}), 404, 40405)
    assert http.delete(f"/subjects/{subject}").json() == [2]
    error(http.delete(f"/subjects/{subject}"), 404, 40404)
    assert subject in http.get("/subjects", params={"deleted": "true"}).json()
    assert subject not in http.get("/subjects").json()
    assert http.delete(f"/subjects/{subject}", params={"permanent": "true"}).json() == [2]
    error(http.get(f"/subjects/{subject}/versions"), 404, 40401)


def test_schema_endpoints(http: httpx.Client, subject: str) -> None:
    schema_id = register(http, subject, PROTO, schemaType="PROTOBUF").json()["id"]
    body = http.get(f"/schemas/ids/{schema_id}").json()
    assert body["schemaType"] == "PROTOBUF" and body["schema"] == PROTO
    serialized = http.get(f"/schemas/ids/{schema_id}", params={"format": "serialized"}).json()["schema"]
    assert serialized != PROTO and "\n" not in serialized  # base64 FileDescriptorProto
    assert http.get(f"/schemas/ids/{schema_id}", params={"fetchMaxId": "true"}).json()["maxId"] >= schema_id
    assert http.get(f"/schemas/ids/{schema_id}/schema").text == PROTO
    assert http.get(f"/schemas/ids/{schema_id}/subjects").json() == [subject]
    assert http.get(f"/schemas/ids/{schema_id}/versions").json() == [{"subject": subject, "version": 1}]
    assert sorted(http.get("/schemas/types").json()) == ["AVRO", "JSON", "PROTOBUF"]
    listed = http.get("/schemas", params={"subjectPrefix": subject}).json()
    assert [(s["subject"], s["id"]) for s in listed] == [(subject, schema_id)]
    error(http.get("/schemas/ids/99999999"), 404, 40403)
    error(http.get("/schemas/ids/not-a-number"), 404, 40403)
    error(http.get("/schemas/ids/99999999/subjects"), 404, 40403)


def test_config_mode_compatibility_endpoints(http: httpx.Client, subject: str) -> None:
    assert http.get("/config").json()["compatibilityLevel"] == "BACKWARD"
    register(http, subject, AVRO)
    error(http.get(f"/config/{subject}"), 404, 40408)
    assert (
        http.get(f"/config/{subject}", params={"defaultToGlobal": "true"}).json()["compatibilityLevel"]
        == "BACKWARD"
    )
    assert http.put(f"/config/{subject}", json={"compatibility": "forward"}).json() == {
        "compatibility": "FORWARD"
    }
    assert http.get(f"/config/{subject}").json()["compatibilityLevel"] == "FORWARD"
    error(http.put(f"/config/{subject}", json={"compatibility": "SIDEWAYS"}), 422, 42203)
    assert http.delete(f"/config/{subject}").json()["compatibilityLevel"] == "FORWARD"
    error(http.delete(f"/config/{subject}"), 404, 40408)
    # compatibility checks, one version and all, verbose says why
    incompatible = json.dumps({"type": "record", "name": "A", "fields": [{"name": "x", "type": "string"}]})
    r = http.post(f"/compatibility/subjects/{subject}/versions/latest", json={"schema": incompatible})
    assert r.json() == {"is_compatible": False}
    r = http.post(
        f"/compatibility/subjects/{subject}/versions",
        params={"verbose": "true"},
        json={"schema": incompatible},
    )
    assert r.json()["is_compatible"] is False and "TYPE_MISMATCH" in r.json()["messages"][0]
    r = http.post(
        f"/compatibility/subjects/{subject}/versions/1", params={"verbose": "true"}, json={"schema": AVRO2}
    )
    assert r.json() == {"is_compatible": True, "messages": []}
    error(http.post(f"/compatibility/subjects/{subject}/versions/9", json={"schema": AVRO}), 404, 40402)
    error(http.post(f"/compatibility/subjects/{subject}-none/versions/1", json={"schema": AVRO}), 404, 40401)
    # modes
    assert http.get("/mode").json() == {"mode": "READWRITE"}
    error(http.get(f"/mode/{subject}"), 404, 40409)
    error(http.put(f"/mode/{subject}", json={"mode": "WRITEONLY"}), 422, 42204)
    error(http.put(f"/mode/{subject}", json={"mode": "IMPORT"}), 422, 42205)  # not empty
    assert http.put(f"/mode/{subject}", json={"mode": "READONLY"}).json() == {"mode": "READONLY"}
    error(register(http, subject, AVRO2), 422, 42205)
    error(http.delete(f"/subjects/{subject}"), 422, 42205)
    assert http.delete(f"/mode/{subject}").json() == {"mode": "READONLY"}
    assert register(http, subject, AVRO2).status_code == 200
    # contexts and metadata
    assert "." in http.get("/contexts").json()
    assert http.get("/v1/metadata/id").json()["scope"]["clusters"]["schema-registry-cluster"]


def _body(schema: object, **extra: object) -> bytes:
    return json.dumps({"schema": json.dumps(schema), **extra}).encode()


BAD_DEFAULT = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int", "default": "x"}]}
NULL_NOT_FIRST = {
    "type": "record",
    "name": "R",
    "fields": [{"name": "a", "type": ["int", "null"], "default": None}],
}
MISSING_REF = [{"name": "x", "subject": "nope-nope", "version": 1}]

BAD_INPUTS = [
    ("not json", b"{schema", 400, 400),
    ("empty body", b"", 422, 422),
    ("not an object", b"[1]", 422, 422),
    ("no schema", b'{"schemaType": "AVRO"}', 422, 42201),
    ("schema not a string", b'{"schema": {"type": "string"}}', 422, 42201),
    ("invalid avro", b'{"schema": "{\\"type\\": \\"recrod\\"}"}', 422, 42201),
    ("avro not json", b'{"schema": "{not json"}', 422, 42201),
    ("avro bad default", _body(BAD_DEFAULT), 422, 42201),
    ("avro null default not first", _body(NULL_NOT_FIRST), 422, 42201),
    ("invalid json schema", b'{"schemaType": "JSON", "schema": "{\\"type\\": 12}"}', 422, 42201),
    ("invalid protobuf", b'{"schemaType": "PROTOBUF", "schema": "message { int32 a = 1 }"}', 422, 42201),
    ("unknown type", b'{"schemaType": "XML", "schema": "<a/>"}', 422, 42201),
    ("missing reference", _body("string", references=MISSING_REF), 422, 42201),
    ("bad reference shape", b'{"schema": "\\"string\\"", "references": [{"name": "x"}]}', 422, 42201),
    ("id outside import mode", b'{"schema": "\\"string\\"", "id": 5}', 422, 42205),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body", "status", "code"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_refused_and_stores_nothing(
    http: httpx.Client, subject: str, case: str, body: bytes, status: int, code: int
) -> None:
    error(http.post(f"/subjects/{subject}/versions", content=body), status, code)
    error(http.get(f"/subjects/{subject}/versions"), 404, 40401)


def test_more_bad_input(http: httpx.Client, subject: str) -> None:
    error(http.get(f"/subjects/{subject}/versions/abc"), 422, 42202)
    error(http.get(f"/subjects/{subject}/versions/0"), 422, 42202)
    error(http.get(f"/subjects/{subject}/versions/1"), 404, 40401)
    error(http.post(f"/compatibility/subjects/{subject}/versions/x", json={"schema": AVRO}), 422, 42202)
    error(http.put("/config", json={"compatibility": "ALWAYS"}), 422, 42203)
    error(http.put("/config", content=b"nope"), 400, 400)
    error(http.put("/mode", json={"mode": "nope"}), 422, 42204)
    error(http.get("/nowhere"), 404, 404)
    error(http.patch("/subjects"), 405, 405)
    big = json.dumps(
        {"schema": json.dumps({"type": "enum", "name": "E", "symbols": [f"S{i}" for i in range(120_000)]})}
    )
    error(http.post(f"/subjects/{subject}/versions", content=big.encode()), 422, 42209)
    error(http.post(f"/subjects/{subject}", json={"schema": AVRO}), 404, 40401)
    register(http, subject, AVRO)
    error(http.post(f"/subjects/{subject}", json={"schema": AVRO2}), 404, 40403)


def test_circular_references_are_refused(http: httpx.Client, subject: str) -> None:
    a, b = f"{subject}-a", f"{subject}-b"
    assert register(http, b, '"string"').status_code == 200
    ref_b = [{"name": "b", "subject": b, "version": -1}]
    assert register(http, a, '"string"', references=ref_b).status_code == 200
    ref_a = [{"name": "a", "subject": a, "version": -1}]
    http.put(f"/config/{b}", json={"compatibility": "NONE"})
    assert register(http, b, '"int"', references=ref_a).status_code == 200  # b latest → a → b latest
    message = error(register(http, a, '"long"', references=ref_b), 422, 42201)
    assert "circular" in message
