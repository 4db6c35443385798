"""TxnOffsetCommit: offsets committed inside a transaction (exactly-once consume-transform-produce).

The records are the same OffsetCommit records as OffsetCommit's, but written in a transactional batch
of the producer (`CoordinatorResult.producer_id/producer_epoch`) and applied as *pending* offsets of
that producer (`OffsetStore.pending`): OffsetFetch does not return them (and answers
UNSTABLE_OFFSET_COMMIT when asked for stable offsets) until the transaction's COMMIT marker reaches the
`__consumer_offsets` partition; an ABORT marker drops them. The transaction coordinator's marker
becomes a `TransactionMarker` replayed into the shard, live as on load.

Who may commit (Kafka's `validateOffsetCommit` with `isTransactional`):

- no group: a generation/epoch of -1 creates a "simple" group (as OffsetCommit does); otherwise
  ILLEGAL_GENERATION;
- a classic group: commits with generation -1 and no member id are taken in any state (producers using
  the old `sendOffsetsToTransaction(offsets, groupId)` send no group metadata); otherwise the member
  (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID) and its generation (ILLEGAL_GENERATION) are checked; unlike
  OffsetCommit, CompletingRebalance does not refuse them; a Dead group answers COORDINATOR_NOT_AVAILABLE;
- a consumer group (KIP-848): the same generation -1 exception, else the member (UNKNOWN_MEMBER_ID) at
  its current epoch (STALE_MEMBER_EPOCH below it, FENCED_MEMBER_EPOCH above).

A validation error applies to every partition; metadata above `offset.metadata.max.bytes` gets
OFFSET_METADATA_TOO_LARGE for its partition. The broker checks the producer against the transaction
coordinator before this runs (verification of the group's `__consumer_offsets` partition).
"""

from __future__ import annotations

from odradek.coordinator.context import RequestContext
from odradek.coordinator.group import records as rec
from odradek.coordinator.group.classic_group import ClassicGroup
from odradek.coordinator.group.classic_join import validate_generation
from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.coordinator.group.consumer_group import ConsumerGroup
from odradek.coordinator.group.errors import GroupError
from odradek.coordinator.group.state import Group, Op
from odradek.model.errors import ErrorCode
from odradek.protocol.messages import txn_offset_commit as toc

S = ClassicGroupState
UNKNOWN_GENERATION = -1


def txn_offset_commit(
    op: Op, ctx: RequestContext, request: toc.TxnOffsetCommitRequest
) -> toc.TxnOffsetCommitResponse:
    try:
        _validate(op, request)
    except GroupError as e:
        return failed_response(request, e.code)
    response = toc.TxnOffsetCommitResponse()
    for topic in request.topics:
        out = toc.TxnOffsetCommitResponseTopic(name=topic.name)
        response.topics.append(out)
        for p in topic.partitions:
            error = ErrorCode.NO_ERROR
            metadata = p.committed_metadata or ""
            if len(metadata.encode()) > op.config.offset_metadata_max_bytes:
                error = ErrorCode.OFFSET_METADATA_TOO_LARGE
            else:
                record = rec.offset_commit(
                    request.group_id,
                    topic.name,
                    p.partition_index,
                    p.committed_offset,
                    p.committed_leader_epoch,
                    metadata,
                    op.now,
                    -1,
                )
                op.emit_transactional(record, request.producer_id, request.producer_epoch)
            out.partitions.append(
                toc.TxnOffsetCommitResponsePartition(partition_index=p.partition_index, error_code=error)
            )
    return response


def failed_response(request: toc.TxnOffsetCommitRequest, error: ErrorCode) -> toc.TxnOffsetCommitResponse:
    """`error` for every partition of the request."""
    return toc.TxnOffsetCommitResponse(
        topics=[
            toc.TxnOffsetCommitResponseTopic(
                name=t.name,
                partitions=[
                    toc.TxnOffsetCommitResponsePartition(partition_index=p.partition_index, error_code=error)
                    for p in t.partitions
                ],
            )
            for t in request.topics
        ]
    )


def _validate(op: Op, r: toc.TxnOffsetCommitRequest) -> Group:
    if not r.group_id:
        raise GroupError(ErrorCode.INVALID_GROUP_ID)
    group = op.state.groups.get(r.group_id)
    if group is None:
        if r.generation_id >= 0:
            raise GroupError(ErrorCode.ILLEGAL_GENERATION)
        group = op.state.groups[r.group_id] = ClassicGroup(r.group_id)
        return group
    anonymous = r.generation_id == UNKNOWN_GENERATION and not r.member_id and r.group_instance_id is None
    if isinstance(group, ConsumerGroup):
        if (r.generation_id < 0 and not group.members) or anonymous:
            return group
        member = group.members.get(r.member_id)
        if member is None:
            raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID)
        if r.generation_id < member.member_epoch:
            raise GroupError(ErrorCode.STALE_MEMBER_EPOCH)
        if r.generation_id > member.member_epoch:
            raise GroupError(ErrorCode.FENCED_MEMBER_EPOCH)
        return group
    if group.is_(S.DEAD):
        raise GroupError(ErrorCode.COORDINATOR_NOT_AVAILABLE)
    if anonymous or (r.generation_id < 0 and group.is_(S.EMPTY)):
        return group
    validate_generation(group, r.member_id, r.group_instance_id, r.generation_id)
    return group
