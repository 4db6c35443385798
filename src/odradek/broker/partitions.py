"""The partitions this broker hosts, kept in step with the metadata image (Kafka's ReplicaManager).

`reconcile(image)` creates logs for partitions the image places here, deletes logs of topics
the image no longer has, and records leader epochs and configs. Produce and Fetch look partitions
up by name or topic id in O(1). `DataWaiters` wakes long-polling fetches when data arrives: an
append notifies the partition, and every Fetch waiting on it re-reads at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from pathlib import Path

from odradek.metadata.image import ClusterImage, TopicImage
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager
from odradek.storage.partition_log import PartitionLog


class Partition:
    __slots__ = ("is_leader", "leader_epoch", "log", "topic_id", "tp")

    def __init__(self, tp: TopicPartition, topic_id: uuid.UUID, log: PartitionLog, leader_epoch: int) -> None:
        self.tp = tp
        self.topic_id = topic_id
        self.log = log
        self.leader_epoch = leader_epoch
        self.is_leader = True


class DataWaiters:
    """Futures of fetches waiting for data, per partition."""

    def __init__(self) -> None:
        self._waiting: dict[TopicPartition, list[asyncio.Future[None]]] = {}

    def register(self, tps: list[TopicPartition], future: asyncio.Future[None]) -> None:
        for tp in tps:
            self._waiting.setdefault(tp, []).append(future)

    def unregister(self, tps: list[TopicPartition], future: asyncio.Future[None]) -> None:
        for tp in tps:
            waiting = self._waiting.get(tp)
            if waiting is not None:
                with contextlib.suppress(ValueError):
                    waiting.remove(future)
                if not waiting:
                    del self._waiting[tp]

    def notify(self, tp: TopicPartition) -> None:
        waiting = self._waiting.pop(tp, None)
        if waiting:
            for future in waiting:
                if not future.done():
                    future.set_result(None)


class ReplicaManager:
    def __init__(
        self,
        logs: LogManager,
        node_id: int,
        config_for_topic: Callable[[str], LogConfig],
        now_ms: Callable[[], int],
    ) -> None:
        self.logs = logs
        self.node_id = node_id
        self.config_for_topic = config_for_topic
        self.now_ms = now_ms
        self.by_name: dict[str, dict[int, Partition]] = {}
        self.by_id: dict[uuid.UUID, str] = {}
        self.waiters = DataWaiters()

    def get(self, topic: str, partition: int) -> Partition | None:
        parts = self.by_name.get(topic)
        return None if parts is None else parts.get(partition)

    def leader(self, topic: str, partition: int, current_leader_epoch: int = -1) -> Partition | ErrorCode:
        """The partition if this broker leads it, else the error a leader-only request answers
        (Kafka's `getPartitionOrError` then `checkCurrentLeaderEpoch`): UNKNOWN_TOPIC_OR_PARTITION,
        NOT_LEADER_OR_FOLLOWER, or, when the client's `current_leader_epoch` (negative: not checked)
        is not the partition's, FENCED_LEADER_EPOCH (older) or UNKNOWN_LEADER_EPOCH (newer)."""
        found = self.get(topic, partition)
        if found is None:
            return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        if not found.is_leader:
            return ErrorCode.NOT_LEADER_OR_FOLLOWER
        if current_leader_epoch >= 0 and current_leader_epoch != found.leader_epoch:
            fenced = current_leader_epoch < found.leader_epoch
            return ErrorCode.FENCED_LEADER_EPOCH if fenced else ErrorCode.UNKNOWN_LEADER_EPOCH
        return found

    def topic_name(self, topic_id: uuid.UUID) -> str | None:
        return self.by_id.get(topic_id)

    def all_partitions(self) -> list[Partition]:
        return [p for parts in self.by_name.values() for p in parts.values()]

    def reconcile(self, image: ClusterImage) -> list[Path]:
        """Bring hosted partitions in line with `image`; returns directories to remove."""
        doomed: list[Path] = []
        for name in list(self.by_name):
            topic = image.topic(name)
            if topic is None or topic.topic_id != next(iter(self.by_name[name].values())).topic_id:
                doomed += self._drop_topic(name)
        for topic in image.topics_by_name.values():
            self._sync_topic(topic)
        # logs on disk for partitions nobody hosts any more (topic deleted while we were down)
        for tp, log in self.logs.items():
            hosted = self.get(tp.topic, tp.partition)
            if hosted is None or hosted.log is not log:
                path = self.logs.delete_partition(tp)
                if path is not None:
                    doomed.append(path)
        return doomed

    def _drop_topic(self, name: str) -> list[Path]:
        paths = []
        for partition in self.by_name.pop(name).values():
            self.by_id.pop(partition.topic_id, None)
            self.waiters.notify(partition.tp)
            path = self.logs.delete_partition(partition.tp)
            if path is not None:
                paths.append(path)
        return paths

    def _sync_topic(self, topic: TopicImage) -> None:
        parts = self.by_name.setdefault(topic.name, {})
        self.by_id[topic.topic_id] = topic.name
        config: LogConfig | None = None
        for index, registration in topic.partitions.items():
            if self.node_id not in registration.replicas:
                continue
            partition = parts.get(index)
            if partition is None:
                tp = TopicPartition(topic.name, index)
                config = config or self.config_for_topic(topic.name)
                log = self.logs.get(tp)
                if log is None or log.topic_id not in (None, topic.topic_id):
                    if log is not None:
                        self.logs.delete_partition(tp)
                    log = self.logs.create_partition(tp, topic.topic_id, config, self.now_ms())
                partition = Partition(tp, topic.topic_id, log, registration.leader_epoch)
                parts[index] = partition
            partition.leader_epoch = registration.leader_epoch
            partition.is_leader = registration.leader == self.node_id
            log = partition.log
            if partition.is_leader and registration.isr == (self.node_id,):
                # The leader's high watermark is the smallest log end offset in the ISR: with itself
                # alone, its own. A checkpoint older than a kill -9 must not hide acknowledged data.
                log.high_watermark = log.log_end_offset
            if partition.is_leader and partition.leader_epoch > log.latest_epoch:
                # As Kafka's leaders do on election: the epoch starts at the log end offset, so
                # OffsetForLeaderEpoch knows the current epoch before its first append.
                log.leader_epoch_cache.assign(partition.leader_epoch, log.log_end_offset)

    def update_configs(self, topics: list[str] | None = None) -> None:
        """Re-resolve LogConfigs (after AlterConfigs on a topic or a dynamic broker config)."""
        for name in topics if topics is not None else list(self.by_name):
            parts = self.by_name.get(name)
            if not parts:
                continue
            config = self.config_for_topic(name)
            for partition in parts.values():
                if partition.log.config != config:
                    partition.log.update_config(config)
