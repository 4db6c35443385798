"""`PartitionManager.leader`: the checks every leader-only request makes before touching a partition."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId, Epoch
from odradek.model.topic_partition import TopicPartition
from odradek.replication.manager import PartitionManager
from odradek.replication.replica_set import LeaderAndIsr
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[PartitionManager]:
    manager = PartitionManager(LogManager([tmp_path]), 1, lambda _: LogConfig(), lambda: 0)
    manager.host(TopicPartition("t", 0), uuid.uuid4(), LeaderAndIsr.single(BrokerId(1), Epoch(5)))
    yield manager
    manager.logs.close()


@pytest.mark.parametrize(
    ("topic", "index", "current", "expected"),
    [
        ("t", 0, -1, None),
        ("t", 0, 5, None),
        ("t", 0, -2, None),  # any negative epoch: the client did not name one
        ("t", 0, 4, ErrorCode.FENCED_LEADER_EPOCH),
        ("t", 0, 6, ErrorCode.UNKNOWN_LEADER_EPOCH),
        ("t", 1, -1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        ("u", 0, 5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
    ],
)
def test_leader_checks(
    replicas: PartitionManager, topic: str, index: int, current: int, expected: ErrorCode | None
) -> None:
    found = replicas.leader(topic, index, current)
    if expected is None:
        assert found is replicas.get("t", 0)
    else:
        assert found is expected


def test_a_follower_is_not_served_whatever_the_epoch(replicas: PartitionManager) -> None:
    partition = replicas.get("t", 0)
    assert partition is not None
    partition.become(LeaderAndIsr(BrokerId(2), Epoch(5), (BrokerId(1), BrokerId(2)), (BrokerId(2),)))
    assert replicas.leader("t", 0) is ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert replicas.leader("t", 0, 4) is ErrorCode.NOT_LEADER_OR_FOLLOWER
