"""`Partition` owns the high watermark: appends, followers' fetches and state changes move it, listeners
hear it, and an acks=all produce waits in the purgatory until it passes the batch."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from odradek.broker.delayed_produce import DelayedProduce, ProduceWait
from odradek.broker.purgatory import Purgatory
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId, Epoch
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.messages import produce as msg
from odradek.protocol.records import build_batch, validate_batches
from odradek.replication.partition import Partition
from odradek.replication.replica_set import LeaderAndIsr
from odradek.storage.log_config import LogConfig
from odradek.storage.partition_log import PartitionLog

B1, B2 = BrokerId(1), BrokerId(2)
TP = TopicPartition("t", 0)
TWO = LeaderAndIsr(B1, Epoch(3), (B1, B2), (B1, B2))


class Heard:
    def __init__(self, purgatory: Purgatory[TopicPartition] | None = None) -> None:
        self.high_watermarks: list[int] = []
        self.deleted = 0
        self.purgatory = purgatory

    def on_high_watermark_updated(self, partition: Partition) -> None:
        self.high_watermarks.append(partition.high_watermark)
        if self.purgatory is not None:
            self.purgatory.check_and_complete(partition.tp)

    def on_deleted(self, partition: Partition) -> None:
        self.deleted += 1
        if self.purgatory is not None:
            self.purgatory.check_and_complete(partition.tp)

    def on_replica_state_changed(self, partition: Partition) -> None:
        if self.purgatory is not None:
            self.purgatory.check_and_complete(partition.tp)


@pytest.fixture
def log(tmp_path: Path) -> Iterator[PartitionLog]:
    log = PartitionLog.create(tmp_path / "t-0", TP, uuid.uuid4(), LogConfig(min_insync_replicas=2), now_ms=0)
    yield log
    log.close()


def append(partition: Partition, count: int = 1) -> int:
    data = bytearray(build_batch([(None, b"v", [], 1000)] * count))
    return partition.append_as_leader(data, validate_batches(data), now_ms=0).last_offset


def test_alone_in_the_isr_an_append_commits_at_once(log: PartitionLog) -> None:
    heard = Heard()
    partition = Partition(TP, uuid.uuid4(), log, B1, LeaderAndIsr.single(B1, Epoch(2)), (heard,))
    assert append(partition, 3) == 2
    assert partition.high_watermark == 3 and heard.high_watermarks == [3]
    assert log.leader_epoch_cache.latest_epoch == 2


def test_with_a_follower_the_high_watermark_waits_for_its_fetch(log: PartitionLog) -> None:
    heard = Heard()
    partition = Partition(TP, uuid.uuid4(), log, B1, TWO, (heard,))
    append(partition, 5)
    assert partition.high_watermark == 0 and heard.high_watermarks == []
    partition.record_follower_fetch(B2, 3, now_ms=1)
    assert partition.high_watermark == 3
    partition.record_follower_fetch(B2, 5, now_ms=2)
    assert heard.high_watermarks == [3, 5]
    partition.become(LeaderAndIsr(B1, Epoch(3), (B1, B2), (B1,), partition_epoch=1))  # the ISR shrank
    append(partition)
    assert partition.high_watermark == 5  # KIP-966: not below min.insync.replicas=2 copies
    partition.become(LeaderAndIsr(B1, Epoch(3), (B1, B2), (B1, B2), partition_epoch=2))
    partition.record_follower_fetch(B2, 6, now_ms=3)
    assert partition.high_watermark == 6


def test_a_restarted_leader_alone_in_the_isr_commits_its_whole_log(tmp_path: Path, log: PartitionLog) -> None:
    data = bytearray(build_batch([(None, b"v", [], 1000)] * 4))
    log.append(data, validate_batches(data), 0, now_ms=0)  # written before a kill -9: checkpoint says 0
    assert log.high_watermark == 0
    partition = Partition(TP, uuid.uuid4(), log, B1, LeaderAndIsr.single(B1))
    assert partition.high_watermark == 4


def test_acks_all_waits_in_the_purgatory_until_the_follower_has_the_batch(log: PartitionLog) -> None:
    async def scenario() -> None:
        purgatory: Purgatory[TopicPartition] = Purgatory("produce")
        partition = Partition(TP, uuid.uuid4(), log, B1, TWO, (Heard(purgatory),))
        result = msg.PartitionProduceResponse(index=0)
        delayed = DelayedProduce([ProduceWait(partition, append(partition, 2) + 1, result)])
        assert not purgatory.try_complete_else_watch(delayed, timeout_ms=30_000)
        waiting = asyncio.ensure_future(delayed.wait())
        partition.record_follower_fetch(B2, 1, now_ms=1)
        await asyncio.sleep(0)
        assert not waiting.done() and purgatory.watched() == 1
        partition.record_follower_fetch(B2, 2, now_ms=2)
        await waiting
        assert result.error_code == ErrorCode.NO_ERROR and purgatory.watched() == 0

    asyncio.run(scenario())


def test_acks_all_answers_timeout_isr_shrink_and_deletion(log: PartitionLog) -> None:
    async def scenario() -> None:
        purgatory: Purgatory[TopicPartition] = Purgatory("produce")
        partition = Partition(TP, uuid.uuid4(), log, B1, TWO, (Heard(purgatory),))
        timed_out = msg.PartitionProduceResponse(index=0)
        delayed = DelayedProduce([ProduceWait(partition, append(partition) + 1, timed_out)])
        assert not purgatory.try_complete_else_watch(delayed, timeout_ms=10)
        await delayed.wait()
        assert timed_out.error_code == ErrorCode.REQUEST_TIMED_OUT

        shrunk = msg.PartitionProduceResponse(index=0)
        delayed = DelayedProduce([ProduceWait(partition, append(partition) + 1, shrunk)])
        assert not purgatory.try_complete_else_watch(delayed, timeout_ms=30_000)
        partition.become(LeaderAndIsr(B1, Epoch(3), (B1, B2), (B1,), partition_epoch=1))
        await delayed.wait()  # below min.insync.replicas=2 it cannot commit (KIP-966): answered at once
        assert shrunk.error_code == ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND
        assert partition.high_watermark < partition.log.log_end_offset

        partition.become(TWO)
        gone = msg.PartitionProduceResponse(index=0)
        delayed = DelayedProduce([ProduceWait(partition, append(partition) + 1, gone)])
        assert not purgatory.try_complete_else_watch(delayed, timeout_ms=30_000)
        partition.mark_deleted()
        await delayed.wait()
        assert gone.error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION

    asyncio.run(scenario())


def test_with_eligible_leader_replicas_off_the_isr_alone_commits(log: PartitionLog) -> None:
    """`eligible.leader.replicas.version` 0: the rule before KIP-966 (ADR 0002), the ISR alone decides;
    back at 1, the strict min-ISR rule holds the high watermark again."""
    partition = Partition(TP, uuid.uuid4(), log, B1, TWO, (Heard(),))
    append(partition, 5)
    partition.record_follower_fetch(B2, 5, now_ms=1)
    alone = LeaderAndIsr(B1, Epoch(3), (B1, B2), (B1,), partition_epoch=1, eligible_leader_replicas=False)
    partition.become(alone)  # the ISR shrank below min.insync.replicas=2
    append(partition)
    assert partition.high_watermark == 6  # the leader alone in the ISR commits
    partition.become(LeaderAndIsr(B1, Epoch(3), (B1, B2), (B1,), partition_epoch=1))  # the feature back at 1
    append(partition)
    assert partition.high_watermark == 6  # strict again: below min.insync.replicas nothing commits
