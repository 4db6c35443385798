"""`odradek schema …` and `odradek registry check … --against-data` against a running registry."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.schema_registry.json_schema import JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from odradek.testing.registry_process import RegistryProcess

V1 = {"type": "record", "name": "Item", "fields": [{"name": "sku", "type": "string"}]}
V2_OK = {**V1, "fields": [*V1["fields"], {"name": "qty", "type": "int", "default": 1}]}
V2_BAD = {**V1, "fields": [*V1["fields"], {"name": "qty", "type": "int"}]}


def odradek(
    registry: RegistryProcess, *args: str, bootstrap: str | None = None
) -> subprocess.CompletedProcess[str]:
    env_args = ["--url", registry.url]
    return subprocess.run(
        [sys.executable, "-m", "odradek", *args, *env_args, *(["-b", bootstrap] if bootstrap else [])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write(tmp_path: Path, name: str, schema: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(schema))
    return str(path)


def test_schema_commands(registry: RegistryProcess, subject: str, tmp_path: Path) -> None:
    v1 = write(tmp_path, "v1.avsc", V1)
    r = odradek(registry, "schema", "register", subject, "--schema", v1, "--output", "json")
    assert r.returncode == 0, r.stderr
    schema_id = json.loads(r.stdout)["id"]
    r = odradek(registry, "schema", "get", subject, "--output", "json")
    assert json.loads(r.stdout)["id"] == schema_id
    assert json.loads(odradek(registry, "schema", "get", "--id", str(schema_id), "--output", "json").stdout)[
        "schema"
    ]
    assert subject in json.loads(odradek(registry, "schema", "list", "--output", "json").stdout)
    assert json.loads(odradek(registry, "schema", "list", subject, "--output", "json").stdout) == [1]
    r = odradek(registry, "schema", "check", subject, "--schema", write(tmp_path, "bad.avsc", V2_BAD))
    assert r.returncode == 1 and "READER_FIELD_MISSING_DEFAULT_VALUE" in r.stdout
    r = odradek(registry, "schema", "check", subject, "--schema", write(tmp_path, "ok.avsc", V2_OK))
    assert r.returncode == 0 and "compatible" in r.stdout
    r = odradek(registry, "schema", "config", subject, "--set", "full", "--output", "json")
    assert json.loads(r.stdout) == {"compatibility": "FULL"}
    assert "FULL" in odradek(registry, "schema", "config", subject).stdout
    r = odradek(registry, "schema", "delete", subject, "--output", "json")
    assert json.loads(r.stdout) == [1]
    r = odradek(registry, "schema", "get", subject)
    assert r.returncode == 1 and "40401" in r.stderr


def test_registry_check_against_data(
    registry: RegistryProcess, bootstrap: str, topic_name: str, tmp_path: Path
) -> None:
    client = SchemaRegistryClient({"url": registry.url})
    ctx = SerializationContext(topic_name, MessageField.VALUE)
    serialize = AvroSerializer(client, json.dumps(V1))
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(5):
        producer.produce(topic_name, value=serialize({"sku": f"s{i}"}, ctx))
    producer.produce(topic_name, value=b"not confluent framing")
    assert producer.flush(15) == 0
    client.close()
    subject = f"{topic_name}-value"
    ok = odradek(
        registry, "registry", "check", subject, "--schema", write(tmp_path, "ok.avsc", V2_OK),
        "--against-data", topic_name, "--output", "json", bootstrap=bootstrap,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    report = json.loads(ok.stdout)
    assert report["is_compatible"] is True
    assert report["data"] == {"topic": topic_name, "checked": 5, "skipped": 1, "failed": 0, "failures": []}
    bad = odradek(
        registry, "registry", "check", subject, "--schema", write(tmp_path, "bad.avsc", V2_BAD),
        "--against-data", topic_name, "--max-failures", "2", bootstrap=bootstrap,
    )  # fmt: skip
    assert bad.returncode == 1
    assert "5 records checked, 5 do not decode" in bad.stdout
    assert "partition 0 offset 0:" in bad.stdout and "partition 0 offset 1:" in bad.stdout


def test_against_data_catches_what_the_rules_allow(
    registry: RegistryProcess, bootstrap: str, topic_name: str, tmp_path: Path
) -> None:
    """An open JSON model lets producers send extra properties; a schema that types one of them
    differently passes under NONE but not against the data already written."""
    client = SchemaRegistryClient({"url": registry.url})
    subject = f"{topic_name}-value"
    client.set_compatibility(subject, "NONE")
    open_model = {"type": "object", "properties": {"a": {"type": "string"}}}
    ctx = SerializationContext(topic_name, MessageField.VALUE)
    serialize = JSONSerializer(json.dumps(open_model), client, lambda v, _c: v)
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic_name, value=serialize({"a": "x"}, ctx))
    producer.produce(topic_name, value=serialize({"a": "y", "b": 5}, ctx))
    assert producer.flush(15) == 0
    client.close()
    typed = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}
    r = odradek(
        registry, "registry", "check", subject, "--schema", write(tmp_path, "typed.json", typed),
        "--type", "JSON", "--against-data", topic_name, bootstrap=bootstrap,
    )  # fmt: skip
    assert r.returncode == 1
    assert "compatible" in r.stdout.splitlines()[0]
    assert "partition 0 offset 1: 5 is not of type 'string' at /b" in r.stdout
