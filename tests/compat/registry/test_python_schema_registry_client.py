"""python-schema-registry-client (marcosschroh) against odradek's registry: its classic API subset."""

from __future__ import annotations

import pytest
from schema_registry.client import SchemaRegistryClient, errors, schema

from odradek.testing.registry_process import RegistryProcess

V1 = {"type": "record", "name": "Payment", "fields": [{"name": "amount", "type": "double"}]}
V2 = {**V1, "fields": [*V1["fields"], {"name": "currency", "type": "string", "default": "EUR"}]}
BAD = {**V1, "fields": [{"name": "amount", "type": "string"}]}
JSON_V1 = {"type": "object", "properties": {"n": {"type": "integer"}}, "additionalProperties": False}


@pytest.fixture
def client(registry: RegistryProcess) -> SchemaRegistryClient:
    return SchemaRegistryClient(url=registry.url)


def test_register_get_check_compatibility_delete(client: SchemaRegistryClient, subject: str) -> None:
    first = client.register(subject, schema.AvroSchema(V1))
    second = client.register(subject, schema.AvroSchema(V2))
    assert first != second
    assert client.get_by_id(first).raw_schema == schema.AvroSchema(V1).raw_schema
    latest = client.get_schema(subject)
    assert (latest.version, latest.schema_id) == (2, second)
    assert client.get_versions(subject) == [1, 2]
    assert subject in client.get_subjects()
    found = client.check_version(subject, schema.AvroSchema(V1))
    assert found is not None and found.version == 1
    assert client.test_compatibility(subject, schema.AvroSchema(V2)) is True
    assert client.test_compatibility(subject, schema.AvroSchema(BAD)) is False
    assert client.update_compatibility("FULL", subject) is True
    assert client.get_compatibility(subject) == "FULL"
    assert client.delete_version(subject, 1) == 1
    assert client.get_versions(subject) == [2]
    assert client.delete_subject(subject) == [2]
    assert client.get_versions(subject) == []


def test_json_schema_and_errors(client: SchemaRegistryClient, subject: str) -> None:
    schema_id = client.register(subject, schema.JsonSchema(JSON_V1))
    assert client.get_by_id(schema_id).schema == JSON_V1
    with pytest.raises(errors.ClientError) as exc:
        client.register(subject, schema.JsonSchema({**JSON_V1, "required": ["n"]}))
    assert exc.value.http_code == 409
    assert client.get_schema(f"{subject}-missing") is None
