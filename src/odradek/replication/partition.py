"""`Partition`: one partition this broker hosts: its log, its replica set, and its high watermark.

This is the one place that decides when an offset is committed. Everything that writes to a
partition as its leader goes through `append_as_leader` / `append_marker_as_leader` (client batches,
coordinator records, transaction markers); every change of the replica set goes through `become`;
and only `_maybe_advance_high_watermark` moves the high watermark, by the replica set's rule
(`replica_set.py`), after one of those or a follower's fetch (`record_follower_fetch`). Nothing else
in the broker assigns `PartitionLog.high_watermark` (a test checks it).

Whoever must act on a commit listens instead of polling: a `PartitionListener` hears
`on_high_watermark_updated` each time the high watermark moves (acks=all produces waiting in the
purgatory, long-polling fetches, the coordinator runtime's deferred answers) and `on_deleted` when
the partition stops being hosted here. On a single node (one replica, the ISR is the leader alone)
the high watermark follows the log end offset: an append moves it before `append_as_leader`
returns, and the listeners run inside that call.

Follower side (the cluster, later): `become` with a state led by another broker makes the partition
a follower; a fetcher then appends the leader's batches with their offsets and learns the leader's
high watermark from its fetch responses. `record_follower_fetch` is the leader side of that.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import BatchHeader
from odradek.replication.replica_set import LeaderAndIsr, ReplicaSet
from odradek.storage.partition_log import AppendInfo, PartitionLog
from odradek.storage.producer_state import AppendOrigin, EndTxnMarker

_DONE = (True, ErrorCode.NO_ERROR)


class PartitionListener(Protocol):
    def on_high_watermark_updated(self, partition: Partition) -> None: ...

    def on_deleted(self, partition: Partition) -> None: ...


class Partition:
    __slots__ = ("_alone", "_listeners", "deleted", "is_leader", "log", "replicas", "topic_id", "tp")

    def __init__(
        self,
        tp: TopicPartition,
        topic_id: uuid.UUID,
        log: PartitionLog,
        local: BrokerId,
        state: LeaderAndIsr,
        listeners: tuple[PartitionListener, ...] = (),
    ) -> None:
        self.tp = tp
        self.topic_id = topic_id
        self.log = log
        self.replicas = ReplicaSet(local, state)
        self._listeners = listeners
        self.deleted = False
        self.is_leader = False
        """Leads the partition (and it is still hosted): kept by `become` and `mark_deleted`."""
        self._alone = False
        """The leader alone in the ISR, without KIP-966's strict rule: the high watermark is the log end."""
        self.become(state)

    # --- state ------------------------------------------------------------------------------
    @property
    def leader_epoch(self) -> int:
        return self.replicas.leader_epoch

    @property
    def high_watermark(self) -> int:
        return self.log.high_watermark

    @property
    def in_sync_replicas(self) -> int:
        return len(self.replicas.isr)

    @property
    def last_stable_offset(self) -> int:
        return self.log.last_stable_offset

    def add_listener(self, listener: PartitionListener) -> None:
        self._listeners = (*self._listeners, listener)

    def remove_listener(self, listener: PartitionListener) -> None:
        self._listeners = tuple(x for x in self._listeners if x is not listener)

    def become(self, state: LeaderAndIsr) -> None:
        """Apply the controller's state: leader or follower, epoch, replicas, ISR."""
        replicas = self.replicas
        replicas.update(state)
        self.is_leader = replicas.is_leader and not self.deleted
        self._alone = self.is_leader and state.isr == (replicas.local,) and not replicas.strict_min_isr
        if not self.is_leader:
            return
        log = self.log
        if state.leader_epoch > log.latest_epoch:
            # As Kafka's leaders do on election: the epoch starts at the log end offset, so
            # OffsetForLeaderEpoch knows the current epoch before its first append.
            log.leader_epoch_cache.assign(state.leader_epoch, log.log_end_offset)
        # A checkpoint older than a kill -9 must not hide acknowledged data: with the leader alone in
        # the ISR, everything on its log is committed.
        self._maybe_advance_high_watermark()

    def mark_deleted(self) -> None:
        """The partition is no longer hosted here: waiters on it must answer now."""
        self.deleted = True
        self.is_leader = self._alone = False
        for listener in self._listeners:
            listener.on_deleted(self)

    # --- leader writes -------------------------------------------------------------------------
    def append_as_leader(
        self,
        buf: bytearray | memoryview,
        headers: list[BatchHeader],
        now_ms: int,
        origin: AppendOrigin = AppendOrigin.CLIENT,
    ) -> AppendInfo:
        """Append validated batches with this leader's epoch; the high watermark follows as the
        replica set allows (at once with one replica). Raises StorageError as `PartitionLog.append`."""
        log = self.log
        info = log.append(buf, headers, self.replicas.state.leader_epoch, now_ms, origin)
        if info.duplicate:
            return info
        if self._alone:  # one replica: the high watermark is the log end (the rule below, inlined)
            log.high_watermark = log.log_end_offset
            for listener in self._listeners:
                listener.on_high_watermark_updated(self)
        else:
            self._maybe_advance_high_watermark()
        return info

    def append_marker_as_leader(
        self, producer_id: int, producer_epoch: int, marker: EndTxnMarker, now_ms: int
    ) -> AppendInfo:
        info = self.log.append_marker(producer_id, producer_epoch, marker, self.replicas.leader_epoch, now_ms)
        self._maybe_advance_high_watermark()
        return info

    def check_enough_replicas(self, required_offset: int) -> tuple[bool, ErrorCode]:
        """For an acks=all wait on everything below `required_offset`: (done, error)."""
        log = self.log
        if self._alone and log.high_watermark >= required_offset and log.config.min_insync_replicas <= 1:
            return _DONE  # the rule below, for one replica
        if self.deleted:
            return True, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        return self.replicas.enough_replicas(
            log.high_watermark, required_offset, log.config.min_insync_replicas
        )

    # --- followers (the leader side of replication) ------------------------------------------
    def record_follower_fetch(self, replica: BrokerId, fetch_offset: int, now_ms: int) -> None:
        self.replicas.record_fetch(replica, fetch_offset, self.log.log_end_offset, now_ms)
        self._maybe_advance_high_watermark()

    # --- the one writer of the high watermark --------------------------------------------------
    def _maybe_advance_high_watermark(self) -> None:
        log = self.log
        current = log.high_watermark
        if self._alone:  # the rule below, for one replica: the log end
            new = log.log_end_offset
        else:
            new = self.replicas.high_watermark(current, log.log_end_offset, log.config.min_insync_replicas)
        if new != current:
            log.high_watermark = new
            for listener in self._listeners:
                listener.on_high_watermark_updated(self)
