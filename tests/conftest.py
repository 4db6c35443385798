"""Shared fixtures: a real broker subprocess for client tests.

`broker` is one broker for the whole session (tests use distinct topic names via `topic_name`);
tests that restart or kill a broker make their own with `broker_factory`. Set
ODRADEK_TEST_BOOTSTRAP=host:port to run the client tests against another broker instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from odradek.testing.broker_process import BrokerProcess


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess | None]:
    if os.environ.get("ODRADEK_TEST_BOOTSTRAP"):
        yield None
        return
    proc = BrokerProcess(tmp_path_factory.mktemp("broker"), {"num.partitions": "1"})
    with proc:
        yield proc


@pytest.fixture(scope="session")
def bootstrap(broker: BrokerProcess | None) -> str:
    if broker is None:
        return os.environ["ODRADEK_TEST_BOOTSTRAP"]
    return broker.bootstrap


@pytest.fixture
def topic_name(request: pytest.FixtureRequest) -> str:
    """A topic name unique to this test."""
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:60]
    return f"{base}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator[Callable[..., BrokerProcess]]:
    started: list[BrokerProcess] = []

    def make(overrides: dict[str, str] | None = None, data_dir: Path | None = None) -> BrokerProcess:
        proc = BrokerProcess(data_dir or tmp_path / f"broker{len(started)}", overrides)
        started.append(proc)
        return proc.start()

    yield make
    for proc in started:
        proc.kill()
