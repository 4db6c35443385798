"""The replicator's MirrorMaker 2 topics (the Kafka side of `mirror_formats.py`):

- `OffsetSyncs`: a task emits offset syncs for the records it replicated to
  `mm2-offset-syncs.<target alias>.internal` (on the source cluster, or the target with
  `offset-syncs.topic.location=target`), keeps them in an `OffsetSyncStore`, and at start reads
  back what earlier tasks wrote, so group offsets translate after a restart without new records;
- `Checkpoints`: translated group offsets written to `<source alias>.checkpoints.internal` on the
  target (what MM2's `RemoteClusterUtils.translateOffsets` and a failing-over consumer read),
  each (group, partition) again only when it changed.

Both topics are created compacted with one partition when missing, as MM2 creates them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka import TopicPartition as KafkaTopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.connect.api.errors import ConnectException
from odradek.connect.connectors.mirror_formats import (
    Checkpoint,
    OffsetSync,
    OffsetSyncState,
    OffsetSyncStore,
)

log = logging.getLogger("odradek.connect.replicator")


def create_internal_topic(config: Mapping[str, Any], topic: str, replication_factor: int) -> None:
    """`topic` compacted with one partition, unless it exists."""
    admin = AdminClient(dict(config))
    found = admin.list_topics(timeout=15).topics.get(topic)
    if found is not None and found.error is None:
        return
    new = NewTopic(topic, 1, replication_factor, config={"cleanup.policy": "compact"})
    for future in admin.create_topics([new], operation_timeout=15).values():
        try:
            future.result(15)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise ConnectException(f"cannot create {topic}: {exc}") from exc


class OffsetSyncs:
    def __init__(self, config: Mapping[str, Any], topic: str, max_lag: int, emit: bool) -> None:
        self.config = dict(config)
        self.topic = topic
        self.max_lag = max_lag
        self.store = OffsetSyncStore()
        self.states: dict[tuple[str, int], OffsetSyncState] = {}
        self.lock = threading.Lock()
        self.producer = Producer({**self.config, "linger.ms": 50}) if emit else None
        self.failed = 0

    def load(self, partitions: Iterable[tuple[str, int]], timeout: float = 30.0) -> int:
        """Read the syncs topic to its end, keeping the syncs of `partitions`; how many were kept."""
        wanted = set(partitions)
        consumer = Consumer(
            {**self.config, "group.id": "odradek-replicator-syncs", "enable.auto.commit": False}
        )
        kept = 0
        try:
            metadata = consumer.list_topics(self.topic, timeout=15).topics.get(self.topic)
            if metadata is None or metadata.error is not None:
                return 0  # nothing written yet
            ends = {
                p: consumer.get_watermark_offsets(KafkaTopicPartition(self.topic, p), timeout=15)[1]
                for p in metadata.partitions
            }
            ends = {p: end for p, end in ends.items() if end > 0}
            consumer.assign([KafkaTopicPartition(self.topic, p, -2) for p in ends])  # -2: the beginning
            deadline = time.monotonic() + timeout
            while ends and time.monotonic() < deadline:
                for message in consumer.consume(1000, 0.5):
                    if message.error() is not None:
                        continue
                    offset = message.offset() or 0
                    if offset + 1 >= ends.get(message.partition() or 0, 0):
                        ends.pop(message.partition() or 0, None)
                    key, value = message.key(), message.value()
                    if key is None or value is None:
                        continue
                    try:
                        sync = OffsetSync.parse(key, value)
                    except Exception:
                        continue  # not a sync (MM2 ignores what it cannot read, too)
                    if (sync.topic, sync.partition) in wanted:
                        with self.lock:
                            self.store.add(sync)
                        kept += 1
            if ends:
                log.warning("reading %s timed out: group offsets may translate late", self.topic)
        finally:
            consumer.close()
        return kept

    def record(self, topic: str, partition: int, upstream: int, downstream: int) -> None:
        """A record replicated (`upstream` written at `downstream`): emit a sync when one is due."""
        with self.lock:
            state = self.states.get((topic, partition))
            if state is None:
                state = self.states[(topic, partition)] = OffsetSyncState(self.max_lag)
            if not state.update(upstream, downstream):
                return
            sync = OffsetSync(topic, partition, upstream, downstream)
            self.store.add(sync)
        if self.producer is not None:
            try:
                self.producer.produce(self.topic, sync.value(), sync.key(), on_delivery=self._delivered)
            except (BufferError, KafkaException) as exc:
                self.failed += 1
                log.warning("emitting an offset sync failed: %s", exc)
            self.producer.poll(0)

    def _delivered(self, err: Any, _msg: Any) -> None:
        if err is not None:
            self.failed += 1
            log.warning("an offset sync was not written: %s", err)

    def translate(self, topic: str, partition: int, upstream: int) -> int | None:
        with self.lock:
            return self.store.translate(topic, partition, upstream)

    def close(self) -> None:
        if self.producer is not None:
            self.producer.flush(10)


class Checkpoints:
    def __init__(self, config: Mapping[str, Any], topic: str) -> None:
        self.topic = topic
        self.producer = Producer(dict(config))
        self.emitted: dict[tuple[str, str, int], tuple[int, int]] = {}

    def emit(self, checkpoints: Iterable[Checkpoint]) -> int:
        """Write the checkpoints that changed since last time; how many were written."""
        written = 0
        for c in checkpoints:
            key = (c.group, c.topic, c.partition)
            if self.emitted.get(key) == (c.upstream_offset, c.downstream_offset):
                continue
            self.producer.produce(self.topic, c.value(), c.key())
            self.emitted[key] = (c.upstream_offset, c.downstream_offset)
            written += 1
        if written and self.producer.flush(15) > 0:
            self.emitted.clear()  # not all written: write them all again next time
            raise ConnectException(f"checkpoints were not written to {self.topic}")
        return written

    def close(self) -> None:
        self.producer.flush(10)
