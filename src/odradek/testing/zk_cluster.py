"""A cluster of real `odradek broker` processes on a real ZooKeeper, for tests.

`ZkCluster(root, zk_connect)` starts brokers (`start(node_id)`, each a `BrokerProcess` with
`zookeeper.connect` and a short ZooKeeper session so a SIGKILL is noticed in seconds), kills and
restarts them, and hands out bootstrap lists that skip brokers which are down. The ZooKeeper server
is the caller's (`odradek.cluster.zookeeper.ZooKeeperServer`). Client-side helpers use
confluent-kafka, which the tests install.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from odradek.testing.broker_process import BrokerProcess

SESSION_MS = 6000


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    """Poll `condition` every 0.1 s; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        time.sleep(0.1)


def produce_values(producer: Any, topic: str, values: list[str], flush_s: float = 40.0) -> list[str]:
    """Produce `values` to partition 0 of `topic` with a confluent-kafka `producer`; the ones
    acknowledged, in order of acknowledgement."""
    acked: list[str] = []

    def delivered(error: object, message: Any) -> None:
        if error is None:
            acked.append(message.value().decode())

    for value in values:
        producer.produce(topic, value.encode(), partition=0, on_delivery=delivered)
    producer.flush(flush_s)
    return acked


def read_values(bootstrap: str, topic: str, count: int | None = None, timeout: float = 30.0) -> list[str]:
    """Partition 0 of `topic` from offset 0, values decoded, with a confluent-kafka consumer: `count`
    of them, or (None) up to the high watermark; fewer if `timeout` seconds pass first."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"read-{topic}", "enable.auto.commit": False}
    )
    try:
        if count is None:
            _, count = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=20)
        consumer.assign([TopicPartition(topic, 0, 0)])
        values: list[str] = []
        deadline = time.monotonic() + timeout
        while len(values) < count and time.monotonic() < deadline:
            for message in consumer.consume(500, timeout=1):
                value = message.value()
                if message.error() is None and value is not None:
                    values.append(value.decode())
        return values
    finally:
        consumer.close()


class ZkCluster:
    def __init__(
        self,
        root: Path,
        zk_connect: str,
        overrides: Mapping[str, str] | None = None,
        session_ms: int = SESSION_MS,
    ) -> None:
        self.root = root
        self.zk_connect = zk_connect
        self.session_ms = session_ms
        self.overrides = dict(overrides or {})
        self.brokers: dict[int, BrokerProcess] = {}

    def start(self, node_id: int, *, alias: bool = False) -> BrokerProcess:
        """Start broker `node_id` (again, on its data directory and port, if it ran before);
        `alias`: configured with `broker.id` instead of `node.id`."""
        overrides = {
            "zookeeper.connect": self.zk_connect,
            "zookeeper.session.timeout.ms": str(self.session_ms),
            **self.overrides,
        }
        overrides["broker.id" if alias else "node.id"] = str(node_id)
        proc = self.brokers.get(node_id) or BrokerProcess(
            self.root / f"b{node_id}", overrides, start_timeout=90
        )
        self.brokers[node_id] = proc
        return proc.start()

    def start_all(self, node_ids: tuple[int, ...] = (1, 2, 3)) -> None:
        """Start these brokers and wait until each of them lists all of them as registered."""
        for node_id in node_ids:
            self.start(node_id)
        self.wait_registered(len(node_ids))

    def wait_registered(self, count: int, timeout: float = 20.0) -> None:
        """Until every running broker (each answers from its own image, filled by its ZooKeeper
        watch) lists `count` registered brokers."""
        from confluent_kafka.admin import AdminClient

        for node_id in self.live():
            admin = AdminClient({"bootstrap.servers": self.brokers[node_id].bootstrap})

            def registered(admin: AdminClient = admin) -> bool:
                return len(admin.list_topics(timeout=10).brokers) == count

            wait_for(registered, timeout, f"{count} brokers registered, seen from broker {node_id}")

    def kill(self, node_id: int) -> None:
        self.brokers[node_id].kill()

    def kill_all(self) -> None:
        """SIGKILL every broker; each one's log lines stay in `<root>/b<id>.log` for a post-mortem."""
        for node_id, proc in self.brokers.items():
            proc.kill()
            (self.root / f"b{node_id}.log").write_text("\n".join(proc.lines) + "\n")

    def live(self) -> list[int]:
        return [i for i, p in self.brokers.items() if p.proc is not None]

    def bootstrap(self, *, without: int | None = None) -> str:
        return ",".join(p.bootstrap for i, p in self.brokers.items() if i != without and p.proc is not None)
