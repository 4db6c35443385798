"""KIP-704 on the leader: a partition RECOVERING after an unclean election. Its leader recovers,
then proposes its ISR (itself) with RECOVERED; no follower is proposed for the ISR before that is
stored; a recovery that takes time (the fault hook's) ends on the leader's timer, which also sends
again a RECOVERED that was refused. On a fake clock."""

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
UNCLEAN = LeaderAndIsr(B1, Epoch(3), (B1, B2, B3), (B1,), (), 9, RECOVERING)
"""B1 elected uncleanly: the ISR is B1 alone, RECOVERING."""


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


def leader(log: PartitionLog, writer: Writer, recovery_ms: int = 0, now_ms: int = 0) -> Partition:
    partition = Partition(
        TP, uuid.uuid4(), log, B1, UNCLEAN, isr_writer=writer, now_ms=now_ms, recovery_ms=recovery_ms
    )
    data = bytearray(build_batch([(None, b"v", [], 1000)] * 5))
    partition.append_as_leader(data, validate_batches(data), now_ms=now_ms)
    return partition


def stored(partition: Partition, change: IsrChange, now_ms: int) -> None:
    """The controller stored `change`: the state comes back with a new partition epoch."""
    s = partition.replicas.state
    partition.become(
        LeaderAndIsr(
            s.leader,
            s.leader_epoch,
            s.replicas,
            change.isr,
            (),
            s.partition_epoch + 1,
            change.leader_recovery_state,
        ),
        now_ms,
    )


def test_the_new_leader_proposes_recovered_with_its_isr_alone(log: PartitionLog) -> None:
    writer = Writer()
    partition = leader(log, writer)
    [change] = writer.changes
    assert (change.isr, change.leader_recovery_state, change.partition_epoch) == ((B1,), RECOVERED, 9)
    assert (change.leader, change.leader_epoch) == (B1, 3)
    assert partition.replicas.pending_isr == (B1,)  # the high watermark waits for nobody else


def test_a_caught_up_follower_joins_only_once_recovered_is_stored(log: PartitionLog) -> None:
    writer = Writer()
    partition = leader(log, writer, recovery_ms=5_000)
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
    partition = leader(log, writer)
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
    partition = leader(log, writer, recovery_ms=1_000)
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
