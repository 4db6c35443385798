"""Who holds a partition and how far each copy got: the leader's replication rules (pure).

`LeaderAndIsr` is the partition state the controller decides and the metadata image carries: the
leader and its epoch, the replicas, the in-sync replicas (ISR) and the eligible leader replicas (ELR,
KIP-966). `ReplicaSet` is one broker's view of it, plus, on the leader, what every follower reported
by fetching (its log end offset, and when it was last caught up).

The rules, as Kafka's leaders apply them:

* **High watermark** = the smallest log end offset among the ISR (the leader's own included), and
  it never moves back. A follower whose log end offset is not known yet (just became a follower of
  this leader) holds it where it is. With `strict_min_isr` (KIP-966), it advances only while the ISR
  has at least `min.insync.replicas` members; without it (today's single-node rule, and Kafka's
  before KIP-966) an ISR below the minimum only refuses acks=all produce.
* **Enough replicas** for an acks=all produce whose last offset is `required - 1`: the high
  watermark reached `required`; then NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below
  `min.insync.replicas` meanwhile (`enough_replicas`). With the strict rule the high watermark
  cannot get there while the ISR is too small, so the answer is NOT_ENOUGH_REPLICAS_AFTER_APPEND at
  once.
* **ISR shrink**: a follower in the ISR that has not been caught up to the leader's log end for
  `replica.lag.time.max.ms` leaves it (`out_of_sync`).
* **ISR expand**: a follower outside the ISR whose log end offset reached the high watermark and the
  start of the leader's current epoch joins it (`caught_up`).

Nothing here reads a clock or does I/O: times are passed in, decisions come back as values. The
`Partition` drives the shrink and expand rules and sends the new ISR to the control side
(`isr.py`); while that change is pending, the high watermark waits for the larger ISR
(`maximal_isr`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId, Epoch
from odradek.model.leader_recovery import LeaderRecoveryState

NO_LEADER = BrokerId(-1)
UNKNOWN_OFFSET = -1
FIRST_EPOCH = Epoch(0)


@dataclass(frozen=True, slots=True)
class LeaderAndIsr:
    """A partition's replication state as the controller decided it (a `PartitionRegistration`)."""

    leader: BrokerId
    leader_epoch: Epoch
    replicas: tuple[BrokerId, ...]
    isr: tuple[BrokerId, ...]
    elr: tuple[BrokerId, ...] = ()
    partition_epoch: int = 0
    leader_recovery_state: LeaderRecoveryState = LeaderRecoveryState.RECOVERED
    """KIP-704: RECOVERING after an unclean election, until the leader's RECOVERED is stored."""
    eligible_leader_replicas: bool = True
    """The cluster's `eligible.leader.replicas.version` is 1: a replicated partition commits by
    KIP-966's strict min-ISR rule (`ReplicaSet.strict_min_isr`, ADR 0002); False: by the ISR
    alone, as before KIP-966."""

    @classmethod
    def single(cls, broker: BrokerId, leader_epoch: Epoch = FIRST_EPOCH) -> LeaderAndIsr:
        """One replica, leading: a single node's partitions."""
        return cls(broker, leader_epoch, (broker,), (broker,))


@dataclass(slots=True)
class FollowerProgress:
    """What the leader knows of one follower, from its fetches."""

    log_end_offset: int = UNKNOWN_OFFSET
    last_caught_up_ms: int = -1
    """When it last held everything the leader had (-1: never since this leadership)."""
    last_fetch_ms: int = -1
    last_fetch_leader_log_end: int = UNKNOWN_OFFSET
    """The leader's log end offset at the follower's previous fetch."""


@dataclass(slots=True)
class ReplicaSet:
    """A leader's view of its partition's replicas: followers' progress, ISR and pending changes."""

    local: BrokerId
    state: LeaderAndIsr
    followers: dict[BrokerId, FollowerProgress] = field(default_factory=dict)
    strict_min_isr: bool = False
    """KIP-966: the high watermark advances only with at least min.insync.replicas in the ISR."""
    pending_isr: tuple[BrokerId, ...] | None = None
    """An ISR change the leader proposed and the control side has not stored yet (`isr.py`)."""
    pending_since_ms: int = -1

    @property
    def is_leader(self) -> bool:
        return self.state.leader == self.local

    @property
    def leader_epoch(self) -> Epoch:
        return self.state.leader_epoch

    @property
    def isr(self) -> tuple[BrokerId, ...]:
        return self.state.isr

    @property
    def maximal_isr(self) -> tuple[BrokerId, ...]:
        """The ISR the high watermark waits for: the stored one plus a pending expansion's member."""
        pending = self.pending_isr
        if pending is None:
            return self.state.isr
        return self.state.isr + tuple(r for r in pending if r not in self.state.isr)

    def update(self, state: LeaderAndIsr, now_ms: int = -1) -> None:
        """A new partition state: keep the progress of replicas still assigned (a leader keeps its
        followers' positions across an ISR change), forget all of it when the leadership moved. A
        new leader counts its ISR's followers as caught up at `now_ms` (Kafka's leader epoch start
        time), so they get `replica.lag.time.max.ms` to fetch before they can be dropped. Any new
        state ends a pending ISR change (it was stored, or something newer won)."""
        new_leadership = state.leader != self.state.leader or state.leader_epoch != self.state.leader_epoch
        self.state = state
        self.pending_isr = None
        if new_leadership or state.leader != self.local:
            self.followers = {}
        if state.leader == self.local:
            for replica in state.replicas:
                if replica != self.local and replica not in self.followers:
                    progress = self.followers[replica] = FollowerProgress()
                    if replica in state.isr:
                        progress.last_caught_up_ms = now_ms
            for gone in [r for r in self.followers if r not in state.replicas]:
                del self.followers[gone]

    # --- the leader's rules -------------------------------------------------------------------

    def record_fetch(self, replica: BrokerId, fetch_offset: int, leader_log_end: int, now_ms: int) -> None:
        """A follower fetched from `fetch_offset`: everything below it is on its log."""
        progress = self.followers.get(replica)
        if progress is None or fetch_offset > leader_log_end:
            return  # not a replica of ours, or an out-of-range fetch (it truncates first): nothing learnt
        # Kafka's rule: caught up now if it has the whole log; or, if it has everything the leader
        # had at its previous fetch, caught up as of that fetch (so a follower under steady load,
        # always one round trip behind, stays in sync).
        if fetch_offset >= leader_log_end:
            progress.last_caught_up_ms = now_ms
        elif fetch_offset >= progress.last_fetch_leader_log_end >= 0:
            progress.last_caught_up_ms = max(progress.last_caught_up_ms, progress.last_fetch_ms)
        progress.log_end_offset = fetch_offset
        progress.last_fetch_ms = now_ms
        progress.last_fetch_leader_log_end = leader_log_end

    def high_watermark(self, current: int, leader_log_end: int, min_isr: int) -> int:
        """The high watermark after what the replicas reported: never below `current`."""
        if not self.is_leader:
            return current
        if self.strict_min_isr and len(self.state.isr) < min_isr:
            return current
        isr = self.maximal_isr
        candidate = leader_log_end
        for replica in isr:
            if replica == self.local:
                continue
            progress = self.followers.get(replica)
            if progress is None or progress.log_end_offset == UNKNOWN_OFFSET:
                return current
            candidate = min(candidate, progress.log_end_offset)
        return max(current, candidate)

    def enough_replicas(self, high_watermark: int, required: int, min_isr: int) -> tuple[bool, ErrorCode]:
        """Kafka's checkEnoughReplicasReachOffset: (done, error) for an acks=all wait on `required`."""
        if not self.is_leader:
            return True, ErrorCode.NOT_LEADER_OR_FOLLOWER
        if high_watermark < required:
            if self.strict_min_isr and len(self.state.isr) < min_isr:
                # KIP-966: the high watermark will not pass it before the ISR grows again; answer now
                # (the client retries and meets NOT_ENOUGH_REPLICAS) rather than at the timeout
                return True, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
            return False, ErrorCode.NO_ERROR
        if len(self.state.isr) < min_isr:
            return True, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
        return True, ErrorCode.NO_ERROR

    def out_of_sync(self, now_ms: int, lag_max_ms: int) -> tuple[BrokerId, ...]:
        """Followers in the ISR not caught up for `replica.lag.time.max.ms` (ISR shrink candidates)."""
        if not self.is_leader:
            return ()
        return tuple(
            replica
            for replica in self.state.isr
            if replica != self.local
            and (progress := self.followers.get(replica)) is not None
            and now_ms - progress.last_caught_up_ms > lag_max_ms
        )

    def caught_up(self, high_watermark: int, epoch_start_offset: int) -> tuple[BrokerId, ...]:
        """Followers outside the ISR that hold everything up to the high watermark and the start of
        the leader's epoch (ISR expand candidates)."""
        if not self.is_leader:
            return ()
        needed = max(high_watermark, epoch_start_offset)
        return tuple(
            replica
            for replica, progress in self.followers.items()
            if replica not in self.state.isr and progress.log_end_offset >= needed
        )

    def propose(self, isr: tuple[BrokerId, ...], now_ms: int) -> None:
        """Remember an ISR change sent to the control side (one at a time)."""
        self.pending_isr = isr
        self.pending_since_ms = now_ms
