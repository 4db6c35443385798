"""`KafkaLog`: a compacted topic read from the beginning and tailed (Connect's `KafkaBasedLog`).

A thread owns a confluent-kafka consumer assigned to every partition of the topic (no group, no
commits) and hands each record to `on_record(key, value, partition, offset)` in order. `send`
writes through a shared idempotent producer; `read_to_end()` blocks until everything written
before the call has been seen (it captures the high watermarks, then waits for the reader to pass
them), which is how a worker makes its own writes visible before answering.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.connect.api.errors import ConnectException

log = logging.getLogger("odradek.connect.log")
OnRecord = Callable[[bytes | None, bytes | None, int, int], None]


def ensure_topic(
    admin: AdminClient,
    topic: str,
    partitions: int,
    replication_factor: int,
    timeout_s: float = 30.0,
    compacted: bool = True,
) -> int:
    """Create `topic` (compacted unless told otherwise) if missing; return its partition count."""
    metadata = admin.list_topics(topic=None, timeout=timeout_s)
    found = metadata.topics.get(topic)
    if found is not None and found.error is None:
        return len(found.partitions)
    new = NewTopic(
        topic,
        num_partitions=partitions,
        replication_factor=replication_factor,
        config={"cleanup.policy": "compact"} if compacted else {},
    )
    for future in admin.create_topics([new], operation_timeout=timeout_s).values():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise ConnectException(f"Unable to create topic {topic}: {exc}") from exc
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = admin.list_topics(topic=topic, timeout=timeout_s).topics.get(topic)
        if found is not None and found.error is None and found.partitions:
            return len(found.partitions)
        time.sleep(0.05)
    raise ConnectException(f"Topic {topic} did not appear after creation")


class KafkaLog:
    def __init__(
        self,
        topic: str,
        client_config: Mapping[str, Any],
        on_record: OnRecord,
        producer: Producer | None = None,
        partitioner: str = "murmur2_random",
    ) -> None:
        self.topic = topic
        self.on_record = on_record
        self._client_config = dict(client_config)
        self._producer = producer or Producer(
            {
                **self._client_config,
                "enable.idempotence": True,
                "acks": "all",
                "partitioner": partitioner,
                "linger.ms": 0,
            }
        )
        self._consumer: Consumer | None = None
        self._watermarks: Consumer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._positions: dict[int, int] = {}
        self._progress = threading.Condition()
        self._error: BaseException | None = None

    def start(self, partitions: int) -> None:
        consumer = Consumer(
            {
                **self._client_config,
                "group.id": f"odradek-connect-log-{self.topic}",
                "enable.auto.commit": False,
                "enable.partition.eof": False,
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 50,
                "isolation.level": "read_committed",
            }
        )
        consumer.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        self._consumer = consumer
        self._positions = {p: 0 for p in range(partitions)}
        self._thread = threading.Thread(target=self._run, name=f"connect-log-{self.topic}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        assert self._consumer is not None
        while not self._stopping.is_set():
            try:
                messages = self._consumer.consume(num_messages=500, timeout=0.1)
            except KafkaException as exc:  # pragma: no cover - a broken client: surface it to readers
                self._error = exc
                log.error("reading %s failed: %s", self.topic, exc)
                time.sleep(0.5)
                continue
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        log.warning("reading %s: %s", self.topic, error)
                    continue
                try:
                    self.on_record(
                        message.key(), message.value(), message.partition() or 0, message.offset() or 0
                    )
                except Exception:
                    log.exception("applying a record of %s failed (record skipped)", self.topic)
            positions = self._consumer.position([TopicPartition(self.topic, p) for p in self._positions])
            with self._progress:
                for tp in positions:
                    if tp.offset >= 0:
                        self._positions[tp.partition] = tp.offset
                self._progress.notify_all()

    def send(self, key: bytes | None, value: bytes | None, partition: int | None = None) -> None:
        errors: list[Any] = []

        def delivered(err: Any, _msg: Any) -> None:
            if err is not None:
                errors.append(err)

        kwargs: dict[str, Any] = {"key": key, "value": value, "on_delivery": delivered}
        if partition is not None:
            kwargs["partition"] = partition
        self._producer.produce(self.topic, **kwargs)
        remaining = self._producer.flush(30)
        if remaining or errors:
            raise ConnectException(f"Failed to write to {self.topic}: {errors[0] if errors else 'timed out'}")

    def end_offsets(self, timeout_s: float = 30.0) -> dict[int, int]:
        # a client of its own: the reading consumer sits in consume() on the reader thread
        if self._watermarks is None:
            self._watermarks = Consumer(
                {
                    **self._client_config,
                    "group.id": f"odradek-connect-log-{self.topic}",
                    "enable.auto.commit": False,
                }
            )
        ends: dict[int, int] = {}
        for partition in self._positions:
            _, high = self._watermarks.get_watermark_offsets(
                TopicPartition(self.topic, partition), timeout=timeout_s, cached=False
            )
            ends[partition] = high
        return ends

    def read_to_end(self, timeout_s: float = 30.0) -> None:
        ends = self.end_offsets(timeout_s)
        deadline = time.monotonic() + timeout_s
        with self._progress:
            while any(self._positions.get(p, 0) < end for p, end in ends.items()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ConnectException(f"Timed out reading {self.topic} to its end")
                self._progress.wait(min(remaining, 0.2))

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for client in (self._consumer, self._watermarks):
            if client is not None:
                client.close()
        self._consumer = self._watermarks = None
