"""confluent-kafka's SchemaRegistryClient against odradek's registry: the calls it makes, as it makes them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from confluent_kafka.schema_registry import Schema, SchemaReference, SchemaRegistryClient, SchemaRegistryError

from odradek.testing.registry_process import RegistryProcess


def record(name: str, *fields: tuple[str, object, dict[str, object]]) -> str:
    return json.dumps(
        {
            "type": "record",
            "name": name,
            "fields": [{"name": n, "type": t, **extra} for n, t, extra in fields],
        }
    )


@pytest.fixture
def client(registry: RegistryProcess) -> Iterator[SchemaRegistryClient]:
    client = SchemaRegistryClient({"url": registry.url})
    yield client
    client.close()


def test_register_get_versions_lookup(client: SchemaRegistryClient, subject: str) -> None:
    v1 = Schema(record("User", ("name", "string", {})), "AVRO")
    v2 = Schema(record("User", ("name", "string", {}), ("age", "int", {"default": 0})), "AVRO")
    id1 = client.register_schema(subject, v1)
    assert client.register_schema(subject, v1) == id1  # idempotent
    id2 = client.register_schema(subject, v2)
    assert id2 != id1
    assert client.get_versions(subject) == [1, 2]
    assert subject in client.get_subjects()
    latest = client.get_latest_version(subject)
    assert (latest.version, latest.schema_id) == (2, id2)
    assert json.loads(client.get_schema(id1).schema_str) == json.loads(v1.schema_str)
    found = client.lookup_schema(subject, Schema(record("User", ("name", "string", {})), "AVRO"))
    assert (found.version, found.schema_id) == (1, id1)
    assert client.get_version(subject, 1).schema_id == id1
    assert client.get_subjects_by_schema_id(id2) == [subject]
    versions = client.get_schema_versions(id2)
    assert [(v.subject, v.version) for v in versions] == [(subject, 2)]
    assert set(client.get_schema_types()) == {"AVRO", "JSON", "PROTOBUF"}


def test_same_schema_two_subjects_shares_the_id(client: SchemaRegistryClient, subject: str) -> None:
    schema = Schema(record("Shared", ("x", "long", {})), "AVRO")
    first = client.register_schema(subject + "-a", schema)
    spaced = Schema(json.dumps(json.loads(schema.schema_str), indent=4), "AVRO")  # whitespace only
    assert client.register_schema(subject + "-b", spaced) == first


def test_incompatible_schema_is_refused_with_409(client: SchemaRegistryClient, subject: str) -> None:
    client.register_schema(subject, Schema(record("R", ("a", "int", {})), "AVRO"))
    bad = Schema(record("R", ("a", "string", {})), "AVRO")
    with pytest.raises(SchemaRegistryError) as exc:
        client.register_schema(subject, bad)
    assert exc.value.http_status_code == 409
    assert "TYPE_MISMATCH" in exc.value.error_message
    assert client.test_compatibility(subject, bad) is False
    verbose = client.test_compatibility(subject, bad, verbose=True)
    assert verbose is False or verbose[0] is False  # client versions differ in what they return
    client.set_compatibility(subject, "NONE")
    assert client.get_compatibility(subject) == "NONE"
    assert client.register_schema(subject, bad) > 0


def test_soft_and_hard_delete(client: SchemaRegistryClient, subject: str) -> None:
    client.register_schema(subject, Schema(record("D", ("a", "int", {})), "AVRO"))
    client.register_schema(
        subject, Schema(record("D", ("a", "int", {}), ("b", "int", {"default": 1})), "AVRO")
    )
    with pytest.raises(SchemaRegistryError) as exc:
        client.delete_version(subject, 1, permanent=True)
    assert exc.value.error_code == 40407
    assert client.delete_version(subject, 1) == 1
    assert client.get_versions(subject) == [2]
    assert client.delete_version(subject, 1, permanent=True) == 1
    assert client.delete_subject(subject) == [2]
    with pytest.raises(SchemaRegistryError) as exc:
        client.get_latest_version(subject)
    assert exc.value.error_code == 40401
    assert client.delete_subject(subject, permanent=True) == [2]
    assert subject not in client.get_subjects()


def test_versions_continue_after_soft_delete(client: SchemaRegistryClient, subject: str) -> None:
    schema = Schema(record("C", ("a", "int", {})), "AVRO")
    client.register_schema(subject, schema)
    client.delete_subject(subject)
    client.clear_caches()  # the client remembers ids it registered; make it ask the registry again
    client.register_schema(subject, schema)
    assert client.get_versions(subject) == [2]


def test_avro_references(client: SchemaRegistryClient, subject: str) -> None:
    address = json.dumps(
        {
            "type": "record",
            "name": "Address",
            "namespace": "com.acme",
            "fields": [{"name": "city", "type": "string"}],
        }
    )
    client.register_schema(subject + "-address", Schema(address, "AVRO"))
    person = json.dumps(
        {
            "type": "record",
            "name": "Person",
            "namespace": "com.acme",
            "fields": [{"name": "home", "type": "com.acme.Address"}],
        }
    )
    refs = [SchemaReference("com.acme.Address", subject + "-address", 1)]
    person_id = client.register_schema(subject, Schema(person, "AVRO", refs))
    assert client.get_referenced_by(subject + "-address", 1) == [person_id]
    fetched = client.get_schema(person_id)
    assert [(r.name, r.subject, r.version) for r in fetched.references] == [
        ("com.acme.Address", subject + "-address", 1)
    ]
    with pytest.raises(SchemaRegistryError) as exc:
        client.delete_version(subject + "-address", 1)
    assert exc.value.error_code == 42206


def test_modes_and_import(client: SchemaRegistryClient, subject: str) -> None:
    assert client.get_global_mode() == "READWRITE"
    client.update_mode(subject, "READONLY")
    assert client.get_mode(subject) == "READONLY"
    with pytest.raises(SchemaRegistryError) as exc:
        client.register_schema(subject, Schema(record("M", ("a", "int", {})), "AVRO"))
    assert exc.value.error_code == 42205
    client.update_mode(subject, "IMPORT", force=True)
    schema = Schema(record("M", ("a", "int", {})), "AVRO")
    registered = client._rest_client.post(
        f"subjects/{subject}/versions", body={"schema": schema.schema_str, "id": 90001, "version": 7}
    )
    assert registered["id"] == 90001
    assert client.get_version(subject, 7).schema_id == 90001
    assert client.delete_mode(subject) == "IMPORT"
    with pytest.raises(SchemaRegistryError) as exc:
        client.get_mode(subject)
    assert exc.value.error_code == 40409


def test_config_api(client: SchemaRegistryClient, subject: str) -> None:
    from confluent_kafka.schema_registry import ConfigCompatibilityLevel, ServerConfig

    client.register_schema(subject, Schema(record("Cfg", ("a", "int", {})), "AVRO"))
    level = ConfigCompatibilityLevel.FULL_TRANSITIVE
    client.set_config(subject, ServerConfig(compatibility=level, compatibility_group="major"))
    config = client.get_config(subject)
    assert config.compatibility_level == level
    assert config.compatibility_group == "major"
    assert client.get_compatibility(subject) == "FULL_TRANSITIVE"
    client.delete_config(subject)
    with pytest.raises(SchemaRegistryError) as exc:
        client.get_compatibility(subject)
    assert exc.value.error_code == 40408


def test_contexts(client: SchemaRegistryClient, subject: str) -> None:
    qualified = f":.tenant-a:{subject}"
    schema_id = client.register_schema(qualified, Schema(record("Ctx", ("a", "int", {})), "AVRO"))
    assert ".tenant-a" in client.get_contexts()
    other = client.register_schema(f":.tenant-b:{subject}", Schema(record("Ctx2", ("a", "int", {})), "AVRO"))
    assert other == schema_id  # ids are allocated per context: both contexts start counting alone
    assert client.get_latest_version(qualified).schema_id == schema_id
