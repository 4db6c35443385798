"""Helpers for the CLI's real-client tests (the `bootstrap` fixture itself lives in tests/conftest.py).

`admin` (confluent-kafka) and `kp_admin` (kafka-python) are admin clients on `bootstrap`.
`run_cli(*argv, stdin=b"...")` runs `odradek` in-process (`main([...])`) against `bootstrap` and
returns its exit code, stdout bytes and stderr text. `group_bootstrap` is one broker tuned for quick
consumer groups, shared by the `test_groups_*` files.

Marker `beyond_tansu`: the test needs broker behaviour the Tansu peer broker lacks (AlterConfigs,
CreatePartitions, config sources in DescribeConfigs, validate-only creation, group members in
DescribeGroups...). Against Tansu, run `-m "compat and not beyond_tansu"`.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from admin_clients import KafkaAdminClient
from confluent_kafka.admin import AdminClient
from group_clients import GROUP_BROKER

from odradek.cli.main import main
from odradek.testing.broker_process import BrokerProcess


@pytest.fixture(scope="module")
def admin(bootstrap: str) -> AdminClient:
    """A confluent-kafka AdminClient on the session broker (test_groups_admin has its own)."""
    return AdminClient({"bootstrap.servers": bootstrap})


@pytest.fixture
def kp_admin(bootstrap: str) -> Iterator[KafkaAdminClient]:
    """A kafka-python admin client on the session broker, closed after the test."""
    client = KafkaAdminClient(bootstrap_servers=bootstrap)
    yield client
    client.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "beyond_tansu: needs broker behaviour the Tansu peer broker lacks")


@dataclass(frozen=True)
class CliResult:
    code: int
    out: bytes
    err: str


RunCli = Callable[..., CliResult]


@pytest.fixture
def run_cli(
    bootstrap: str, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> RunCli:
    def run(*argv: str, stdin: bytes = b"") -> CliResult:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
        capsysbinary.readouterr()
        code = main([*argv, "-b", bootstrap])
        captured = capsysbinary.readouterr()
        return CliResult(code, captured.out, captured.err.decode())

    return run


@pytest.fixture(scope="session")
def group_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker tuned for quick consumer groups (`group_clients.GROUP_BROKER`), shared by the group tests."""
    with BrokerProcess(tmp_path_factory.mktemp("groups"), GROUP_BROKER) as proc:
        yield proc.bootstrap
