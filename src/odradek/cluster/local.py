"""A local development cluster: one ZooKeeper and N brokers as background processes (`odradek cluster up`).

Everything lives under one directory (default `./odradek-cluster`):

```
odradek-cluster/cluster.json      what runs: ZooKeeper's pid and port, each broker's id, pid, port
odradek-cluster/zookeeper/        zoo.cfg, ZooKeeper's data and zookeeper.out
odradek-cluster/broker-<id>/      the broker's log.dirs; broker.log is its output
```

`up` starts ZooKeeper (127.0.0.1:2181 unless told otherwise), then brokers 1..N on consecutive ports
(9092, 9093, ... unless told otherwise; port 0: free ports), each `odradek broker` with
`zookeeper.connect`, its own `node.id` and `log.dirs`, in sessions of their own so they outlive the
command, and waits until each answers Metadata. Starting again over a stopped cluster keeps its
data. `down` stops the brokers (SIGTERM: a clean shutdown, their ZooKeeper sessions end) and then
ZooKeeper, by the pids in `cluster.json`. This module only starts and stops processes: what the
cluster looks like is asked through the Kafka protocol (`odradek cluster describe`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from odradek.cluster.zookeeper import ZooKeeperServer, free_port, is_serving
from odradek.supervisor.probe import wait_for_metadata

STATE_FILE = "cluster.json"
BROKER_START_S = 120.0


class ClusterError(RuntimeError):
    pass


@dataclass
class BrokerState:
    node_id: int
    port: int
    pid: int


@dataclass
class ClusterState:
    zookeeper_port: int
    zookeeper_pid: int
    brokers: list[BrokerState] = field(default_factory=list)

    @property
    def zookeeper_connect(self) -> str:
        return f"127.0.0.1:{self.zookeeper_port}"

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{b.port}" for b in self.brokers)

    def save(self, directory: Path) -> None:
        (directory / STATE_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, directory: Path) -> ClusterState | None:
        path = directory / STATE_FILE
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls(
            int(data["zookeeper_port"]),
            int(data["zookeeper_pid"]),
            [BrokerState(int(b["node_id"]), int(b["port"]), int(b["pid"])) for b in data["brokers"]],
        )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, ValueError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


def broker_command(
    node_id: int, port: int, directory: Path, zookeeper: str, overrides: dict[str, str]
) -> list[str]:
    cmd = [sys.executable, "-m", "odradek", "broker", "--node-id", str(node_id)]
    cmd += ["--listeners", f"PLAINTEXT://127.0.0.1:{port}", "--log-dirs", str(directory)]
    cmd += ["--override", f"zookeeper.connect={zookeeper}"]
    for name, value in overrides.items():
        cmd += ["--override", f"{name}={value}"]
    return cmd


def internal_topic_overrides(brokers: int) -> dict[str, str]:
    """What a cluster of fewer than 3 brokers needs so that its internal topics can be created:
    Kafka's defaults (replication factor 3, `transaction.state.log.min.isr` 2) capped at the
    broker count (a 3+ broker cluster keeps Kafka's defaults)."""
    if brokers >= 3:
        return {}
    return {
        "offsets.topic.replication.factor": str(brokers),
        "transaction.state.log.replication.factor": str(brokers),
        "transaction.state.log.min.isr": str(min(2, brokers)),
    }


def up(
    directory: Path,
    brokers: int,
    *,
    zookeeper_port: int = 2181,
    base_port: int = 9092,
    overrides: dict[str, str] | None = None,
) -> ClusterState:
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    old = ClusterState.load(directory)
    if old is not None and (alive(old.zookeeper_pid) or any(alive(b.pid) for b in old.brokers)):
        raise ClusterError(f"a cluster is already running from {directory} (odradek cluster down first)")
    zk_port = zookeeper_port or free_port()
    if is_serving("127.0.0.1", zk_port):
        raise ClusterError(f"something already serves ZooKeeper on 127.0.0.1:{zk_port} (--zookeeper-port)")
    zookeeper = ZooKeeperServer(directory / "zookeeper", zk_port)
    zookeeper.start(detach=True)
    assert zookeeper.pid is not None
    state = ClusterState(zk_port, zookeeper.pid)
    state.save(directory)
    try:
        for node_id in range(1, brokers + 1):
            port = base_port + node_id - 1 if base_port else free_port()
            data = directory / f"broker-{node_id}"
            data.mkdir(exist_ok=True)
            with open(data / "broker.log", "ab") as out:
                process = subprocess.Popen(
                    broker_command(
                        node_id,
                        port,
                        data,
                        state.zookeeper_connect,
                        {**internal_topic_overrides(brokers), **(overrides or {})},
                    ),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            state.brokers.append(BrokerState(node_id, port, process.pid))
            state.save(directory)
        for broker in state.brokers:
            if not asyncio.run(wait_for_metadata(f"127.0.0.1:{broker.port}", BROKER_START_S)):
                log_file = directory / f"broker-{broker.node_id}" / "broker.log"
                tail = log_file.read_text(errors="replace").splitlines()[-15:] if log_file.exists() else []
                raise ClusterError(
                    f"broker {broker.node_id} did not answer on 127.0.0.1:{broker.port}; "
                    f"the end of {log_file}:\n" + "\n".join(tail)
                )
    except BaseException:
        down(directory)
        raise
    return state


def down(directory: Path, timeout: float = 30.0) -> ClusterState | None:
    """Stop what `cluster.json` names: brokers first (clean shutdown), then ZooKeeper."""
    directory = directory.resolve()
    state = ClusterState.load(directory)
    if state is None:
        return None
    _stop([b.pid for b in state.brokers], timeout)
    _stop([state.zookeeper_pid], timeout)
    (directory / STATE_FILE).unlink(missing_ok=True)
    return state


def _stop(pids: list[int], timeout: float) -> None:
    running = [pid for pid in pids if alive(pid)]
    for pid in running:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in running) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in running:
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
