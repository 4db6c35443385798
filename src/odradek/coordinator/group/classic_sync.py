"""SyncGroup for classic groups: the leader hands in the assignment, followers wait for theirs.

In CompletingRebalance every SyncGroup is parked; the leader's stores the assignment (members it
leaves out get an empty one) in a GroupMetadata record, moves the group to Stable and answers every
parked SyncGroup with its member's assignment. In Stable a SyncGroup is answered at once. Errors:
UNKNOWN_MEMBER_ID (no such group or member, or an Empty group), FENCED_INSTANCE_ID, ILLEGAL_GENERATION,
INCONSISTENT_GROUP_PROTOCOL (v5+ protocol type/name differ from the group's), REBALANCE_IN_PROGRESS
(a new rebalance started: rejoin).
"""

from __future__ import annotations

from odradek.coordinator.context import RequestContext
from odradek.coordinator.group import records as rec
from odradek.coordinator.group.classic_group import ClassicGroup
from odradek.coordinator.group.classic_join import validate_generation
from odradek.coordinator.group.classic_rebalance import propagate_assignment
from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.coordinator.group.errors import GroupError
from odradek.coordinator.group.state import Op, TimerKind
from odradek.coordinator.result import WaiterId
from odradek.model.errors import ErrorCode
from odradek.protocol.messages.sync_group import SyncGroupRequest, SyncGroupResponse

S = ClassicGroupState


def sync_group(
    op: Op, ctx: RequestContext, request: SyncGroupRequest, waiter: WaiterId
) -> SyncGroupResponse | None:
    group = op.state.classic(request.group_id)
    if group is None or group.is_(S.EMPTY):
        return SyncGroupResponse(error_code=ErrorCode.UNKNOWN_MEMBER_ID)
    try:
        _validate(group, request)
    except GroupError as e:
        return SyncGroupResponse(error_code=e.code)
    member = group.members[request.member_id]
    if group.is_(S.PREPARING_REBALANCE):
        return SyncGroupResponse(error_code=ErrorCode.REBALANCE_IN_PROGRESS)
    if group.is_(S.STABLE):
        _synced(op, group, member.member_id)
        return SyncGroupResponse(
            protocol_type=group.protocol_type, protocol_name=group.protocol_name, assignment=member.assignment
        )
    if member.sync_waiter is not None:
        op.complete(member.sync_waiter, SyncGroupResponse(error_code=ErrorCode.REBALANCE_IN_PROGRESS))
    member.sync_waiter = waiter
    member.sync_version = ctx.api_version
    _synced(op, group, member.member_id)
    if group.is_leader(member.member_id):
        assignments = {a.member_id: bytes(a.assignment) for a in request.assignments}
        for m in group.members.values():
            m.assignment = assignments.get(m.member_id, b"")
        group.transition_to(S.STABLE, op.now)
        op.write(rec.group_metadata(group.group_id, group.to_record()))
        propagate_assignment(op, group, ErrorCode.NO_ERROR)
    return None


def _validate(group: ClassicGroup, request: SyncGroupRequest) -> None:
    if group.is_(S.DEAD):
        raise GroupError(ErrorCode.COORDINATOR_NOT_AVAILABLE)
    validate_generation(group, request.member_id, request.group_instance_id, request.generation_id)
    for asked, actual in (
        (request.protocol_type, group.protocol_type),
        (request.protocol_name, group.protocol_name),
    ):
        if asked is not None and actual is not None and asked != actual:
            raise GroupError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)


def _synced(op: Op, group: ClassicGroup, member_id: str) -> None:
    group.pending_sync.discard(member_id)
    if not group.pending_sync:
        op.cancel((TimerKind.CLASSIC_SYNC, group.group_id))
