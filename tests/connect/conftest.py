"""Fixtures for Connect tests: one broker for all of them (its groups form at once: sink tasks and
workers join without the 3 s initial rebalance delay), herders (standalone and distributed), a
private PostgreSQL server. Helpers live in `connect_helpers.py` (importable by name from every
test)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from postgres_server import postgres_server

from odradek.connect.runtime.herder import Herder
from odradek.connect.runtime.worker import distributed_herder, standalone_herder
from odradek.testing.broker_process import BrokerProcess


@pytest.fixture(scope="session")
def connect_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess | None]:
    if os.environ.get("ODRADEK_TEST_BOOTSTRAP"):
        yield None
        return
    overrides = {"num.partitions": "1", "group.initial.rebalance.delay.ms": "0"}
    with BrokerProcess(tmp_path_factory.mktemp("connect-broker"), overrides) as proc:
        yield proc


@pytest.fixture(scope="session")
def bootstrap(connect_broker: BrokerProcess | None) -> str:
    if connect_broker is None:
        return os.environ["ODRADEK_TEST_BOOTSTRAP"]
    return connect_broker.bootstrap


@pytest.fixture
def standalone(bootstrap: str, tmp_path: Path) -> Iterator[Callable[..., Herder]]:
    started: list[Herder] = []

    def make(**overrides: str) -> Herder:
        props = {
            "bootstrap.servers": bootstrap,
            "offset.storage.file.filename": str(tmp_path / "offsets.json"),
            "offset.flush.interval.ms": "200",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            **overrides,
        }
        herder = standalone_herder(props, "http://127.0.0.1:0")
        herder.start()
        started.append(herder)
        return herder

    yield make
    for herder in started:
        herder.stop()


@pytest.fixture
def distributed(bootstrap: str) -> Iterator[Callable[..., Herder]]:
    started: list[Herder] = []
    group = f"connect-{uuid.uuid4().hex[:8]}"

    def make(url: str = "", **overrides: str) -> Herder:
        props = {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "config.storage.topic": f"{group}-configs",
            "offset.storage.topic": f"{group}-offsets",
            "status.storage.topic": f"{group}-status",
            "offset.storage.partitions": "5",
            "status.storage.partitions": "2",
            "odradek.task.slots": "12",
            "offset.flush.interval.ms": "200",
            "scheduled.rebalance.max.delay.ms": "6000",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            **overrides,
        }
        herder = distributed_herder(props, url or f"http://127.0.0.1:{18000 + len(started)}")
        herder.start()
        started.append(herder)
        deadline = time.monotonic() + 30
        while herder.assignment.rebalancing() and time.monotonic() < deadline:  # joined the worker group
            time.sleep(0.05)
        return herder

    yield make
    for herder in started:
        herder.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A private PostgreSQL server (Debian's package, installed by `make test`) on a free port; it
    stops with the test process, even one that is killed."""
    with postgres_server() as url:
        yield url
