"""Fixtures for Connect tests: herders (standalone and distributed) on the session broker."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer

from odradek.connect.runtime.herder import Herder
from odradek.connect.runtime.worker import distributed_herder, standalone_herder


def wait_for(
    predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what or predicate}: last={last!r}")


def read_topic(bootstrap: str, topic: str, count: int, timeout: float = 30.0, **extra: Any) -> list[Any]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            **extra,
        }
    )
    consumer.subscribe([topic])
    out: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < count and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.5):
                if message.error() is None:
                    out.append(message)
    finally:
        consumer.close()
    return out


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
