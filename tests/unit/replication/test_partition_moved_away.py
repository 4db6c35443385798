"""A partition reassigned away from this broker (`PartitionManager.drop_partition`)."""

from __future__ import annotations

import uuid
from pathlib import Path

from odradek.broker.partitions import reconcile
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import (
    FeatureLevelRecord,
    PartitionChangeRecord,
    PartitionRecord,
    RegisterBrokerRecord,
    TopicRecord,
)
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.replication.manager import PartitionManager
from odradek.replication.partition import Partition
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager

TID = uuid.UUID(int=5)
B1, B2 = BrokerId(1), BrokerId(2)


class Waiter:
    """What an acks=all produce waiting on the partition would be told, each time it is woken."""

    def __init__(self, answers: list[tuple[bool, ErrorCode]]) -> None:
        self.answers = answers

    def on_high_watermark_updated(self, partition: Partition) -> None:
        pass

    def on_deleted(self, partition: Partition) -> None:
        self.answers.append(partition.check_enough_replicas(10))

    def on_replica_state_changed(self, partition: Partition) -> None:
        self.answers.append(partition.check_enough_replicas(10))


def test_a_leader_moved_away_answers_its_waiters_not_leader_and_drops_its_log(tmp_path: Path) -> None:
    image = replay(
        ClusterImage.EMPTY,
        [
            RegisterBrokerRecord(B1, "h", 1),
            RegisterBrokerRecord(B2, "h", 2),
            TopicRecord("t", TID),
            PartitionRecord(TID, 0, (B1, B2), (B1, B2), B1),
        ],
    )
    manager = PartitionManager(LogManager([tmp_path]), 1, lambda _: LogConfig(), lambda: 0)
    try:
        assert reconcile(manager, image) == []
        partition = manager.get("t", 0)
        assert partition is not None and partition.is_leader
        answers: list[tuple[bool, ErrorCode]] = []
        partition.add_listener(Waiter(answers))
        moved = replay(image, [PartitionChangeRecord(TID, 0, leader=B2, isr=(B2,), replicas=(B2,))])
        doomed = reconcile(manager, moved, image)
        assert manager.get("t", 0) is None and partition.deleted
        assert doomed and not partition.is_leader
        # an acks=all produce that waited on it is answered first: the partition lives on elsewhere
        assert answers[0] == (True, ErrorCode.NOT_LEADER_OR_FOLLOWER)
    finally:
        manager.logs.close()


def test_a_change_of_eligible_leader_replicas_version_alone_reaches_every_hosted_partition(
    tmp_path: Path,
) -> None:
    """The feature's level is the only change (no partition moved): every hosted partition still
    takes the new high-watermark rule (strict min ISR at 1, the ISR alone at 0)."""
    image = replay(
        ClusterImage.EMPTY,
        [
            RegisterBrokerRecord(B1, "h", 1),
            RegisterBrokerRecord(B2, "h", 2),
            TopicRecord("t", TID),
            PartitionRecord(TID, 0, (B1, B2), (B1,), B1),
        ],
    )
    manager = PartitionManager(LogManager([tmp_path]), 1, lambda _: LogConfig(), lambda: 0)
    try:
        reconcile(manager, image)
        partition = manager.get("t", 0)
        assert partition is not None and partition.replicas.strict_min_isr
        off = replay(image, [FeatureLevelRecord("eligible.leader.replicas.version", 0)])
        reconcile(manager, off, image)
        assert not partition.replicas.strict_min_isr
        reconcile(manager, replay(off, [FeatureLevelRecord("eligible.leader.replicas.version", 1)]), off)
        assert partition.replicas.strict_min_isr
    finally:
        manager.logs.close()
