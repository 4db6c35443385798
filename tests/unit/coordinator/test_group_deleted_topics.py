"""Offsets of deleted topics: tombstones for committed and pending offsets; empty groups then expire."""

from __future__ import annotations

import asyncio
import random

from group_steps import stable_group
from offset_steps import commit, end_transaction, fetch, fetched, transactional_commit

from odradek.coordinator.context import RequestContext
from odradek.coordinator.group import records as rec
from odradek.coordinator.group.config import GroupCoordinatorConfig
from odradek.coordinator.group.deleted_topics import MAX_TOMBSTONES_PER_WRITE
from odradek.coordinator.group.offsets import OffsetAndMetadata, OffsetStore
from odradek.coordinator.group.service import GroupCoordinatorService
from odradek.coordinator.group.shard import GroupCoordinatorShard
from odradek.coordinator.group.topics import StaticTopics
from odradek.coordinator.log import Appended
from odradek.coordinator.shard import KeyValue
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.messages import offset_commit as oc
from odradek.protocol.messages import offset_fetch as of
from odradek.testing.clock import FakeClock
from odradek.testing.coordinator_log import MemoryCoordinatorLog
from odradek.testing.group_coordinator import GroupShardDriver

CONFIG = GroupCoordinatorConfig(offsets_retention_ms=60_000, offsets_retention_check_interval_ms=10_000)


class BatchLog(MemoryCoordinatorLog):
    """``__consumer_offsets`` in memory, remembering each append's size."""

    def __init__(self) -> None:
        super().__init__()
        self.batch_sizes: list[int] = []

    def append(
        self, partition: int, records: list[KeyValue], producer: tuple[int, int] | None = None
    ) -> Appended:
        self.batch_sizes.append(len(records))
        return super().append(partition, records, producer)

    async def service(self) -> GroupCoordinatorService:
        config = GroupCoordinatorConfig(offsets_topic_num_partitions=2)
        svc = GroupCoordinatorService.create(FakeClock(), self, StaticTopics(), config, random.Random(1))
        for p in (0, 1):
            await svc.load(p, 0, self.entries(p))
        return svc


def commit_request(group: str, topic: str, offset: int) -> oc.OffsetCommitRequest:
    partition = oc.OffsetCommitRequestPartition(partition_index=0, committed_offset=offset)
    return oc.OffsetCommitRequest(
        group_id=group, topics=[oc.OffsetCommitRequestTopic(name=topic, partitions=[partition])]
    )


def offsets(shard: GroupCoordinatorShard, group: str = "g") -> dict[str, int]:
    request = of.OffsetFetchRequestGroup(group_id=group, topics=None)
    response = shard.offset_fetch(RequestContext("c", "/h", 9), request, False)
    return {tp: v[0] for tp, v in fetched(response).items()}


def delete(d: GroupShardDriver, *topics: str) -> int:
    dropped: int = d.call(d.shard.on_topics_deleted, set(topics))
    return dropped


def test_committed_offsets_of_deleted_topics_get_tombstones_and_leave_memory() -> None:
    d = GroupShardDriver()
    commit(d, {"t-0": 5, "t-1": 7, "u-0": 1})
    commit(d, {"t-1": 3}, group="other")
    before = len(d.records)
    assert delete(d, "t", "gone") == 3
    assert d.records[before:] == [
        rec.offset_commit_tombstone("g", "t", 0),
        rec.offset_commit_tombstone("g", "t", 1),
        rec.offset_commit_tombstone("other", "t", 1),
    ]
    assert offsets(d.shard) == {"u-0": 1}
    assert offsets(d.shard, "other") == {}
    assert fetched(fetch(d, ["t-0"])) == {"t-0": (-1, -1, "", 0)}
    # The log alone rebuilds the same state (a restart does not bring them back).
    replayed = d.replayed()
    assert offsets(replayed) == {"u-0": 1}
    assert offsets(replayed, "other") == {}
    assert replayed.state.offsets.committed == d.shard.state.offsets.committed
    # Nothing left to delete: no records.
    assert delete(d, "t") == 0
    assert len(d.records) == before + 3


def test_pending_transactional_offsets_are_dropped_too() -> None:
    d = GroupShardDriver()
    commit(d, {"u-0": 1})
    transactional_commit(d, producer_id=7, group="g", tp="t-0", offset=9)
    transactional_commit(d, producer_id=7, group="g", tp="u-0", offset=4)
    assert d.shard.state.offsets.has_pending("g", TopicPartition("t", 0))
    assert delete(d, "t") == 1
    assert d.records[-1] == rec.offset_commit_tombstone("g", "t", 0)
    assert not d.shard.state.offsets.has_pending("g", TopicPartition("t", 0))
    assert d.shard.state.offsets.pending_partitions("g") == {TopicPartition("u", 0)}
    end_transaction(d, 7, committed=True)
    assert offsets(d.shard) == {"u-0": 4}


def test_a_group_left_with_nothing_expires_at_the_next_retention_check() -> None:
    d = GroupShardDriver(CONFIG)
    commit(d, {"t-0": 5}, group="simple")
    (member,) = stable_group(d, 1)
    commit(d, {"t-0": 6}, generation=1, member_id=member)
    delete(d, "t")
    assert set(d.shard.state.groups) == {"simple", "g"}  # as in Kafka, groups are not deleted here
    d.advance(10_000)
    # The offsets-only group is gone; the group with a member stays.
    assert "simple" not in d.shard.state.groups
    assert rec.group_metadata_tombstone("simple") in d.records
    assert "g" in d.shard.state.groups


def test_offset_store_finds_committed_and_pending_partitions_of_topics() -> None:
    store = OffsetStore()
    value = OffsetAndMetadata(1, -1, "", 0)
    store.replay("a", TopicPartition("t", 0), value)
    store.replay("a", TopicPartition("u", 0), value)
    store.replay("b", TopicPartition("t", 2), value, producer_id=4)
    assert store.partitions_of({"t"}) == {("a", TopicPartition("t", 0)), ("b", TopicPartition("t", 2))}
    assert store.partitions_of({"v"}) == set()


def test_service_drops_offsets_on_every_shard_in_bounded_batches() -> None:
    async def scenario() -> None:
        log = BatchLog()
        svc = await log.service()
        ctx = RequestContext("c", "/h", 9)
        groups = [f"g{i}" for i in range(2 * MAX_TOMBSTONES_PER_WRITE + 5)]
        for group in groups:
            await svc.offset_commit(ctx, commit_request(group, "t", 1))
        await svc.offset_commit(ctx, commit_request("g0", "u", 2))
        log.batch_sizes.clear()
        assert await svc.on_topics_deleted({"t"}) == len(groups)
        assert sum(log.batch_sizes) == len(groups)
        assert max(log.batch_sizes) == MAX_TOMBSTONES_PER_WRITE
        assert len(log.batch_sizes) >= 3
        await svc.stop()
        reloaded = await log.service()
        for group in groups:
            shard = reloaded.runtime.shard(reloaded.partition_for(group))
            assert offsets(shard, group) == ({"u-0": 2} if group == "g0" else {})
        await reloaded.stop()

    asyncio.run(scenario())
