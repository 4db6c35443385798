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

Followers: `become` with a state led by another broker makes the partition a follower; the
follower fetcher (`broker/replica_fetcher.py`) first truncates a divergent tail (`truncate_to`, at
the point OffsetForLeaderEpoch found), then appends the leader's batches with their offsets
(`append_as_follower`) and takes the leader's high watermark, capped by its own log end
(`update_follower_high_watermark`). On the leader, `record_follower_fetch` is the other side: the
follower's fetch offset is its log end offset, the high watermark advances to the smallest one in
the ISR, and a follower that caught up is proposed for the ISR; `maybe_shrink_isr`, driven on a
timer, proposes dropping the ones that fell behind. Proposals go to the `IsrWriter` (`isr.py`); the
stored result comes back through `become`.

Listeners also hear `on_replica_state_changed` when something else that waiters care about moved:
the log end offset of a leader that waits for followers (a follower's fetch long-polls on it), or
the leadership (an acks=all produce waiting here must answer NOT_LEADER_OR_FOLLOWER).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Protocol

from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.model.leader_recovery import LeaderRecoveryState
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import BatchHeader
from odradek.replication.isr import NO_ISR_WRITER, IsrChange, IsrWriter
from odradek.replication.replica_set import LeaderAndIsr, ReplicaSet
from odradek.storage.partition_log import AppendInfo, PartitionLog
from odradek.storage.producer_state import AppendOrigin, EndTxnMarker

_DONE = (True, ErrorCode.NO_ERROR)


class PartitionListener(Protocol):
    def on_high_watermark_updated(self, partition: Partition) -> None: ...

    def on_deleted(self, partition: Partition) -> None: ...

    def on_replica_state_changed(self, partition: Partition) -> None: ...


class VerificationGuard:
    """The identity of one verification of a producer's transaction on a partition: a batch that
    starts a transaction is appended only with the guard the partition still holds for its producer."""

    __slots__ = ()


class VerificationStateEntry:
    """A producer's pending verification on a partition (Kafka's VerificationStateEntry).

    Created by the first batch that needs verification and shared by every request of the producer
    until the transaction starts here (its first transactional batch is appended), its marker is
    appended, or it is `producer.id.expiration.ms` old; kept across failed verifications, so a late
    answer for a transaction that ended meanwhile finds another guard, or none. `lowest_sequence`:
    the lowest sequence seen in the entry's epoch; a batch above it is refused with
    OUT_OF_ORDER_SEQUENCE_NUMBER (a lower batch that failed verification with a retriable error must
    be written first), and a higher epoch starts it again."""

    __slots__ = ("epoch", "guard", "lowest_sequence", "timestamp_ms")

    def __init__(self, timestamp_ms: int, sequence: int, epoch: int) -> None:
        self.timestamp_ms = timestamp_ms
        self.guard = VerificationGuard()
        self.lowest_sequence = sequence
        self.epoch = epoch

    def update(self, sequence: int, epoch: int) -> None:
        if epoch == self.epoch and sequence < self.lowest_sequence:
            self.lowest_sequence = sequence
        elif epoch > self.epoch:
            self.epoch, self.lowest_sequence = epoch, sequence


class Partition:
    __slots__ = (
        "_alone",
        "_listeners",
        "_recovery",
        "deleted",
        "is_leader",
        "isr_writer",
        "log",
        "recovery_ms",
        "replicas",
        "topic_id",
        "tp",
        "verification_states",
    )

    def __init__(
        self,
        tp: TopicPartition,
        topic_id: uuid.UUID,
        log: PartitionLog,
        local: BrokerId,
        state: LeaderAndIsr,
        listeners: tuple[PartitionListener, ...] = (),
        isr_writer: IsrWriter = NO_ISR_WRITER,
        now_ms: int = -1,
        recovery_ms: int = 0,
    ) -> None:
        self.tp = tp
        self.topic_id = topic_id
        self.log = log
        self.replicas = ReplicaSet(local, state)
        self._listeners = listeners
        self.isr_writer = isr_writer
        self.deleted = False
        self.is_leader = False
        """Leads the partition (and it is still hosted): kept by `become` and `mark_deleted`."""
        self._alone = False
        """The leader alone in the ISR, without KIP-966's strict rule: the high watermark is the log end."""
        self.verification_states: dict[int, VerificationStateEntry] = {}
        """Producers whose next transaction here waits for (or failed) verification (KIP-890)."""
        self.recovery_ms = recovery_ms
        """How long the leader's recovery after an unclean election takes (KIP-704; 0 but in fault
        tests: the recovery itself is done by becoming leader, as in Kafka)."""
        self._recovery: tuple[int, int] | None = None
        """(leader epoch, when it ends): the recovery under way on this leader, if any."""
        self.become(state, now_ms)

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

    @property
    def leader(self) -> BrokerId:
        return self.replicas.state.leader

    def become(self, state: LeaderAndIsr, now_ms: int = -1) -> None:
        """Apply the controller's state: leader or follower, epoch, replicas, ISR."""
        replicas = self.replicas
        before = replicas.state
        was_leader = self.is_leader
        replicas.update(state, now_ms)
        # KIP-966 (ADR 0002): a replicated partition commits only with min.insync.replicas copies;
        # a single replica keeps the single-node rule (its ISR can never grow), and so does every
        # partition while the cluster's eligible.leader.replicas.version is 0
        replicas.strict_min_isr = len(state.replicas) > 1 and state.eligible_leader_replicas
        self.is_leader = replicas.is_leader and not self.deleted
        self._update_alone()
        if was_leader or self.is_leader or before.leader_epoch != state.leader_epoch:
            # leadership, epoch or ISR moved: an acks=all wait may be answerable now
            for listener in self._listeners:
                listener.on_replica_state_changed(self)
        if not self.is_leader:
            self._recovery = None
            return
        if state.leader_recovery_state == LeaderRecoveryState.RECOVERING:
            if self._recovery is None or self._recovery[0] != state.leader_epoch:
                self._recovery = (state.leader_epoch, now_ms + self.recovery_ms)
            self._maybe_end_recovery(now_ms)
        else:
            self._recovery = None
        log = self.log
        if state.leader_epoch > log.latest_epoch:
            # As Kafka's leaders do on election: the epoch starts at the log end offset, so
            # OffsetForLeaderEpoch knows the current epoch before its first append.
            log.leader_epoch_cache.assign(state.leader_epoch, log.log_end_offset)
        # A checkpoint older than a kill -9 must not hide acknowledged data: with the leader alone in
        # the ISR, everything on its log is committed.
        self._maybe_advance_high_watermark()

    def _update_alone(self) -> None:
        replicas = self.replicas
        self._alone = (
            self.is_leader
            and replicas.state.isr == (replicas.local,)
            and replicas.pending_isr is None
            and not replicas.strict_min_isr
        )

    def mark_deleted(self) -> None:
        """The partition is no longer hosted here: waiters on it must answer now."""
        self.deleted = True
        self.is_leader = self._alone = False
        for listener in self._listeners:
            listener.on_deleted(self)

    # --- transaction verification (KIP-890 part 1) ----------------------------------------------
    def start_verification(self, header: BatchHeader, now_ms: int) -> VerificationGuard:
        """Before asking the coordinator whether a producer's first transactional batch here may be
        appended: the producer's entry (created, or shared with its earlier requests), whose guard the
        batch must still match when it is appended."""
        return self.start_producer_verification(
            header.producer_id, header.producer_epoch, header.base_sequence, now_ms
        )

    def start_producer_verification(
        self, producer_id: int, producer_epoch: int, sequence: int, now_ms: int
    ) -> VerificationGuard:
        """`start_verification` for a batch not built yet: a group coordinator's transactional offsets
        (TxnOffsetCommit) ask with `NO_SEQUENCE`, as Kafka's coordinator partition writer does."""
        entry = self.verification_states.get(producer_id)
        if entry is None:
            entry = VerificationStateEntry(now_ms, sequence, producer_epoch)
            self.verification_states[producer_id] = entry
        else:
            entry.update(sequence, producer_epoch)
        return entry.guard

    def verification_error(self, header: BatchHeader, guard: VerificationGuard) -> ErrorCode:
        """The coordinator said yes: may the batch that asked with `guard` start the transaction now?
        INVALID_TXN_STATE when the guard is gone (a marker of the producer's transaction was appended
        meanwhile, or the entry expired: the answer is about a transaction that has ended here, and
        appending would open one nobody ends); OUT_OF_ORDER_SEQUENCE_NUMBER above the lowest sequence
        the entry saw (Kafka's ProducerAppendInfo check). A batch of a transaction that another of
        the producer's requests started here meanwhile joins it without a guard, as in Kafka."""
        entry = self.verification_states.get(header.producer_id)
        if entry is None or entry.guard is not guard:
            return self._unguarded_error(header.producer_id, header.producer_epoch)
        if header.producer_epoch == entry.epoch and header.base_sequence > entry.lowest_sequence:
            return ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
        return ErrorCode.NO_ERROR

    def transaction_ongoing(self, producer_id: int, producer_epoch: int) -> bool:
        """Has the producer's transaction, at this epoch, started here? Then its next batches need no
        verification (Kafka's SENTINEL guard)."""
        return self.log.producer_state.has_ongoing_transaction_at(producer_id, producer_epoch)

    def coordinator_verification_error(
        self, producer_id: int, producer_epoch: int, guard: VerificationGuard | None
    ) -> ErrorCode:
        """May a coordinator's transactional batch of the producer (TxnOffsetCommit's offsets, verified
        with `guard`) be appended now? Yes while the producer's transaction at that epoch is ongoing
        here (the batch joins it: Kafka checks no guard then) or the partition still holds `guard`;
        else INVALID_TXN_STATE: a marker ended the transaction here after the guard was taken (or the
        entry expired), and the batch would open a transaction nobody ends. (No sequence rule: a
        coordinator's batch is appended without sequence checks. `guard` None: none was taken, the
        transaction had started here.)"""
        entry = self.verification_states.get(producer_id)
        if entry is None or entry.guard is not guard:
            return self._unguarded_error(producer_id, producer_epoch)
        return ErrorCode.NO_ERROR

    def _unguarded_error(self, producer_id: int, producer_epoch: int) -> ErrorCode:
        """A batch whose guard the partition no longer holds may only join the producer's
        transaction already ongoing here at its epoch (Kafka checks no guard then); otherwise the
        answer it carries is about a transaction that ended here: INVALID_TXN_STATE."""
        if self.transaction_ongoing(producer_id, producer_epoch):
            return ErrorCode.NO_ERROR
        return ErrorCode.INVALID_TXN_STATE

    def remove_expired_verifications(self, now_ms: int, expiration_ms: int) -> int:
        """Drop entries `expiration_ms` (`producer.id.expiration.ms`) old; returns how many."""
        expired = [
            pid for pid, e in self.verification_states.items() if now_ms - e.timestamp_ms >= expiration_ms
        ]
        for pid in expired:
            del self.verification_states[pid]
        return len(expired)

    def _transactions_started(self, headers: list[BatchHeader]) -> None:
        """Transactional batches were appended (as leader or follower; a marker too): their
        producers' transactions started or ended here, so their verification entries are done with
        (Kafka's UnifiedLog.updateProducers)."""
        states = self.verification_states
        for header in headers:
            if header.is_transactional:
                states.pop(header.producer_id, None)

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
        if self.verification_states:
            self._transactions_started(headers)
        if self._alone:  # one replica: the high watermark is the log end (the rule below, inlined)
            log.advance_high_watermark_to_end()
            for listener in self._listeners:
                listener.on_high_watermark_updated(self)
        else:
            self._after_follower_bound_append()
        return info

    def _after_leader_append(self) -> None:
        if self._alone:
            self._maybe_advance_high_watermark()
        else:
            self._after_follower_bound_append()

    def _after_follower_bound_append(self) -> None:
        for listener in self._listeners:  # followers long-polling on the log end
            listener.on_replica_state_changed(self)
        self._maybe_advance_high_watermark()

    def append_marker_as_leader(
        self, producer_id: int, producer_epoch: int, marker: EndTxnMarker, now_ms: int
    ) -> AppendInfo:
        info = self.log.append_marker(producer_id, producer_epoch, marker, self.replicas.leader_epoch, now_ms)
        self.verification_states.pop(producer_id, None)  # the transaction ended: a verification is stale
        self._after_leader_append()
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
        """A follower fetched from `fetch_offset` (its log end offset): the high watermark may move,
        and a follower outside the ISR that caught up is proposed for it."""
        replicas = self.replicas
        if not self.is_leader:
            return
        replicas.record_fetch(replica, fetch_offset, self.log.log_end_offset, now_ms)
        self._maybe_advance_high_watermark()
        if replica not in replicas.state.isr and replicas.pending_isr is None:
            self._maybe_expand_isr(now_ms)

    def _maybe_expand_isr(self, now_ms: int) -> None:
        if self.replicas.state.leader_recovery_state == LeaderRecoveryState.RECOVERING:
            return  # KIP-704: nobody joins the ISR until the leader's RECOVERED is stored
        log = self.log
        epoch_start = log.end_offset_for_epoch(self.replicas.leader_epoch - 1)[1]
        joining = self.replicas.caught_up(log.high_watermark, max(epoch_start, 0))
        if joining:
            state = self.replicas.state
            self._propose(tuple(r for r in state.replicas if r in state.isr or r in joining), now_ms)

    def maybe_shrink_isr(self, now_ms: int, lag_max_ms: int) -> IsrChange | None:
        """On the leader's timer: propose an ISR without the followers that have not caught up for
        `lag_max_ms`; retry a proposal that got no answer for as long. Returns what it proposed."""
        replicas = self.replicas
        if not self.is_leader:
            return None
        if replicas.pending_isr is not None:
            if now_ms - replicas.pending_since_ms <= lag_max_ms:
                return None
            replicas.pending_isr = None  # lost: decide again
        if self._recovery is not None:
            return self._maybe_end_recovery(now_ms)
        isr = replicas.state.isr
        if len(isr) == 1 and isr[0] == replicas.local:
            return None  # nothing to drop (every partition of a single broker: no pass over followers)
        lagging = replicas.out_of_sync(now_ms, lag_max_ms)
        if not lagging:
            return None
        return self._propose(tuple(r for r in replicas.state.isr if r not in lagging), now_ms)

    def _maybe_end_recovery(self, now_ms: int) -> IsrChange | None:
        """KIP-704: the partition is RECOVERING (its leader was elected uncleanly). Once the
        recovery is over (an unclean leader's log is the partition's: becoming leader did it), the
        leader proposes its ISR as it is with RECOVERED; followers may join once that is stored.
        Retried by the leader's timer while unanswered or refused."""
        recovery = self._recovery
        if recovery is None or self.replicas.pending_isr is not None or now_ms < recovery[1]:
            return None
        return self._propose(self.replicas.state.isr, now_ms)

    def isr_change_failed(self, change: IsrChange) -> None:
        """The control side refused `change` (a newer state won): decide again on the next event."""
        if self.replicas.pending_isr == change.isr:
            self.replicas.pending_isr = None
            self._update_alone()

    def _propose(self, isr: tuple[BrokerId, ...], now_ms: int) -> IsrChange:
        state = self.replicas.state
        change = IsrChange(
            self.tp, self.topic_id, state.leader, state.leader_epoch, state.partition_epoch, isr
        )
        self.replicas.propose(isr, now_ms)
        self._update_alone()
        self.isr_writer.submit(change)
        return change

    # --- follower side -------------------------------------------------------------------------
    def append_as_follower(self, buf: bytearray | memoryview, headers: list[BatchHeader], now_ms: int) -> int:
        """Append the leader's batches as they are (offsets, epochs); returns the log end offset.
        A producer's transactional batch (data or marker) ends its verification entry here too, as
        in Kafka: the entry of a verification cut short by a leadership move must not outlive the
        transaction the next leader wrote."""
        end = self.log.append_as_follower(buf, headers, now_ms)
        if self.verification_states:
            self._transactions_started(headers)
        return end

    def update_follower_high_watermark(self, leader_high_watermark: int) -> None:
        """The leader's high watermark, as far as this follower's log reaches."""
        if self.is_leader:
            return
        log = self.log
        new = min(leader_high_watermark, log.log_end_offset)
        if new != log.high_watermark:
            log.high_watermark = new
            for listener in self._listeners:
                listener.on_high_watermark_updated(self)

    def truncate_to(self, offset: int, now_ms: int) -> list[Path]:
        """Drop this follower's log from `offset` (a divergent tail); returns the files to remove."""
        return self.log.truncate_to(offset, now_ms)

    def truncate_fully_and_start_at(self, offset: int, now_ms: int) -> list[Path]:
        """Restart this follower's log empty at `offset` (it is behind the leader's log start)."""
        return self.log.truncate_fully_and_start_at(offset, now_ms)

    # --- the one writer of the high watermark --------------------------------------------------
    def _maybe_advance_high_watermark(self) -> None:
        log = self.log
        current = log.high_watermark
        if current == log.log_end_offset:
            # everything is committed: neither rule below can move it (the common case of an idle
            # partition, asked again by each follower fetch that names it)
            return
        if self._alone:  # the rule below, for one replica: the log end
            new = log.log_end_offset
        else:
            new = self.replicas.high_watermark(current, log.log_end_offset, log.config.min_insync_replicas)
        if new != current:
            log.high_watermark = new
            for listener in self._listeners:
                listener.on_high_watermark_updated(self)
