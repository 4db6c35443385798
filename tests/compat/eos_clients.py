"""Helpers for the exactly-once tests: topics, reading a partition to its end at either isolation
level, and brokers reached through a fault-injecting proxy."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.testing.broker_process import BrokerProcess
from odradek.testing.tcp_proxy import TcpProxy

Record = tuple[int, int, bytes | None, bytes | None, tuple[tuple[str, bytes | None], ...]]
"""(partition, offset, key, value, headers) as a consumer sees it."""


def create_topic(bootstrap: str, name: str, partitions: int = 1) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(20)


def read_to_end(
    bootstrap: str, topic: str, isolation: str, partitions: Iterable[int] = (0,), timeout: float = 20
) -> list[Record]:
    """Every record from offset 0 until the consumer's end of each partition (the high watermark for
    read_uncommitted, the last stable offset for read_committed)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "eos-reader",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": isolation,
        }
    )
    wanted = set(partitions)
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in wanted])
        out: list[Record] = []
        done: set[int] = set()
        deadline = time.monotonic() + timeout
        while done != wanted:
            assert time.monotonic() < deadline, f"stalled after {len(out)} records"
            for m in consumer.consume(10000, timeout=0.2):
                error = m.error()
                if error is not None:
                    assert error.code() == KafkaError._PARTITION_EOF, error
                    done.add(m.partition())
                    continue
                out.append((m.partition(), m.offset(), m.key(), m.value(), tuple(m.headers() or ())))
        return out
    finally:
        consumer.close()


def values(records: Iterable[Record]) -> list[bytes | None]:
    return [r[3] for r in records]


def proxied_broker(
    broker_factory: Callable[..., BrokerProcess], overrides: dict[str, str] | None = None
) -> tuple[BrokerProcess, TcpProxy]:
    """A broker that advertises a proxy in front of it: clients never bypass the proxy."""
    proxy = TcpProxy().start()
    broker = broker_factory(
        {"advertised.listeners": f"PLAINTEXT://127.0.0.1:{proxy.port}", **(overrides or {})}
    )
    proxy.target = ("127.0.0.1", broker.port)
    return broker, proxy


def bootstrap_of(proxy: TcpProxy) -> str:
    return f"127.0.0.1:{proxy.port}"


def producer_script(path: Path, body: str) -> Path:
    """A Python file run as a separate producer process (killed with SIGKILL by crash tests)."""
    path.write_text(body)
    return path


def conf(bootstrap: str, **extra: Any) -> dict[str, Any]:
    """Producer settings; reconnects are quick so that faults hit many connections in a short test."""
    return {
        "bootstrap.servers": bootstrap,
        "linger.ms": 5,
        "reconnect.backoff.ms": 10,
        "reconnect.backoff.max.ms": 100,
        **extra,
    }
