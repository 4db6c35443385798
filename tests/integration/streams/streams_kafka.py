"""Helpers of the streams broker tests: topics, producing, reading back, app configs, waiting."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

STREAMS_BROKER = {
    "num.partitions": "1",
    "group.initial.rebalance.delay.ms": "0",
    "group.consumer.heartbeat.interval.ms": "500",
    "group.consumer.min.heartbeat.interval.ms": "500",
}


class Kafka:
    """Topic creation, producing and reading back, for one test."""

    def __init__(self, bootstrap: str, tmp_path: Path) -> None:
        self.bootstrap = bootstrap
        self.tmp_path = tmp_path
        self.suffix = uuid.uuid4().hex[:6]
        self.admin = AdminClient({"bootstrap.servers": bootstrap})
        self.producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})

    def topic(self, name: str, partitions: int = 1, **config: str) -> str:
        full = f"{name}-{self.suffix}"
        for future in self.admin.create_topics([NewTopic(full, partitions, 1, config=config)]).values():
            future.result()
        return full

    def produce(self, topic: str, records: list[tuple[bytes | None, bytes | None, int]]) -> None:
        for key, value, ts in records:
            self.producer.produce(topic, value, key, timestamp=ts)
        self.producer.flush(10)

    def read(
        self, topic: str, until: Callable[[list[Any]], bool], timeout_s: float = 30.0, committed: bool = True
    ) -> list[Any]:
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": f"reader-{uuid.uuid4().hex[:6]}",
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed" if committed else "read_uncommitted",
                "enable.auto.commit": False,
            }
        )
        consumer.subscribe([topic])
        out: list[Any] = []
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline and not until(out):
                msg = consumer.poll(0.2)
                if msg is not None and msg.error() is None:
                    out.append(msg)
        finally:
            consumer.close()
        return out

    def config(self, app: str, **extra: Any) -> dict[str, Any]:
        return {
            "application.id": f"{app}-{self.suffix}",
            "bootstrap.servers": self.bootstrap,
            "state.dir": str(self.tmp_path / "state"),
            "default.key.serde": "string",
            "default.value.serde": "string",
            "commit.interval.ms": 100,
            **extra,
        }


def wait_for(predicate: Callable[[], bool], timeout_s: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
