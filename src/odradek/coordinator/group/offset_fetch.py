"""OffsetFetch for one group (the service splits v8+ multi-group requests and joins the answers).

Partitions without a committed offset answer offset -1 (also for unknown groups); a request without
topics (null) asks for every committed offset of the group. With ``require_stable``, a partition that
has an offset pending in an open transaction answers UNSTABLE_OFFSET_COMMIT (the client retries until
the transaction ends). A KIP-848 member that names itself (v9+ member id and epoch) must be current:
UNKNOWN_MEMBER_ID / STALE_MEMBER_EPOCH otherwise. v10 names topics by id.
"""

from __future__ import annotations

import uuid

from odradek.coordinator.group.consumer_group import ConsumerGroup
from odradek.coordinator.group.errors import GroupError
from odradek.coordinator.group.offsets import OffsetAndMetadata
from odradek.coordinator.group.state import ShardState
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import ZERO_UUID, TopicPartition
from odradek.protocol.messages import offset_fetch as of

FIRST_VERSION_WITH_TOPIC_IDS = 10


def fetch_offsets(
    state: ShardState, version: int, request: of.OffsetFetchRequestGroup, require_stable: bool
) -> of.OffsetFetchResponseGroup:
    gid = request.group_id
    response = of.OffsetFetchResponseGroup(group_id=gid)
    group = state.groups.get(gid)
    try:
        if isinstance(group, ConsumerGroup):
            _validate_member(group, request)
    except GroupError as e:
        response.error_code = e.code
        return response
    by_id = version >= FIRST_VERSION_WITH_TOPIC_IDS
    if request.topics is None:
        topics: dict[str, list[int]] = {}
        if group is not None:
            for tp in sorted(state.offsets.group_offsets(gid)):
                topics.setdefault(tp.topic, []).append(tp.partition)
        for name, partitions in topics.items():
            topic_id = _topic_id(state, name) if by_id else ZERO_UUID
            response.topics.append(_topic(state, gid, name, topic_id, partitions, require_stable))
        return response
    for t in request.topics:
        resolved: str | None = t.name
        if by_id:
            info = state.topics.topic_by_id(t.topic_id)
            resolved = None if info is None else info.name
        if resolved is None:
            response.topics.append(
                of.OffsetFetchResponseTopics(
                    topic_id=t.topic_id,
                    partitions=[_partition(p, None, ErrorCode.UNKNOWN_TOPIC_ID) for p in t.partition_indexes],
                )
            )
            continue
        owner = gid if group is not None else None
        response.topics.append(
            _topic(state, owner, resolved, t.topic_id, t.partition_indexes, require_stable)
        )
    return response


def _topic_id(state: ShardState, name: str) -> uuid.UUID:
    info = state.topics.topic(name)
    return ZERO_UUID if info is None else info.topic_id


def _topic(
    state: ShardState,
    group_id: str | None,
    name: str,
    topic_id: uuid.UUID,
    partitions: list[int],
    require_stable: bool,
) -> of.OffsetFetchResponseTopics:
    out = of.OffsetFetchResponseTopics(name=name, topic_id=topic_id)
    for p in partitions:
        if group_id is None:
            out.partitions.append(_partition(p, None))
            continue
        tp = TopicPartition(name, p)
        if require_stable and state.offsets.has_pending(group_id, tp):
            out.partitions.append(_partition(p, None, ErrorCode.UNSTABLE_OFFSET_COMMIT))
        else:
            out.partitions.append(_partition(p, state.offsets.get(group_id, tp)))
    return out


def _partition(
    index: int, offset: OffsetAndMetadata | None, error: ErrorCode = ErrorCode.NO_ERROR
) -> of.OffsetFetchResponsePartitions:
    if offset is None:
        return of.OffsetFetchResponsePartitions(
            partition_index=index,
            committed_offset=-1,
            committed_leader_epoch=-1,
            metadata="",
            error_code=error,
        )
    return of.OffsetFetchResponsePartitions(
        partition_index=index,
        committed_offset=offset.committed_offset,
        committed_leader_epoch=offset.leader_epoch,
        metadata=offset.metadata,
        error_code=error,
    )


def _validate_member(group: ConsumerGroup, request: of.OffsetFetchRequestGroup) -> None:
    if request.member_id is None and request.member_epoch < 0:
        return
    member = group.members.get(request.member_id or "")
    if member is None:
        raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID)
    if request.member_epoch != member.member_epoch:
        raise GroupError(ErrorCode.STALE_MEMBER_EPOCH)
