"""OffsetCommit and OffsetDelete.

OffsetCommit checks who commits, then writes one OffsetCommit record per partition:

- a classic group accepts commits from its current members at its current generation
  (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID, ILLEGAL_GENERATION; REBALANCE_IN_PROGRESS while the
  generation is not yet synced), and from anyone with generation -1 while it is Empty ("simple" commits,
  which create a group without protocol type when there is none);
- a consumer group accepts commits from members at their current epoch (UNKNOWN_MEMBER_ID,
  STALE_MEMBER_EPOCH; such members must use v9+), and epoch -1 commits while it has no members;
- with no group and generation >= 0: GROUP_ID_NOT_FOUND (v9+) or ILLEGAL_GENERATION (older).

A validation error applies to every partition. Metadata longer than ``offset.metadata.max.bytes``
gets OFFSET_METADATA_TOO_LARGE for its partition. A commit in Stable or PreparingRebalance also counts
as a heartbeat of the classic member. v10 names topics by id (UNKNOWN_TOPIC_ID when unknown); v2-v4
may set a retention time, stored as the old per-offset expire timestamp.

OffsetDelete writes tombstones for the partitions that have an offset, except for topics the group
is subscribed to (GROUP_SUBSCRIBED_TO_TOPIC); a classic group that is not Empty and does not use the
consumer protocol cannot delete offsets at all (NON_EMPTY_GROUP).
"""

from __future__ import annotations

from odradek.coordinator.context import RequestContext
from odradek.coordinator.group import records as rec
from odradek.coordinator.group.classic_group import CONSUMER_PROTOCOL_TYPE, ClassicGroup
from odradek.coordinator.group.classic_join import validate_generation
from odradek.coordinator.group.classic_rebalance import reschedule_heartbeat
from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.coordinator.group.consumer_group import ConsumerGroup
from odradek.coordinator.group.errors import GroupError
from odradek.coordinator.group.state import Group, Op
from odradek.coordinator.result import CoordinatorRecord
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.messages import offset_commit as oc
from odradek.protocol.messages import offset_delete as od

S = ClassicGroupState
FIRST_VERSION_WITH_GROUP_ID_NOT_FOUND = 9
FIRST_VERSION_WITH_TOPIC_IDS = 10
FIRST_VERSION_FOR_CONSUMER_PROTOCOL = 9
_COMMIT_IS_HEARTBEAT = (S.STABLE, S.PREPARING_REBALANCE)


def offset_commit(op: Op, ctx: RequestContext, request: oc.OffsetCommitRequest) -> oc.OffsetCommitResponse:
    version = ctx.api_version
    group = op.state.groups.get(request.group_id)
    generation = request.generation_id_or_member_epoch
    if (
        type(group) is ClassicGroup
        and (member := group.members.get(request.member_id)) is not None
        and group.state is S.STABLE
        and generation == group.generation_id
        and request.group_instance_id is None
    ):
        # A member of a stable classic group at its generation (a consumer's usual commit): what
        # `_validate_commit` accepts, found with one lookup; the commit counts as its heartbeat.
        reschedule_heartbeat(op, group, member)
    elif type(group) is ClassicGroup and group.state is S.EMPTY and generation < 0 and request.group_id:
        pass  # a "simple" commit (partitions assigned by the client, no membership): nothing to check
    else:
        try:
            group = _validate_commit(op, version, request)
        except GroupError as e:
            return failed_response(request, e.code)
        if isinstance(group, ClassicGroup) and group.state in _COMMIT_IS_HEARTBEAT:
            member = group.members.get(request.member_id)
            if member is not None:
                reschedule_heartbeat(op, group, member)
    expire = -1 if request.retention_time_ms == -1 else op.now + request.retention_time_ms
    response = oc.OffsetCommitResponse()
    state, now, records = op.state, op.now, op.out.records
    max_metadata = state.config.offset_metadata_max_bytes
    for topic in request.topics:
        name = topic.name if version < FIRST_VERSION_WITH_TOPIC_IDS else _topic_name(op, topic, version)
        answers: list[oc.OffsetCommitResponsePartition] = []
        response.topics.append(oc.OffsetCommitResponseTopic(topic.name, topic.topic_id, answers))
        for p in topic.partitions:
            error = ErrorCode.NO_ERROR
            metadata = p.committed_metadata or ""
            if name is None:
                error = ErrorCode.UNKNOWN_TOPIC_ID
            elif metadata and len(metadata.encode()) > max_metadata:
                error = ErrorCode.OFFSET_METADATA_TOO_LARGE
            else:
                # `op.emit(rec.offset_commit(...))`, without the dispatch on the record's kind
                key = rec.OffsetCommitKey(request.group_id, name, p.partition_index)
                value = rec.OffsetCommitValue(
                    p.committed_offset, p.committed_leader_epoch, metadata, now, expire
                )
                records.append(CoordinatorRecord(key, value))
                state.apply_offset_commit(key, value)
            answers.append(oc.OffsetCommitResponsePartition(p.partition_index, error))
    return response


def _topic_name(op: Op, topic: oc.OffsetCommitRequestTopic, version: int) -> str | None:
    if version < FIRST_VERSION_WITH_TOPIC_IDS:
        return topic.name
    info = op.state.topics.topic_by_id(topic.topic_id)
    return None if info is None else info.name


def failed_response(request: oc.OffsetCommitRequest, error: ErrorCode) -> oc.OffsetCommitResponse:
    """`error` for every partition of the request."""
    return oc.OffsetCommitResponse(
        topics=[
            oc.OffsetCommitResponseTopic(
                name=t.name,
                topic_id=t.topic_id,
                partitions=[
                    oc.OffsetCommitResponsePartition(partition_index=p.partition_index, error_code=error)
                    for p in t.partitions
                ],
            )
            for t in request.topics
        ]
    )


def _validate_commit(op: Op, version: int, r: oc.OffsetCommitRequest) -> Group:
    if not r.group_id:
        raise GroupError(ErrorCode.INVALID_GROUP_ID)
    generation = r.generation_id_or_member_epoch
    group = op.state.groups.get(r.group_id)
    if group is None:
        if generation >= 0:
            if version >= FIRST_VERSION_WITH_GROUP_ID_NOT_FOUND:
                raise GroupError(ErrorCode.GROUP_ID_NOT_FOUND)
            raise GroupError(ErrorCode.ILLEGAL_GENERATION)
        # A simple group: it exists through its offsets (the records create it on replay too).
        group = op.state.groups[r.group_id] = ClassicGroup(r.group_id)
        return group
    if isinstance(group, ConsumerGroup):
        _validate_consumer_commit(group, version, r)
    else:
        _validate_classic_commit(group, r)
    return group


def _validate_classic_commit(group: ClassicGroup, r: oc.OffsetCommitRequest) -> None:
    generation = r.generation_id_or_member_epoch
    state = group.state
    if state is S.DEAD:
        raise GroupError(ErrorCode.COORDINATOR_NOT_AVAILABLE)
    if generation < 0 and state is S.EMPTY:
        return
    if generation >= 0 or r.member_id or r.group_instance_id is not None:
        validate_generation(group, r.member_id, r.group_instance_id, generation)
    elif state is not S.EMPTY:
        raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID)
    if state is S.COMPLETING_REBALANCE:
        # The member knows the new generation but has no assignment yet: let it finish the rebalance.
        raise GroupError(ErrorCode.REBALANCE_IN_PROGRESS)


def _validate_consumer_commit(group: ConsumerGroup, version: int, r: oc.OffsetCommitRequest) -> None:
    epoch = r.generation_id_or_member_epoch
    if epoch < 0 and not group.members:
        return
    member = group.members.get(r.member_id)
    if member is None:
        raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID)
    if version < FIRST_VERSION_FOR_CONSUMER_PROTOCOL:
        raise GroupError(ErrorCode.UNSUPPORTED_VERSION)
    if epoch != member.member_epoch:
        raise GroupError(ErrorCode.STALE_MEMBER_EPOCH)


def is_subscribed_to(group: Group, topic: str) -> bool:
    if isinstance(group, ConsumerGroup):
        return topic in group.subscribed_topic_names()
    return group.is_subscribed_to(topic)


def offset_delete(op: Op, ctx: RequestContext, request: od.OffsetDeleteRequest) -> od.OffsetDeleteResponse:
    group = op.state.groups.get(request.group_id)
    if group is None:
        return od.OffsetDeleteResponse(error_code=ErrorCode.GROUP_ID_NOT_FOUND)
    if isinstance(group, ClassicGroup):
        if group.is_(S.DEAD):
            return od.OffsetDeleteResponse(error_code=ErrorCode.GROUP_ID_NOT_FOUND)
        if not group.is_(S.EMPTY) and group.protocol_type != CONSUMER_PROTOCOL_TYPE:
            return od.OffsetDeleteResponse(error_code=ErrorCode.NON_EMPTY_GROUP)
    response = od.OffsetDeleteResponse()
    for topic in request.topics:
        subscribed = is_subscribed_to(group, topic.name)
        out = od.OffsetDeleteResponseTopic(name=topic.name)
        response.topics.append(out)
        for p in topic.partitions:
            error = ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC if subscribed else ErrorCode.NO_ERROR
            tp = TopicPartition(topic.name, p.partition_index)
            offsets = op.state.offsets
            if not subscribed and (
                offsets.get(request.group_id, tp) or offsets.has_pending(request.group_id, tp)
            ):
                op.emit(rec.offset_commit_tombstone(request.group_id, topic.name, p.partition_index))
            out.partitions.append(
                od.OffsetDeleteResponsePartition(partition_index=p.partition_index, error_code=error)
            )
    return response
