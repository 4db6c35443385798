"""Helpers for the Connect tests (a module of its own: `conftest` names clash between test folders)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer


def wait_for(
    predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what or predicate}: last={last!r}")


def read_topic(bootstrap: str, topic: str, count: int, timeout: float = 30.0, **extra: Any) -> list[Any]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            **extra,
        }
    )
    consumer.subscribe([topic])
    out: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(out) < count and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.5):
                if message.error() is None:
                    out.append(message)
    finally:
        consumer.close()
    return out


def read_all(bootstrap: str, topic: str, timeout: float = 30.0, **extra: Any) -> list[Any]:
    """Every record of `topic` up to its end as it is now (read until each partition's position
    reaches the high watermark of the start: no fixed wait for records that will not come)."""
    from confluent_kafka import OFFSET_BEGINNING, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"reader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            **extra,
        }
    )
    out: list[Any] = []
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        watermarks = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            for p in metadata.partitions
        }
        ends = {p: high for p, (low, high) in watermarks.items() if high > low}  # empty ones: nothing to read
        if not ends:
            return out
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            positions = {
                tp.partition: tp.offset for tp in consumer.position([TopicPartition(topic, p) for p in ends])
            }
            if all(positions.get(p, -1) >= end for p, end in ends.items()):
                break
            for message in consumer.consume(500, 0.2):
                if message.error() is None:
                    out.append(message)
    finally:
        consumer.close()
    return out


def tasks_stopped(herder: Any, name: str) -> bool:
    """No task of connector `name` is configured or running on this in-process worker, and none is
    still stopping (a herder tick stops tasks and waits for them while holding its lock), so every
    final commit of theirs has happened."""
    with herder._lock:
        return herder.connector_info(name)["tasks"] == [] and not any(
            t.connector == name for t in herder.tasks
        )
