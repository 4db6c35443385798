"""The leader's ISR changes (shrink after replica.lag.time.max.ms, expand once caught up, KIP-704's
RECOVERED after an unclean election), proposed through the `IsrWriter` port and taken when the
stored state comes back, on a fake clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from odradek.model.ids import BrokerId, Epoch
from odradek.model.leader_recovery import LeaderRecoveryState
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import build_batch, validate_batches
from odradek.replication.isr import IsrChange
from odradek.replication.partition import Partition
from odradek.replication.replica_set import LeaderAndIsr
from odradek.storage.log_config import LogConfig
from odradek.storage.partition_log import PartitionLog

B1, B2, B3 = BrokerId(1), BrokerId(2), BrokerId(3)
TP = TopicPartition("t", 0)
LAG = 10_000
RECOVERED, RECOVERING = LeaderRecoveryState.RECOVERED, LeaderRecoveryState.RECOVERING
THREE = LeaderAndIsr(B1, Epoch(1), (B1, B2, B3), (B1, B2, B3), partition_epoch=7)


class Writer:
    def __init__(self) -> None:
        self.changes: list[IsrChange] = []

    def submit(self, change: IsrChange) -> None:
        self.changes.append(change)


@pytest.fixture
def log(tmp_path: Path) -> Iterator[PartitionLog]:
    log = PartitionLog.create(tmp_path / "t-0", TP, uuid.uuid4(), LogConfig(min_insync_replicas=1), now_ms=0)
    yield log
    log.close()


def append(partition: Partition, count: int = 1) -> None:
    data = bytearray(build_batch([(None, b"v", [], 1000)] * count))
    partition.append_as_leader(data, validate_batches(data), now_ms=0)


def leader(
    log: PartitionLog, writer: Writer, state: LeaderAndIsr = THREE, now_ms: int = 0, recovery_ms: int = 0
) -> Partition:
    return Partition(
        TP, uuid.uuid4(), log, B1, state, isr_writer=writer, now_ms=now_ms, recovery_ms=recovery_ms
    )


def stored(partition: Partition, change: IsrChange, now_ms: int = 0) -> None:
    """The control side stored the change: the new state comes back with a new partition epoch."""
    state = partition.replicas.state
    partition.become(
        LeaderAndIsr(
            state.leader,
            state.leader_epoch,
            state.replicas,
            change.isr,
            (),
            state.partition_epoch + 1,
            change.leader_recovery_state,
        ),
        now_ms,
    )


def test_a_new_leader_gives_its_followers_the_lag_time_before_dropping_them(log: PartitionLog) -> None:
    writer = Writer()
    partition = leader(log, writer, now_ms=1_000)
    assert partition.maybe_shrink_isr(now_ms=1_000 + LAG, lag_max_ms=LAG) is None
    change = partition.maybe_shrink_isr(now_ms=1_001 + LAG, lag_max_ms=LAG)
    assert change is not None and change.isr == (B1,)
    assert (change.leader, change.leader_epoch, change.partition_epoch) == (B1, 1, 7)  # what the CAS checks
    assert writer.changes == [change]


def test_only_the_follower_that_fell_behind_is_dropped(log: PartitionLog) -> None:
    writer = Writer()
    partition = leader(log, writer)
    append(partition, 5)
    partition.record_follower_fetch(B2, 5, now_ms=9_000)  # caught up
    partition.record_follower_fetch(B3, 2, now_ms=9_000)  # behind since the start
    change = partition.maybe_shrink_isr(now_ms=LAG + 1, lag_max_ms=LAG)
    assert change is not None and change.isr == (B1, B2)


def test_a_follower_always_one_fetch_behind_under_load_stays_in_sync(log: PartitionLog) -> None:
    """Kafka's rule: reaching the leader's log end as of the previous fetch counts as caught up then."""
    writer = Writer()
    partition = leader(log, writer, LeaderAndIsr(B1, Epoch(1), (B1, B2), (B1, B2)))
    for t in range(0, 5 * LAG, 1000):
        end = partition.log.log_end_offset
        append(partition)  # new data arrives between every two fetches
        partition.record_follower_fetch(B2, end, now_ms=t)
    assert partition.maybe_shrink_isr(now_ms=5 * LAG, lag_max_ms=LAG) is None


def test_one_change_at_a_time_and_a_lost_one_is_retried(log: PartitionLog) -> None:
    writer = Writer()
    partition = leader(log, writer)
    first = partition.maybe_shrink_isr(now_ms=LAG + 1, lag_max_ms=LAG)
    assert first is not None
    assert partition.maybe_shrink_isr(now_ms=LAG + 2, lag_max_ms=LAG) is None  # pending
    again = partition.maybe_shrink_isr(now_ms=2 * LAG + 2, lag_max_ms=LAG)  # no answer for the lag time
    assert again == first and len(writer.changes) == 2


def test_a_refused_change_is_decided_again(log: PartitionLog) -> None:
    writer = Writer()
    partition = leader(log, writer)
    change = partition.maybe_shrink_isr(now_ms=LAG + 1, lag_max_ms=LAG)
    assert change is not None
    partition.isr_change_failed(change)
    assert partition.maybe_shrink_isr(now_ms=LAG + 2, lag_max_ms=LAG) == change


def test_a_shrink_counts_only_once_stored(log: PartitionLog) -> None:
    """Until the smaller ISR is stored, the high watermark still waits for the follower being dropped."""
    writer = Writer()
    partition = leader(log, writer, LeaderAndIsr(B1, Epoch(1), (B1, B2), (B1, B2)))
    append(partition, 3)
    change = partition.maybe_shrink_isr(now_ms=LAG + 1, lag_max_ms=LAG)
    assert change is not None and change.isr == (B1,)
    assert partition.high_watermark == 0
    stored(partition, change)
    assert partition.replicas.isr == (B1,) and partition.high_watermark == 3


def test_a_caught_up_follower_is_proposed_for_the_isr_and_counted_at_once(log: PartitionLog) -> None:
    writer = Writer()
    partition = leader(log, writer, LeaderAndIsr(B1, Epoch(1), (B1, B2), (B1,)))
    append(partition, 4)
    assert partition.high_watermark == 4  # alone in the ISR
    partition.record_follower_fetch(B2, 2, now_ms=1)
    assert writer.changes == []  # below the high watermark: not caught up
    partition.record_follower_fetch(B2, 4, now_ms=2)
    [change] = writer.changes
    assert change.isr == (B1, B2)
    append(partition, 2)  # pending expansion: the high watermark already waits for B2 (maximal ISR)
    assert partition.high_watermark == 4
    partition.record_follower_fetch(B2, 6, now_ms=3)
    assert partition.high_watermark == 6
    stored(partition, change)
    assert partition.replicas.isr == (B1, B2) and partition.replicas.pending_isr is None


def test_a_follower_must_reach_the_start_of_the_leaders_epoch_to_join(log: PartitionLog) -> None:
    writer = Writer()
    partition = leader(log, writer, LeaderAndIsr(B1, Epoch(0), (B1, B2), (B1,)))
    append(partition, 4)
    partition.become(LeaderAndIsr(B1, Epoch(1), (B1, B2), (B1,), partition_epoch=1))  # epoch 1 starts at 4
    partition.record_follower_fetch(B2, 3, now_ms=1)
    assert writer.changes == []
    partition.record_follower_fetch(B2, 4, now_ms=2)
    assert [c.isr for c in writer.changes] == [(B1, B2)]


def test_a_follower_never_proposes(log: PartitionLog) -> None:
    writer = Writer()
    partition = Partition(TP, uuid.uuid4(), log, B2, THREE, isr_writer=writer)
    partition.record_follower_fetch(B3, 0, now_ms=0)
    assert partition.maybe_shrink_isr(now_ms=10 * LAG, lag_max_ms=LAG) is None
    assert writer.changes == []


def test_below_min_insync_replicas_nothing_commits(tmp_path: Path) -> None:
    """KIP-966: with min.insync.replicas=2, a leader left alone in the ISR keeps its data uncommitted
    (acks=1 writes are not exposed) until a follower caught up and rejoined."""
    config = LogConfig(min_insync_replicas=2)
    log = PartitionLog.create(tmp_path / "strict" / "t-0", TP, uuid.uuid4(), config, now_ms=0)
    writer = Writer()
    partition = leader(log, writer, LeaderAndIsr(B1, Epoch(1), (B1, B2), (B1,)))
    append(partition, 3)
    assert partition.high_watermark == 0
    partition.record_follower_fetch(B2, 3, now_ms=1)  # it has everything: proposed for the ISR
    [change] = writer.changes
    assert partition.high_watermark == 0  # still one copy in the stored ISR
    stored(partition, change)
    assert partition.high_watermark == 3
    log.close()


def test_a_fetch_beyond_the_leaders_log_end_teaches_nothing(log: PartitionLog) -> None:
    """A follower ahead of its new leader (it must truncate first) is neither counted nor caught up."""
    writer = Writer()
    partition = leader(log, writer, LeaderAndIsr(B1, Epoch(1), (B1, B2), (B1,)))
    append(partition, 2)
    partition.record_follower_fetch(B2, 9, now_ms=1)
    assert writer.changes == [] and partition.replicas.followers[B2].log_end_offset == -1


def test_a_leader_alone_in_its_isr_proposes_nothing_and_still_forgets_a_lost_proposal(
    log: PartitionLog,
) -> None:
    # a single broker's partitions (the shrink timer passes over all of them): nothing to drop, but a
    # proposal that got no answer for the lag time is still forgotten, so the next one can be made
    alone = LeaderAndIsr(B1, Epoch(1), (B1, B2), (B1,), partition_epoch=3)
    writer = Writer()
    partition = leader(log, writer, alone)
    assert partition.maybe_shrink_isr(now_ms=10 * LAG, lag_max_ms=LAG) is None
    partition.replicas.pending_isr, partition.replicas.pending_since_ms = (B1, B2), 0
    assert partition.maybe_shrink_isr(now_ms=LAG, lag_max_ms=LAG) is None
    assert partition.replicas.pending_isr == (B1, B2)  # not yet lost
    assert partition.maybe_shrink_isr(now_ms=LAG + 1, lag_max_ms=LAG) is None
    assert partition.replicas.pending_isr is None
    assert writer.changes == []


# --- KIP-704: a partition RECOVERING after an unclean election ----------------------------------
# Its leader recovers, then proposes its ISR (itself) with RECOVERED; no follower is proposed for
# the ISR before that is stored; a recovery that takes time (the fault hook's) ends on the leader's
# timer, which also sends again a RECOVERED that was refused or left unanswered.

UNCLEAN = LeaderAndIsr(B1, Epoch(3), (B1, B2, B3), (B1,), (), 9, LeaderRecoveryState.RECOVERING)
"""B1 elected uncleanly: the ISR is B1 alone, RECOVERING."""


def unclean_leader(log: PartitionLog, writer: Writer, recovery_ms: int = 0) -> Partition:
    partition = leader(log, writer, UNCLEAN, recovery_ms=recovery_ms)
    append(partition, 5)
    return partition


def test_an_unclean_leader_proposes_recovered_with_its_isr_alone(log: PartitionLog) -> None:
    writer = Writer()
    partition = unclean_leader(log, writer)
    [change] = writer.changes
    assert (change.isr, change.leader_recovery_state, change.partition_epoch) == ((B1,), RECOVERED, 9)
    assert (change.leader, change.leader_epoch) == (B1, 3)
    assert partition.replicas.pending_isr == (B1,)  # the high watermark waits for nobody else


def test_a_caught_up_follower_joins_only_once_recovered_is_stored(log: PartitionLog) -> None:
    writer = Writer()
    partition = unclean_leader(log, writer, recovery_ms=5_000)
    assert writer.changes == []  # still recovering
    partition.record_follower_fetch(B2, 5, now_ms=100)
    partition.record_follower_fetch(B2, 5, now_ms=200)
    assert writer.changes == []  # B2 holds everything, but the partition is RECOVERING
    assert partition.maybe_shrink_isr(4_999, LAG) is None
    change = partition.maybe_shrink_isr(5_000, LAG)  # the leader's timer: the recovery is over
    assert change is not None and (change.isr, change.leader_recovery_state) == ((B1,), RECOVERED)
    partition.record_follower_fetch(B2, 5, now_ms=5_100)
    assert writer.changes == [change]  # one change at a time: RECOVERED is not stored yet
    stored(partition, change, 5_200)
    assert partition.replicas.state.leader_recovery_state == RECOVERED
    partition.record_follower_fetch(B2, 5, now_ms=5_300)
    assert writer.changes[-1].isr == (B1, B2) and writer.changes[-1].leader_recovery_state == RECOVERED


def test_a_refused_recovered_is_proposed_again_by_the_timer(log: PartitionLog) -> None:
    writer = Writer()
    partition = unclean_leader(log, writer)
    [change] = writer.changes
    partition.isr_change_failed(change)
    assert partition.maybe_shrink_isr(1, LAG) == change
    # unanswered: sent again once replica.lag.time.max.ms passed
    assert partition.maybe_shrink_isr(LAG, LAG) is None
    assert partition.maybe_shrink_isr(LAG + 2, LAG) == change
    stored(partition, change, LAG + 3)
    assert partition.maybe_shrink_isr(2 * LAG, LAG) is None
    assert len(writer.changes) == 3


def test_a_new_leader_epoch_restarts_the_recovery(log: PartitionLog) -> None:
    writer = Writer()
    partition = unclean_leader(log, writer, recovery_ms=1_000)
    partition.become(LeaderAndIsr(B1, Epoch(4), (B1, B2, B3), (B1,), (), 10, RECOVERING), now_ms=900)
    assert partition.maybe_shrink_isr(1_000, LAG) is None  # epoch 4's recovery ends at 1,900
    change = partition.maybe_shrink_isr(1_900, LAG)
    assert change is not None and (change.leader_epoch, change.partition_epoch) == (4, 10)


def test_a_follower_of_a_recovering_partition_proposes_nothing(log: PartitionLog) -> None:
    writer = Writer()
    follower = Partition(TP, uuid.uuid4(), log, B2, UNCLEAN, isr_writer=writer, now_ms=0)
    assert not follower.is_leader
    assert follower.maybe_shrink_isr(LAG * 3, LAG) is None
    assert writer.changes == []
