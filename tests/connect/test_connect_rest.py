"""REST contract of every Connect endpoint: paths, bodies and status codes as Kafka Connect
answers them (a standalone worker on the session broker, driven over HTTP with httpx)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from connect_helpers import wait_for
from starlette.testclient import TestClient

from odradek.connect.rest.app import create_connect_app
from odradek.connect.runtime.worker import standalone_herder

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"


@pytest.fixture
def client(bootstrap: str, tmp_path: Path) -> Iterator[TestClient]:
    herder = standalone_herder(
        {
            "bootstrap.servers": bootstrap,
            "offset.storage.file.filename": str(tmp_path / "offsets.json"),
            "offset.flush.interval.ms": "100",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        },
        "http://127.0.0.1:8083",
    )
    with TestClient(create_connect_app(herder)) as c:
        yield c


def source_config(tmp_path: Path, topic: str, **extra: str) -> dict[str, str]:
    path = tmp_path / "in.txt"
    if not path.exists():
        path.write_text("a\nb\nc\n")
    return {"connector.class": SOURCE, "file": str(path), "topic": topic, **extra}


def running(client: TestClient, name: str, tasks: int = 1) -> bool:
    status = client.get(f"/connectors/{name}/status")
    if status.status_code != 200:
        return False
    body = status.json()
    return (
        body["connector"]["state"] == "RUNNING"
        and len(body["tasks"]) == tasks
        and all(t["state"] == "RUNNING" for t in body["tasks"])
    )


def test_root_health_and_plugins(client: TestClient) -> None:
    root = client.get("/")
    assert root.status_code == 200 and set(root.json()) == {"version", "commit", "kafka_cluster_id"}
    health = client.get("/health")
    assert health.status_code in (200, 503) and health.json()["status"] in ("healthy", "starting")
    wait_for(lambda: client.get("/health").status_code == 200)
    assert client.get("/health").json() == {
        "status": "healthy",
        "message": "Worker has completed startup and is ready to handle requests.",
    }
    plugins = client.get("/connector-plugins").json()
    assert {"class": SOURCE, "type": "source", "version": "odradek"} in plugins
    assert all(p["type"] in ("source", "sink") for p in plugins)
    everything = client.get("/connector-plugins", params={"connectorsOnly": "false"}).json()
    assert {
        "class": "org.apache.kafka.connect.transforms.Cast$Value",
        "type": "transformation",
        "version": "odradek",
    } in everything
    config = client.get(f"/connector-plugins/{SOURCE}/config")
    assert config.status_code == 200
    names = {d["name"] for d in config.json()}
    assert {"file", "topic", "batch.size", "tasks.max", "errors.tolerance"} <= names
    assert client.get("/connector-plugins/NoSuchPlugin/config").status_code == 404


def test_validate_reports_per_field_errors(client: TestClient, topic_name: str) -> None:
    answer = client.put(
        f"/connector-plugins/{SOURCE}/config/validate",
        json={
            "connector.class": SOURCE,
            "name": "v",
            "tasks.max": "zero",
            "batch.size": "-1",
            "transforms": "x",
            "transforms.x.type": "NoSuchTransform",
        },
    )
    assert answer.status_code == 200
    body = answer.json()
    errors = {c["value"]["name"]: c["value"]["errors"] for c in body["configs"] if c["value"]["errors"]}
    assert body["name"] == SOURCE and body["error_count"] == sum(len(e) for e in errors.values())
    assert set(errors) >= {"tasks.max", "batch.size", "topic", "transforms.x.type"}
    assert "Common" in body["groups"]
    ok = client.put(
        "/connector-plugins/FileStreamSource/config/validate",
        json={"connector.class": SOURCE, "name": "v", "topic": topic_name},
    )
    assert ok.json()["error_count"] == 0
    mismatch = client.put(f"/connector-plugins/{SOURCE}/config/validate", json={"connector.class": SINK})
    assert mismatch.status_code == 400
    unknown = client.put("/connector-plugins/Nope/config/validate", json={"name": "x"})
    assert unknown.status_code == 200 and unknown.json()["error_count"] >= 1


def test_connector_lifecycle(client: TestClient, tmp_path: Path, topic_name: str) -> None:
    assert client.get("/connectors").json() == []
    created = client.post("/connectors", json={"name": "src", "config": source_config(tmp_path, topic_name)})
    assert created.status_code == 201
    assert created.json() == {
        "name": "src",
        "config": {**source_config(tmp_path, topic_name), "name": "src"},
        "tasks": [],
        "type": "source",
    }
    assert (
        client.post(
            "/connectors", json={"name": "src", "config": source_config(tmp_path, topic_name)}
        ).status_code
        == 409
    )
    wait_for(lambda: running(client, "src"), what="src running")
    info = client.get("/connectors/src").json()
    assert info["tasks"] == [{"connector": "src", "task": 0}] and info["type"] == "source"
    assert client.get("/connectors").json() == ["src"]
    expanded = client.get("/connectors?expand=status&expand=info").json()
    assert set(expanded["src"]) == {"status", "info"}
    assert client.get("/connectors/src/config").json()["topic"] == topic_name
    status = client.get("/connectors/src/status").json()
    assert status["name"] == "src" and status["type"] == "source"
    assert status["connector"] == {"state": "RUNNING", "worker_id": "127.0.0.1:8083"}
    assert client.get("/connectors/src/tasks/0/status").json() == {
        "id": 0,
        "state": "RUNNING",
        "worker_id": "127.0.0.1:8083",
    }
    tasks = client.get("/connectors/src/tasks").json()
    assert tasks[0]["id"] == {"connector": "src", "task": 0} and tasks[0]["config"]["topic"] == topic_name
    assert list(client.get("/connectors/src/tasks-config").json()) == ["src-0"]
    wait_for(
        lambda: client.get("/connectors/src/topics").json() == {"src": {"topics": [topic_name]}},
        what="active topics",
    )
    assert client.put("/connectors/src/topics/reset").status_code == 200
    assert client.get("/connectors/src/topics").json() == {"src": {"topics": []}}

    # config: PUT updates (200), PATCH merges and removes nulls
    updated = client.put(
        "/connectors/src/config", json={**source_config(tmp_path, topic_name), "batch.size": "10"}
    )
    assert updated.status_code == 200 and updated.json()["config"]["batch.size"] == "10"
    patched = client.patch("/connectors/src/config", json={"batch.size": None, "tasks.max": "1"})
    assert patched.status_code == 200 and "batch.size" not in patched.json()["config"]
    created_by_put = client.put("/connectors/src2/config", json=source_config(tmp_path, topic_name))
    assert created_by_put.status_code == 201

    # pause / resume / restart
    assert client.put("/connectors/src/pause").status_code == 202
    wait_for(
        lambda: client.get("/connectors/src/status").json()["connector"]["state"] == "PAUSED", what="paused"
    )
    wait_for(
        lambda: client.get("/connectors/src/tasks/0/status").json()["state"] == "PAUSED", what="task paused"
    )
    assert client.put("/connectors/src/resume").status_code == 202
    wait_for(lambda: running(client, "src"), what="resumed")
    assert client.post("/connectors/src/restart").status_code == 204
    restarted = client.post("/connectors/src/restart?includeTasks=true&onlyFailed=false")
    assert restarted.status_code == 202 and restarted.json()["connector"]["state"] == "RESTARTING"
    assert restarted.json()["tasks"][0]["state"] == "RESTARTING"
    wait_for(lambda: running(client, "src"), what="running after restart")
    assert client.post("/connectors/src/tasks/0/restart").status_code == 204
    wait_for(lambda: running(client, "src"), what="running after task restart")

    # offsets (KIP-875): readable while running, changeable only when stopped
    wait_for(lambda: client.get("/connectors/src/offsets").json()["offsets"], what="offsets stored")
    offsets = client.get("/connectors/src/offsets").json()["offsets"]
    assert offsets == [{"partition": {"filename": str(tmp_path / "in.txt")}, "offset": {"position": 6}}]
    refused = client.patch(
        "/connectors/src/offsets",
        json={"offsets": [{"partition": offsets[0]["partition"], "offset": {"position": 2}}]},
    )
    assert refused.status_code == 400 and "STOPPED" in refused.json()["message"]
    assert client.put("/connectors/src/stop").status_code == 202
    wait_for(
        lambda: client.get("/connectors/src/status").json()["connector"]["state"] == "STOPPED", what="stopped"
    )
    wait_for(lambda: client.get("/connectors/src").json()["tasks"] == [], what="tasks gone")
    altered = client.patch(
        "/connectors/src/offsets",
        json={"offsets": [{"partition": offsets[0]["partition"], "offset": {"position": 2}}]},
    )
    assert altered.status_code == 200, altered.text
    assert altered.json() == {"message": "The offsets for this connector have been altered successfully"}
    assert client.get("/connectors/src/offsets").json()["offsets"][0]["offset"] == {"position": 2}
    bad = client.patch(
        "/connectors/src/offsets",
        json={"offsets": [{"partition": offsets[0]["partition"], "offset": {"position": "x"}}]},
    )
    assert bad.status_code == 400
    reset = client.delete("/connectors/src/offsets")
    assert reset.status_code == 200 and reset.json() == {
        "message": "The offsets for this connector have been reset successfully"
    }
    assert client.get("/connectors/src/offsets").json() == {"offsets": []}

    # delete
    assert client.delete("/connectors/src").status_code == 204
    assert client.get("/connectors/src").status_code == 404
    assert client.delete("/connectors/src2").status_code == 204


def test_initial_state_and_errors(client: TestClient, tmp_path: Path, topic_name: str) -> None:
    paused = client.post(
        "/connectors",
        json={"name": "p", "config": source_config(tmp_path, topic_name), "initial_state": "PAUSED"},
    )
    assert paused.status_code == 201
    wait_for(
        lambda: client.get("/connectors/p/status").json()["connector"]["state"] == "PAUSED",
        what="paused at creation",
    )
    stopped = client.post(
        "/connectors",
        json={"name": "s", "config": source_config(tmp_path, topic_name), "initial_state": "STOPPED"},
    )
    assert stopped.status_code == 201
    wait_for(
        lambda: client.get("/connectors/s/status").json()["connector"]["state"] == "STOPPED",
        what="stopped at creation",
    )
    for path in (
        "/connectors/none",
        "/connectors/none/config",
        "/connectors/none/status",
        "/connectors/none/tasks",
        "/connectors/none/topics",
        "/connectors/none/offsets",
        "/connectors/p/tasks/7/status",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error_code"] == 404 and answer.json()["message"]
    assert client.delete("/connectors/none").status_code == 404
    assert client.put("/connectors/none/pause").status_code == 404
    assert client.post("/connectors/none/restart").status_code == 404
    invalid = client.post(
        "/connectors", json={"name": "bad", "config": {"connector.class": SOURCE, "tasks.max": "0"}}
    )
    assert invalid.status_code == 400 and "error(s)" in invalid.json()["message"]
    unknown = client.post(
        "/connectors", json={"name": "bad", "config": {"connector.class": "com.example.Missing"}}
    )
    assert unknown.status_code == 400 and "com.example.Missing" in unknown.json()["message"]
    assert (
        client.post(
            "/connectors", content=b"{not json", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert client.post("/connectors", json={"config": {}}).status_code == 400
    assert (
        client.post(
            "/connectors",
            json={"name": "x", "config": source_config(tmp_path, topic_name), "initial_state": "DANCING"},
        ).status_code
        == 400
    )
    mismatch = client.put("/connectors/a/config", json={**source_config(tmp_path, topic_name), "name": "b"})
    assert mismatch.status_code == 400
    assert client.get("/nope").status_code == 404
    assert client.post("/connectors/p/pause").status_code == 405
    assert client.get("/connectors").json() == ["p", "s"]


def test_loggers(client: TestClient) -> None:
    assert "root" in client.get("/admin/loggers").json()
    changed = client.put("/admin/loggers/odradek.connect", json={"level": "DEBUG"})
    assert changed.status_code == 200 and "odradek.connect" in changed.json()
    assert client.get("/admin/loggers/odradek.connect").json()["level"] == "DEBUG"
    assert client.put("/admin/loggers/odradek.connect", json={"level": "LOUD"}).status_code == 400
    assert (
        client.put("/admin/loggers/odradek.connect?scope=cluster", json={"level": "INFO"}).status_code == 204
    )
    wait_for(
        lambda: client.get("/admin/loggers/odradek.connect").json()["level"] == "INFO", what="cluster level"
    )
    assert client.get("/admin/loggers/no.such.logger").status_code == 404
