"""`ReplicaManager.leader`: the checks every leader-only request makes before touching a partition."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from odradek.broker.partitions import Partition, ReplicaManager
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager
from odradek.storage.partition_log import PartitionLog


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[ReplicaManager]:
    tp = TopicPartition("t", 0)
    log = PartitionLog.create(tmp_path / "t-0", tp, uuid.uuid4(), LogConfig(), now_ms=0)
    manager = ReplicaManager(LogManager([tmp_path]), 1, lambda _: LogConfig(), lambda: 0)
    manager.by_name["t"] = {0: Partition(tp, uuid.uuid4(), log, leader_epoch=5)}
    yield manager
    log.close()


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
    replicas: ReplicaManager, topic: str, index: int, current: int, expected: ErrorCode | None
) -> None:
    found = replicas.leader(topic, index, current)
    if expected is None:
        assert found is replicas.get("t", 0)
    else:
        assert found is expected


def test_a_follower_is_not_served_whatever_the_epoch(replicas: ReplicaManager) -> None:
    partition = replicas.get("t", 0)
    assert partition is not None
    partition.is_leader = False
    assert replicas.leader("t", 0) is ErrorCode.NOT_LEADER_OR_FOLLOWER
    assert replicas.leader("t", 0, 4) is ErrorCode.NOT_LEADER_OR_FOLLOWER
