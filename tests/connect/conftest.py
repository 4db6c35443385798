"""Fixtures for Connect tests: herders (standalone and distributed) on the session broker, a private
PostgreSQL server. Helpers live in `connect_helpers.py` (importable by name from every test)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from odradek.connect.runtime.herder import Herder
from odradek.connect.runtime.worker import distributed_herder, standalone_herder


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
        return herder

    yield make
    for herder in started:
        herder.stop()
