"""A real ZooKeeper (the Debian package's) for the cluster tests: one server per session on a free
port, and a fresh chroot per test, so tests never see each other's znodes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from odradek.cluster.zookeeper import ZooKeeperServer


@pytest.fixture(scope="session")
def zookeeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZooKeeperServer]:
    server = ZooKeeperServer(tmp_path_factory.mktemp("zookeeper"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def zk_connect(zookeeper: ZooKeeperServer) -> str:
    """`zookeeper.connect` with a chroot of this test's own."""
    return f"{zookeeper.connect}/t-{uuid.uuid4().hex[:12]}"
