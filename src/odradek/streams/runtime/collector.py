"""The runtime's `RecordCollector`: sends serialized records through one confluent-kafka producer
per stream thread, remembers the offsets its changelog records got (for checkpoints), and keeps
delivery failures for the production exception handler.

Delivery reports cost a Python call per record, so they are asked for only where they carry
information: a thread whose tasks write changelogs needs each changelog record's offset (checkpoints),
and gets a report per record; a thread without state stores (stateless topologies) sets librdkafka's
`delivery.report.only.error`, so only failed records come back. The guarantee is the same either way:
the thread commits offsets only after `flush()` returned with nothing left in flight and no failure
reported, and a failure goes to the production exception handler before that commit.
"""

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
        producer: Producer | None,
        partition_counts: Callable[[str], int | None],
        before_send: Callable[[], None] | None = None,
        report_successes: bool = True,
    ) -> None:
        self.producer: Any = producer
        self._partition_counts = partition_counts
        self.before_send = before_send
        self.report_successes = report_successes
        """False: only failed deliveries are reported (no changelog offsets to learn)."""
        self.changelog_topics: set[str] = set()
        self.changelog_offsets: dict[tuple[str, int], int] = {}
        self.failed: list[FailedDelivery] = []
        self.sent = 0
        self._lock = threading.Lock()
        self._on_delivery: Any = self._delivered if report_successes else None

    def producer_settings(self) -> dict[str, Any]:
        """What the producer's configuration needs for this collector's delivery reports."""
        if self.report_successes:
            return {}
        return {"delivery.report.only.error": True, "on_delivery": self._delivered}

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
        # positional arguments (topic, value, key, partition, callback, on_delivery, timestamp,
        # headers): no keyword dict per record; a None callback means the producer's default one
        produce = self.producer.produce
        p = -1 if partition is None else partition
        while True:
            try:
                produce(topic, value, key, p, self._on_delivery, None, timestamp, headers or None)
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
