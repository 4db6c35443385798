"""A broker tuned for quick KIP-848 groups and one SQL server, for the SQL broker tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sql_server_process import SQL_BROKER, SqlServerProcess

from odradek.testing.broker_process import BrokerProcess


@pytest.fixture(scope="module")
def sql_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with BrokerProcess(tmp_path_factory.mktemp("sql-broker"), SQL_BROKER) as broker:
        yield broker.bootstrap


@pytest.fixture(scope="module")
def sql_server(sql_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlServerProcess]:
    with SqlServerProcess(sql_bootstrap, tmp_path_factory.mktemp("sql") / "state") as server:
        yield server
