"""Fixtures of the REST proxy tests: one proxy process on the session broker, httpx clients.

`rest` is a proxy subprocess (port 0, announced as under `odradek dev`) shared by the module;
`http` an httpx client on it; `cluster_id` the v3 cluster id; `make_topic(partitions)` creates a
topic with a unique name through the Kafka admin API (not through the proxy, so proxy bugs cannot
hide each other). Every response `http` receives is checked against /openapi.json
(`openapi_check`): the document must describe the implementation.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from confluent_kafka.admin import AdminClient, NewTopic
from openapi_check import OpenApiCheck

from odradek.testing.service_process import ServiceProcess, rest_proxy


@pytest.fixture(scope="session")
def rest(bootstrap: str) -> Iterator[ServiceProcess]:
    with rest_proxy(
        bootstrap,
        "--override",
        "consumer.request.timeout.ms=500",
        "--override",
        "request.timeout.ms=8000",
        "--override",
        "consumer.instance.timeout.ms=3000",
        "--override",
        "stream.idle.timeout.ms=2000",
        "--override",
        "max.request.bytes=1000000",
    ) as proc:
        yield proc


@pytest.fixture(scope="session")
def openapi(rest: ServiceProcess) -> Iterator[OpenApiCheck]:
    r = httpx.get(rest.url + "/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    check = OpenApiCheck(r.json())
    yield check
    assert check.checked > 0, "no response was checked against /openapi.json"


@pytest.fixture(scope="session")
def http(rest: ServiceProcess, openapi: OpenApiCheck) -> Iterator[httpx.Client]:
    def check(response: httpx.Response) -> None:
        if response.headers.get("content-type", "").startswith(("text/event-stream", "application/x-ndjson")):
            return  # a stream: its media type is checked by the test reading it
        response.read()
        openapi.check(response)

    with httpx.Client(base_url=rest.url, timeout=30, event_hooks={"response": [check]}) as client:
        yield client


@pytest.fixture(scope="session")
def cluster_id(http: httpx.Client) -> str:
    r = http.get("/v3/clusters")
    assert r.status_code == 200
    return str(r.json()["data"][0]["cluster_id"])


@pytest.fixture(scope="session")
def kafka_admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap})


@pytest.fixture
def make_topic(kafka_admin: AdminClient, request: pytest.FixtureRequest) -> Callable[..., str]:
    def make(partitions: int = 1, **configs: str) -> str:
        base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:40]
        name = f"rest-{base}-{uuid.uuid4().hex[:8]}"
        futures = kafka_admin.create_topics(
            [NewTopic(name, partitions, 1, config={k.replace("_", "."): v for k, v in configs.items()})]
        )
        futures[name].result(15)
        return name

    return make
