"""A schema registry process (odradek registry) against the session's broker, for client tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from odradek.testing.registry_process import RegistryProcess


@pytest.fixture(scope="session")
def registry(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryProcess]:
    log = Path(tmp_path_factory.mktemp("registry")) / "registry.log"
    proc = RegistryProcess(bootstrap, {"kafkastore.topic": f"_schemas-{uuid.uuid4().hex[:6]}"}, log)
    with proc:
        proc.wait_primary()
        yield proc


@pytest.fixture
def subject(request: pytest.FixtureRequest) -> str:
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:50]
    return f"{base}-{uuid.uuid4().hex[:6]}"
