"""The runtime's `RecordCollector`: sends serialized records through one confluent-kafka producer
per stream thread, remembers the offsets its changelog records got (for checkpoints), and keeps
delivery failures for the production exception handler."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from odradek.streams.record import Headers


@dataclass
class FailedDelivery:
    topic: str
    partition: int
    key: bytes | None
    value: bytes | None
    timestamp: int
    error: KafkaError


class ProducerCollector:
    def __init__(
        self,
        producer: Producer,
        partition_counts: Callable[[str], int | None],
        before_send: Callable[[], None] | None = None,
    ) -> None:
        self.producer = producer
        self._partition_counts = partition_counts
        self.before_send = before_send
        self.changelog_topics: set[str] = set()
        self.changelog_offsets: dict[tuple[str, int], int] = {}
        self.failed: list[FailedDelivery] = []
        self.sent = 0
        self._lock = threading.Lock()

    def _delivered(self, err: KafkaError | None, msg: Any) -> None:
        if err is not None:
            with self._lock:
                self.failed.append(
                    FailedDelivery(
                        msg.topic(), msg.partition(), msg.key(), msg.value(), msg.timestamp()[1], err
                    )
                )
            return
        topic = msg.topic()
        if topic in self.changelog_topics:
            tp = (topic, msg.partition())
            offset = msg.offset() + 1
            if offset > self.changelog_offsets.get(tp, -1):
                self.changelog_offsets[tp] = offset

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        timestamp: int,
        headers: Headers | None,
        partition: int | None,
    ) -> None:
        if self.before_send is not None:
            self.before_send()
        kwargs: dict[str, Any] = {"timestamp": timestamp, "on_delivery": self._delivered}
        if partition is not None:
            kwargs["partition"] = partition
        if headers:
            kwargs["headers"] = headers
        while True:
            try:
                self.producer.produce(topic, value, key, **kwargs)
                break
            except BufferError:
                self.producer.poll(0.05)  # the local queue is full: let deliveries drain
        self.sent += 1

    def partitions_for(self, topic: str) -> int | None:
        return self._partition_counts(topic)

    def take_failures(self) -> list[FailedDelivery]:
        with self._lock:
            failed, self.failed = self.failed, []
        return failed

    def flush(self, timeout_s: float = 60.0) -> None:
        remaining = self.producer.flush(timeout_s)
        if remaining:
            raise KafkaException(
                KafkaError(KafkaError._TIMED_OUT, f"{remaining} records not delivered in time")
            )
