"""Helpers for the consumer group tests: a broker tuned for quick groups, members that poll until a
condition holds, and a group member in a subprocess that a test can SIGKILL.

`GROUP_BROKER` are the overrides of the brokers these tests start: a 1 s initial rebalance delay, so
that members created together join one generation (which makes the assignors' answers exact), and a
500 ms KIP-848 heartbeat interval, so that consumer groups reconcile in about a second.

Classic member ids are ``<client.id>-<uuid>`` and every assignor orders members by member id (or by
``group.instance.id`` for static members), so members named c0, c1, c2 are assigned in that order.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

GROUP_BROKER = {
    "num.partitions": "1",
    "group.initial.rebalance.delay.ms": "1000",
    "group.consumer.heartbeat.interval.ms": "500",
    "group.consumer.min.heartbeat.interval.ms": "500",
}
SESSION_MS = 6000
"""The smallest session timeout a classic member may ask for (`group.min.session.timeout.ms`)."""
QUICK = {"session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 500}
"""librdkafka settings of classic members that notice rebalances within half a second."""
MEMBER_SCRIPT = Path(__file__).with_name("group_member.py")


def create_topic(bootstrap: str, name: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(15)


def produce_values(bootstrap: str, topic: str, values: Iterable[bytes], partition: int | None = None) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for value in values:
        if partition is None:
            producer.produce(topic, value=value, key=value)
        else:
            producer.produce(topic, value=value, partition=partition)
    assert producer.flush(15) == 0


def member(bootstrap: str, group: str, client_id: str, **conf: Any) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "client.id": client_id,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
            **conf,
        }
    )


def owned(consumer: Consumer) -> list[int]:
    return sorted(tp.partition for tp in consumer.assignment())


def poll_until(
    consumers: Sequence[Consumer], done: Callable[[], bool], timeout: float = 20, what: str = "condition"
) -> float:
    """Poll every consumer in turn until `done()`; returns the seconds it took."""
    started = time.monotonic()
    while not done():
        assert time.monotonic() - started < timeout, f"{what} not reached in {timeout} s"
        for consumer in consumers:
            message = consumer.poll(0.02)
            assert message is None or message.error() is None or message.error().retriable(), message.error()
    return time.monotonic() - started


def shares(consumers: Sequence[Consumer], partitions: int) -> Callable[[], bool]:
    """True once the consumers own every partition, each exactly once, in equal shares."""

    def check() -> bool:
        layout = [owned(c) for c in consumers]
        every = sorted(p for parts in layout for p in parts)
        sizes = {len(parts) for parts in layout}
        return every == list(range(partitions)) and max(sizes) - min(sizes) <= 1

    return check


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> list[int]:
    consumer = member(bootstrap, group, "offsets-reader")
    try:
        found = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=15)
        return [tp.offset for tp in found]
    finally:
        consumer.close()


class MemberProcess:
    """`group_member.py` in a subprocess: joins `group`, prints its assignment after every change."""

    def __init__(self, bootstrap: str, group: str, topic: str, client_id: str, **conf: Any) -> None:
        args = [
            sys.executable,
            str(MEMBER_SCRIPT),
            bootstrap,
            group,
            topic,
            json.dumps({"client.id": client_id, **conf}),
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        self.assignment: list[int] = []
        self._lines = threading.Thread(target=self._read, daemon=True)
        self._lines.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.assignment = json.loads(line)

    def wait_for(self, count: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while len(self.assignment) != count:
            assert time.monotonic() < deadline, f"the member owns {self.assignment}, not {count} partitions"
            assert self.proc.poll() is None, "the member process exited"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            self.proc.wait()
            self._lines.join(5)
            assert self.proc.stdout is not None
            self.proc.stdout.close()
