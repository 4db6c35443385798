"""Two registry instances on one `_schemas` topic: writes through the secondary are forwarded to the
primary; when the primary is killed (-9) the survivor is elected through the consumer group and keeps
registering, and no schema id is ever handed out twice."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx

from odradek.testing.registry_process import RegistryProcess

CT = {"Content-Type": "application/vnd.schemaregistry.v1+json"}


def schema(i: int) -> str:
    return json.dumps({"type": "record", "name": f"R{i}", "fields": [{"name": "f", "type": "int"}]})


def test_writes_forwarded_then_survivor_takes_over(bootstrap: str, tmp_path: Path) -> None:
    overrides = {
        "kafkastore.topic": f"_schemas-failover-{uuid.uuid4().hex[:6]}",
        "schema.registry.group.id": f"sr-{uuid.uuid4().hex[:6]}",
    }
    first = RegistryProcess(bootstrap, overrides, tmp_path / "first.log").start()
    second: RegistryProcess | None = None
    try:
        first.wait_primary()
        second = RegistryProcess(bootstrap, overrides, tmp_path / "second.log").start()
        ids: dict[str, int] = {}
        with httpx.Client(timeout=20, headers=CT) as http:
            for i in range(5):  # through the secondary: forwarded to the primary
                r = http.post(f"{second.url}/subjects/s{i}/versions", json={"schema": schema(i)})
                assert r.status_code == 200, r.text
                ids[f"s{i}"] = r.json()["id"]
            # both instances read the same ids
            for subject, schema_id in ids.items():
                assert http.get(f"{first.url}/subjects/{subject}/versions/1").json()["id"] == schema_id
                assert http.get(f"{second.url}/subjects/{subject}/versions/1").json()["id"] == schema_id
            first.kill()
            deadline = time.monotonic() + 45
            i = 5
            while i < 10 and time.monotonic() < deadline:
                r = http.post(f"{second.url}/subjects/s{i}/versions", json={"schema": schema(i)})
                if r.status_code == 200:
                    ids[f"s{i}"] = r.json()["id"]
                    i += 1
                else:
                    assert r.json()["error_code"] in (50002, 50003, 50004), r.text
                    time.sleep(0.3)
            assert i == 10, "the survivor never took over"
            assert len(set(ids.values())) == len(ids)  # no id reused
            assert sorted(ids.values()) == list(ids.values())
            # the survivor serves everything, old and new
            for subject, schema_id in ids.items():
                assert http.get(f"{second.url}/subjects/{subject}/versions/latest").json()["id"] == schema_id
    finally:
        first.kill()
        if second is not None:
            second.stop()


def test_registries_sharing_a_group_id_forward_only_to_their_own_primary(
    bootstrap: str, tmp_path: Path
) -> None:
    """Two registry clusters on one Kafka cluster with the same `schema.registry.group.id` (the
    default) but their own topics: a secondary forwards writes to the primary of its topic only."""
    group = {"schema.registry.group.id": f"sr-shared-{uuid.uuid4().hex[:6]}"}
    topic_a = {**group, "kafkastore.topic": f"_schemas-a-{uuid.uuid4().hex[:6]}"}
    topic_b = {**group, "kafkastore.topic": f"_schemas-b-{uuid.uuid4().hex[:6]}"}
    started: list[RegistryProcess] = []
    try:
        other = RegistryProcess(bootstrap, topic_a, tmp_path / "a.log").start()
        started.append(other)
        other.wait_primary()
        with httpx.Client(timeout=20, headers=CT) as http:
            for i in range(3):  # the other cluster's ids run ahead of this one's
                r = http.post(f"{other.url}/subjects/a{i}/versions", json={"schema": schema(i)})
                assert r.status_code == 200, r.text
            primary = RegistryProcess(bootstrap, topic_b, tmp_path / "b.log").start()
            started.append(primary)
            primary.wait_primary()
            secondary = RegistryProcess(
                bootstrap, {**topic_b, "leader.eligibility": "false"}, tmp_path / "b2.log"
            ).start()
            started.append(secondary)
            r = http.post(f"{secondary.url}/subjects/b/versions", json={"schema": schema(7)})
            assert r.status_code == 200, r.text
            assert r.json()["id"] == 1  # this cluster's first id, not the other cluster's fourth
            for url in (primary.url, secondary.url):
                assert http.get(f"{url}/schemas/ids/1").json()["schema"] == schema(7)
                assert http.get(f"{url}/subjects/b/versions/1").json()["id"] == 1
            assert http.get(f"{other.url}/subjects").json() == ["a0", "a1", "a2"]
    finally:
        for proc in reversed(started):
            proc.stop()
