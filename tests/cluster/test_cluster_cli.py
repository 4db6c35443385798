"""`odradek cluster up/describe/down` end to end: a real ZooKeeper and three real brokers in the
background, described through the Kafka protocol, stopped by their pids."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.cluster import local
from odradek.cluster.local import ClusterError, ClusterState, alive

pytestmark = pytest.mark.compat


def odradek(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "odradek", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_up_describe_down(tmp_path: Path) -> None:
    data = tmp_path / "cluster"
    up = odradek(
        "cluster", "up", "--brokers", "3", "--data", str(data), "--zookeeper-port", "0", "--port", "0"
    )
    state = ClusterState.load(data)
    try:
        assert up.returncode == 0, up.stderr
        assert state is not None and len(state.brokers) == 3
        assert f"bootstrap   {state.bootstrap}" in up.stdout
        with pytest.raises(ClusterError, match="already running"):
            local.up(data, 3, zookeeper_port=0, base_port=0)
        bootstrap = f"127.0.0.1:{state.brokers[0].port}"
        admin = AdminClient({"bootstrap.servers": bootstrap})
        [created] = admin.create_topics([NewTopic("orders", 6, 3)]).values()
        created.result(timeout=30)
        described = odradek("cluster", "describe", "-b", bootstrap, "--output", "json")
        assert described.returncode == 0, described.stderr
        doc = json.loads(described.stdout)
        assert [b["id"] for b in doc["brokers"]] == [1, 2, 3]
        assert doc["controller"] in (1, 2, 3)
        assert {b["id"]: b["leaders"] for b in doc["brokers"]} == {1: 2, 2: 2, 3: 2}
        assert doc["offline"] == [] and doc["under_replicated"] == []
        text = odradek("cluster", "describe", "-b", bootstrap).stdout
        assert "under-replicated: 0" in text and "(controller)" in text
    finally:
        down = odradek("cluster", "down", "--data", str(data))
    assert down.returncode == 0, down.stderr
    assert state is not None
    assert not alive(state.zookeeper_pid) and not any(alive(b.pid) for b in state.brokers)
    assert odradek("cluster", "down", "--data", str(data)).returncode != 0
