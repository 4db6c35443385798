"""`PartitionManager`: the partitions this broker hosts, by name and by topic id (Kafka's ReplicaManager).

Handlers look partitions up here in O(1): `get` (hosted at all), `leader` (the checks every
leader-only request makes, with Kafka's errors), `topic_name` / `topic_id`. The metadata side tells it
what to host: `host(tp, topic_id, state)` creates or adopts the partition's log and applies
the controller's `LeaderAndIsr` (leader or follower, epoch, ISR), `drop_topic(name)` stops hosting a
topic (its partitions' listeners hear `on_deleted`), `stray_logs()` finds logs nobody hosts. It knows
nothing of the metadata image: the broker's partition publisher turns image changes into these calls,
the same ones a ZooKeeper-driven broker will make.

Every partition created here gets the manager's listeners (the broker's purgatories); coordinators
add their own to the partitions they load.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.model.topic_partition import TopicPartition
from odradek.replication.isr import NO_ISR_WRITER, IsrChange, IsrWriter
from odradek.replication.partition import Partition, PartitionListener
from odradek.replication.replica_set import LeaderAndIsr
from odradek.replication.throttle import ReplicationThrottle
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager

log_ = logging.getLogger("odradek.replication")


def leader_recovery_ms() -> int:
    """Fault hook of the fault tests: ODRADEK_FAULT_LEADER_RECOVERY_MS=N makes a leader elected
    uncleanly take N ms to recover (KIP-704) before it asks for RECOVERED, so a test sees the
    partition RECOVERING with a follower caught up and kept out of the ISR. Never set in production."""
    try:
        return max(0, int(os.environ.get("ODRADEK_FAULT_LEADER_RECOVERY_MS", "0")))
    except ValueError:
        return 0


class PartitionManager:
    def __init__(
        self,
        logs: LogManager,
        node_id: int,
        config_for_topic: Callable[[str], LogConfig],
        now_ms: Callable[[], int],
        listeners: tuple[PartitionListener, ...] = (),
        isr_writer: IsrWriter = NO_ISR_WRITER,
    ) -> None:
        self.logs = logs
        self.isr_writer = isr_writer
        self.node_id = BrokerId(node_id)
        self.config_for_topic = config_for_topic
        self.now_ms = now_ms
        self.listeners = listeners
        self.throttle = ReplicationThrottle(node_id)
        """The replication throttle (a reassignment's), read by the Fetch handler and the fetchers."""
        self.leader_recovery_ms = leader_recovery_ms()
        """How long a leader's recovery after an unclean election takes (KIP-704; fault tests only)."""
        self.by_name: dict[str, dict[int, Partition]] = {}
        self._unavailable: set[TopicPartition] = set()
        self._names: dict[uuid.UUID, str] = {}

    # --- lookups ---------------------------------------------------------------------------------
    def get(self, topic: str, partition: int) -> Partition | None:
        parts = self.by_name.get(topic)
        return None if parts is None else parts.get(partition)

    def leader(self, topic: str, partition: int, current_leader_epoch: int = -1) -> Partition | ErrorCode:
        """The partition if this broker leads it, else the error a leader-only request answers
        (Kafka's `getPartitionOrError` then `checkCurrentLeaderEpoch`): UNKNOWN_TOPIC_OR_PARTITION,
        KAFKA_STORAGE_ERROR (its log directory is offline), NOT_LEADER_OR_FOLLOWER, or, when the
        client's `current_leader_epoch` (negative: not checked) is not the partition's,
        FENCED_LEADER_EPOCH (older) or UNKNOWN_LEADER_EPOCH (newer)."""
        found = self.get(topic, partition)
        if found is None:
            return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        if found.log.offline:  # its log directory failed (storage.LogManager.mark_offline)
            return ErrorCode.KAFKA_STORAGE_ERROR
        if not found.is_leader:
            return ErrorCode.NOT_LEADER_OR_FOLLOWER
        if current_leader_epoch >= 0 and current_leader_epoch != found.leader_epoch:
            fenced = current_leader_epoch < found.leader_epoch
            return ErrorCode.FENCED_LEADER_EPOCH if fenced else ErrorCode.UNKNOWN_LEADER_EPOCH
        return found

    def topic_name(self, topic_id: uuid.UUID) -> str | None:
        return self._names.get(topic_id)

    def topic_id(self, name: str) -> uuid.UUID | None:
        parts = self.by_name.get(name)
        return next(iter(parts.values())).topic_id if parts else None

    def all_partitions(self) -> list[Partition]:
        return [p for parts in self.by_name.values() for p in parts.values()]

    def __iter__(self) -> Iterator[Partition]:
        return iter(self.all_partitions())

    # --- what the metadata side decides ------------------------------------------------------------
    def host(self, tp: TopicPartition, topic_id: uuid.UUID, state: LeaderAndIsr) -> Partition | None:
        """Host `tp` with the controller's `state`: create its log (or adopt the one on disk when it
        belongs to this topic id), then become leader or follower. Idempotent. None: not hosted,
        since it has no log while a log directory is offline (its log may be there)."""
        partition = self.get(tp.topic, tp.partition)
        if partition is None:
            log = self.logs.get(tp)
            if log is None and self.logs.offline_dirs:
                # Its log may be on the directory that failed: never start it again empty elsewhere
                # (it stays unavailable until that directory is back, at the next start).
                if tp not in self._unavailable:
                    self._unavailable.add(tp)
                    log_.warning("%s not hosted: no log, and a log directory is offline", tp)
                return None
        parts = self.by_name.setdefault(tp.topic, {})
        self._names[topic_id] = tp.topic
        if partition is None:
            if log is None or log.topic_id not in (None, topic_id):
                if log is not None:
                    self.logs.delete_partition(tp)
                log = self.logs.create_partition(tp, topic_id, self.config_for_topic(tp.topic), self.now_ms())
            partition = Partition(
                tp,
                topic_id,
                log,
                self.node_id,
                state,
                self.listeners,
                self.isr_writer,
                self.now_ms(),
                self.leader_recovery_ms,
            )
            parts[tp.partition] = partition
        elif partition.replicas.state != state:
            partition.become(state, self.now_ms())
        return partition

    def isr_change_failed(self, change: IsrChange) -> None:
        """The control side refused `change`: its leader decides again."""
        partition = self.get(change.tp.topic, change.tp.partition)
        if partition is not None and partition.topic_id == change.topic_id:
            partition.isr_change_failed(change)

    def leaders(self) -> Iterator[Partition]:
        for parts in self.by_name.values():
            for partition in parts.values():
                if partition.is_leader:
                    yield partition

    def shrink_isrs(self, lag_max_ms: int) -> int:
        """The ISR timer (every `replica.lag.time.max.ms` / 2): propose dropping lagging followers
        on every partition led here (and RECOVERED for one whose recovery is over, KIP-704);
        returns how many changes were proposed."""
        now = self.now_ms()
        return sum(1 for p in list(self.leaders()) if p.maybe_shrink_isr(now, lag_max_ms) is not None)

    def remove_expired_verifications(self, expiration_ms: int) -> int:
        """The producer expiry timer: drop KIP-890 verification entries `producer.id.expiration.ms`
        old (a verification that never led to a transaction here); returns how many."""
        now = self.now_ms()
        return sum(
            partition.remove_expired_verifications(now, expiration_ms)
            for parts in self.by_name.values()
            for partition in parts.values()
            if partition.verification_states
        )

    def drop_topic(self, name: str) -> list[Path]:
        """Stop hosting every partition of `name`; returns the directories to remove."""
        paths = []
        for partition in self.by_name.pop(name, {}).values():
            self._names.pop(partition.topic_id, None)
            partition.mark_deleted()
            path = self.logs.delete_partition(partition.tp)
            if path is not None:
                paths.append(path)
        return paths

    def drop_partition(self, tp: TopicPartition, state: LeaderAndIsr | None = None) -> list[Path]:
        """Stop hosting one partition (a reassignment moved it away); returns the directory to remove.
        `state`: its new state, taken first, so what waits on it here answers NOT_LEADER_OR_FOLLOWER
        (the partition lives on elsewhere) rather than UNKNOWN_TOPIC_OR_PARTITION."""
        parts = self.by_name.get(tp.topic, {})
        partition = parts.get(tp.partition)
        if partition is None:
            return []
        if state is not None:
            partition.become(state, self.now_ms())
        del parts[tp.partition]
        if not parts:
            self.by_name.pop(tp.topic, None)
            self._names.pop(partition.topic_id, None)
        partition.mark_deleted()
        path = self.logs.delete_partition(tp)
        return [] if path is None else [path]

    def stray_logs(self) -> list[Path]:
        """Delete logs on disk that no hosted partition owns (a topic deleted while we were down)."""
        doomed: list[Path] = []
        for tp, log in self.logs.items():
            hosted = self.get(tp.topic, tp.partition)
            if hosted is None or hosted.log is not log:
                path = self.logs.delete_partition(tp)
                if path is not None:
                    doomed.append(path)
        return doomed

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
