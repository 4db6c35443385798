"""The HTTP and JDBC sinks on a real broker: batching, retries, DLQ on 4xx; insert/upsert/delete
with table auto-create and evolution on SQLite and on Debian's PostgreSQL server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from confluent_kafka import Producer
from connect_helpers import read_topic, wait_for

JSON_VALUES = {
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter.schemas.enable": "false",
}


class Endpoint:
    """A local HTTP endpoint: refuses bodies containing "poison" (400), fails the first `flaky` requests (503)."""

    def __init__(self, flaky: int = 0) -> None:
        self.bodies: list[Any] = []
        self.flaky = flaky
        self.requests = 0
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.requests += 1
                if endpoint.flaky > 0:
                    endpoint.flaky -= 1
                    self.send_response(503)
                elif b"poison" in body:
                    self.send_response(400)
                else:
                    endpoint.bodies.append(
                        ({k.lower(): v for k, v in self.headers.items()}, json.loads(body))
                    )
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ingest"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def items(self) -> list[Any]:
        return [item for _, body in self.bodies for item in body]


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint(flaky=2)
    yield server
    server.server.shutdown()
    server.server.server_close()


def produce(bootstrap: str, topic: str, values: list[Any], keys: list[Any] | None = None) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for i, value in enumerate(values):
        key = None if keys is None else (None if keys[i] is None else json.dumps(keys[i]).encode())
        producer.produce(topic, key=key, value=None if value is None else json.dumps(value).encode())
    producer.flush(10)


def test_http_sink_batches_retries_and_dead_letters_refused_records(
    standalone, bootstrap: str, topic_name: str, endpoint: Endpoint
) -> None:
    dlq = topic_name + "-dlq"
    values = [{"n": i} for i in range(20)]
    values[7] = {"n": 7, "poison": True}
    produce(bootstrap, topic_name, values)
    herder = standalone(**JSON_VALUES)
    herder.put_connector_config(
        "http",
        {
            "connector.class": "odradek.connect.connectors.http_sink.HttpSinkConnector",
            "topics": topic_name,
            "http.url": endpoint.url,
            "batch.max.size": "8",
            "retry.backoff.ms": "10",
            "http.headers.additional": "X-Source:odradek",
            "http.headers.authorization": "Bearer ${env:HOME}",
            "errors.tolerance": "all",
            "errors.deadletterqueue.topic.name": dlq,
            "errors.deadletterqueue.topic.replication.factor": "1",
            "errors.deadletterqueue.context.headers.enable": "true",
        },
        allow_replace=False,
    )
    wait_for(lambda: len(endpoint.items()) == 19, what="19 good records delivered")
    assert sorted(item["n"] for item in endpoint.items()) == [i for i in range(20) if i != 7]
    assert endpoint.bodies[0][0]["x-source"] == "odradek"
    assert endpoint.bodies[0][0]["authorization"].startswith(
        "Bearer /"
    )  # the placeholder was resolved for the task
    assert herder.connector_info("http")["config"]["http.headers.authorization"] == "Bearer ${env:HOME}"
    [dead] = read_topic(bootstrap, dlq, 1)
    assert json.loads(dead.value()) == {"n": 7, "poison": True}
    headers = dict(dead.headers())
    assert headers["__connect.errors.topic"] == topic_name.encode()
    assert headers["__connect.errors.offset"] == b"7"
    assert headers["__connect.errors.stage"] == b"TASK_PUT"
    assert headers["__connect.errors.connector.name"] == b"http"
    assert b"HttpRefused" in headers["__connect.errors.exception.class.name"]
    assert headers["__connect.errors.exception.stacktrace"]
    assert herder.connector_status("http")["tasks"][0]["state"] == "RUNNING"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_jdbc_sink_upsert_delete_auto_create_and_evolve(
    standalone, bootstrap: str, topic_name: str, tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'sink.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    table = f"t_{database}_{abs(hash(topic_name)) % 10**8}"
    produce(
        bootstrap,
        topic_name,
        [
            {"id": 1, "name": "ada"},
            {"id": 2, "name": "bob"},
            {"id": 1, "name": "ada lovelace"},
            {"id": 3, "name": "cy", "age": 30},
            None,
        ],
        keys=[{"id": 1}, {"id": 2}, {"id": 1}, {"id": 3}, {"id": 2}],
    )
    herder = standalone(
        **JSON_VALUES,
        **{
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "key.converter.schemas.enable": "false",
        },
    )
    herder.put_connector_config(
        "jdbc",
        {
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            "topics": topic_name,
            "connection.url": url,
            "table.name.format": table,
            "insert.mode": "upsert",
            "pk.mode": "record_key",
            "auto.create": "true",
            "auto.evolve": "true",
            "delete.enabled": "true",
        },
        allow_replace=False,
    )
    engine = sa.create_engine(url)

    def rows() -> list[tuple[Any, ...]]:
        try:
            with engine.connect() as connection:
                return sorted(
                    tuple(r) for r in connection.execute(sa.text(f'SELECT id, name, age FROM "{table}"'))
                )
        except sa.exc.DBAPIError:
            return []

    wait_for(lambda: rows() == [(1, "ada lovelace", None), (3, "cy", 30)], what="upserted rows")
    engine.dispose()
