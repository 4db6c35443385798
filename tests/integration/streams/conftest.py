"""A broker tuned for quick KIP-848 groups (500 ms heartbeats) for the streams broker tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streams_kafka import STREAMS_BROKER, Kafka

from odradek.testing.broker_process import BrokerProcess


@pytest.fixture(scope="session")
def streams_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with BrokerProcess(tmp_path_factory.mktemp("streams-broker"), STREAMS_BROKER) as broker:
        yield broker.bootstrap


@pytest.fixture
def kafka(streams_bootstrap: str, tmp_path: Path) -> Kafka:
    return Kafka(streams_bootstrap, tmp_path)
