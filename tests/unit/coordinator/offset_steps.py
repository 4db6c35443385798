"""OffsetCommit / OffsetFetch / OffsetDelete steps against a `GroupShardDriver`."""

from __future__ import annotations

import uuid

from odradek.coordinator.group import records as rec
from odradek.coordinator.shard import LogRecord, TransactionMarker
from odradek.model.errors import ErrorCode
from odradek.protocol.messages import offset_commit as oc
from odradek.protocol.messages import offset_delete as od
from odradek.protocol.messages import offset_fetch as of
from odradek.testing.group_coordinator import GroupShardDriver


def commit(
    d: GroupShardDriver,
    offsets: dict[str, int],
    *,
    group: str = "g",
    generation: int = -1,
    member_id: str = "",
    instance_id: str | None = None,
    version: int = 9,
    metadata: str | None = "",
    leader_epoch: int = -1,
    retention_time_ms: int = -1,
    topic_ids: dict[str, uuid.UUID] | None = None,
) -> dict[str, ErrorCode]:
    """Commit ``{"t-0": 5}``; returns each partition's error as ``{"t-0": ErrorCode.NO_ERROR}``."""
    topics: dict[str, list[oc.OffsetCommitRequestPartition]] = {}
    for tp, offset in offsets.items():
        topic, p = tp.rsplit("-", 1)
        topics.setdefault(topic, []).append(
            oc.OffsetCommitRequestPartition(
                partition_index=int(p),
                committed_offset=offset,
                committed_leader_epoch=leader_epoch,
                committed_metadata=metadata,
            )
        )
    request = oc.OffsetCommitRequest(
        group_id=group,
        generation_id_or_member_epoch=generation,
        member_id=member_id,
        group_instance_id=instance_id,
        retention_time_ms=retention_time_ms,
        topics=[
            oc.OffsetCommitRequestTopic(
                name=t, topic_id=(topic_ids or {}).get(t, uuid.UUID(int=0)), partitions=ps
            )
            for t, ps in topics.items()
        ],
    )
    response = d.call(d.shard.offset_commit, d.ctx(version), request)
    return {
        f"{t.name}-{p.partition_index}": ErrorCode(p.error_code)
        for t in response.topics
        for p in t.partitions
    }


def fetch(
    d: GroupShardDriver,
    partitions: list[str] | None,
    *,
    group: str = "g",
    require_stable: bool = False,
    member_id: str | None = None,
    member_epoch: int = -1,
    version: int = 9,
) -> of.OffsetFetchResponseGroup:
    topics = None
    if partitions is not None:
        by_topic: dict[str, list[int]] = {}
        for tp in partitions:
            topic, p = tp.rsplit("-", 1)
            by_topic.setdefault(topic, []).append(int(p))
        topics = [of.OffsetFetchRequestTopics(name=t, partition_indexes=ps) for t, ps in by_topic.items()]
    request = of.OffsetFetchRequestGroup(
        group_id=group, member_id=member_id, member_epoch=member_epoch, topics=topics
    )
    response: of.OffsetFetchResponseGroup = d.shard.offset_fetch(d.ctx(version), request, require_stable)
    return response


def fetched(response: of.OffsetFetchResponseGroup) -> dict[str, tuple[int, int, str | None, ErrorCode]]:
    """``{"t-0": (offset, leader epoch, metadata, error)}``."""
    return {
        f"{t.name}-{p.partition_index}": (
            p.committed_offset,
            p.committed_leader_epoch,
            p.metadata,
            ErrorCode(p.error_code),
        )
        for t in response.topics
        for p in t.partitions
    }


def delete_offsets(d: GroupShardDriver, partitions: list[str], group: str = "g") -> od.OffsetDeleteResponse:
    by_topic: dict[str, list[int]] = {}
    for tp in partitions:
        topic, p = tp.rsplit("-", 1)
        by_topic.setdefault(topic, []).append(int(p))
    request = od.OffsetDeleteRequest(
        group_id=group,
        topics=[
            od.OffsetDeleteRequestTopic(
                name=t, partitions=[od.OffsetDeleteRequestPartition(partition_index=p) for p in ps]
            )
            for t, ps in by_topic.items()
        ],
    )
    response: od.OffsetDeleteResponse = d.call(d.shard.offset_delete, d.ctx(0), request)
    return response


def transactional_commit(d: GroupShardDriver, producer_id: int, group: str, tp: str, offset: int) -> None:
    """What the log holds after a TxnOffsetCommit: an OffsetCommit record in a transactional batch."""
    topic, p = tp.rsplit("-", 1)
    key, value = rec.encode(rec.offset_commit(group, topic, int(p), offset, -1, "", d.now))
    d.shard.replay(LogRecord(key, value, producer_id))


def end_transaction(d: GroupShardDriver, producer_id: int, committed: bool) -> None:
    d.shard.replay(TransactionMarker(producer_id, committed))
