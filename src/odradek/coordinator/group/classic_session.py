"""Heartbeat and LeaveGroup for classic groups, and what happens when a member's session expires.

A heartbeat keeps a member's session alive (``session.timeout.ms``) and tells it about rebalances:
REBALANCE_IN_PROGRESS while the group prepares one (so the member rejoins), ILLEGAL_GENERATION for an
old generation, UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID for members that are not (or no longer) current.
When a session expires the member is removed and a rebalance starts, unless the member is parked in a
JoinGroup or SyncGroup (a rebalance is already waiting for it). LeaveGroup removes members at once,
by member id, or (v3+, the admin's way) by ``group.instance.id`` with an empty member id.
"""

from __future__ import annotations

from odradek.coordinator.context import RequestContext
from odradek.coordinator.group.classic_group import ClassicGroup
from odradek.coordinator.group.classic_join import validate_generation, validate_member
from odradek.coordinator.group.classic_rebalance import (
    answer_join,
    finish_join_phase,
    heartbeat_key,
    join_response,
    maybe_complete_join_phase,
    maybe_prepare_rebalance_or_complete_join,
    remove_member_and_rebalance,
    reschedule_heartbeat,
)
from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.coordinator.group.errors import GroupError
from odradek.coordinator.group.state import Op
from odradek.model.errors import ErrorCode
from odradek.protocol.messages.heartbeat import HeartbeatRequest, HeartbeatResponse
from odradek.protocol.messages.leave_group import (
    LeaveGroupRequest,
    LeaveGroupResponse,
    MemberIdentity,
    MemberResponse,
)

S = ClassicGroupState
FIRST_BATCH_LEAVE_VERSION = 3

_HEARTBEAT_BY_STATE = {
    S.EMPTY: ErrorCode.UNKNOWN_MEMBER_ID,
    S.PREPARING_REBALANCE: ErrorCode.REBALANCE_IN_PROGRESS,
    S.COMPLETING_REBALANCE: ErrorCode.NO_ERROR,
    S.STABLE: ErrorCode.NO_ERROR,
}
"""What a valid heartbeat is told in each state (members heartbeat during CompletingRebalance too)."""


def heartbeat(op: Op, ctx: RequestContext, request: HeartbeatRequest) -> HeartbeatResponse:
    group = op.state.classic(request.group_id)
    if group is None:
        return HeartbeatResponse(error_code=ErrorCode.UNKNOWN_MEMBER_ID)
    try:
        if group.is_(S.DEAD):
            raise GroupError(ErrorCode.COORDINATOR_NOT_AVAILABLE)
        validate_generation(group, request.member_id, request.group_instance_id, request.generation_id)
    except GroupError as e:
        return HeartbeatResponse(error_code=e.code)
    error = _HEARTBEAT_BY_STATE[group.state]
    if error is not ErrorCode.UNKNOWN_MEMBER_ID:
        reschedule_heartbeat(op, group, group.members[request.member_id])
    return HeartbeatResponse(error_code=error)


def leave_group(op: Op, ctx: RequestContext, request: LeaveGroupRequest) -> LeaveGroupResponse:
    batch = ctx.api_version >= FIRST_BATCH_LEAVE_VERSION
    identities = request.members if batch else [MemberIdentity(member_id=request.member_id)]
    group = op.state.groups.get(request.group_id)
    if group is None:
        return LeaveGroupResponse(error_code=ErrorCode.UNKNOWN_MEMBER_ID)
    if not isinstance(group, ClassicGroup):
        # Members of KIP-848 groups leave with ConsumerGroupHeartbeat (no classic members in them here).
        results = [_result(m, ErrorCode.UNKNOWN_MEMBER_ID) for m in identities]
    elif group.is_(S.DEAD):
        return LeaveGroupResponse(error_code=ErrorCode.COORDINATOR_NOT_AVAILABLE)
    else:
        results = [_leave_one(op, group, m) for m in identities]
        if any(r.error_code == ErrorCode.NO_ERROR for r in results):
            if group.state in (S.STABLE, S.COMPLETING_REBALANCE):
                maybe_prepare_rebalance_or_complete_join(op, group)
            elif group.is_(S.PREPARING_REBALANCE):
                maybe_complete_join_phase(op, group)
    if batch:
        return LeaveGroupResponse(members=results)
    return LeaveGroupResponse(error_code=results[0].error_code)


def _result(identity: MemberIdentity, error: ErrorCode) -> MemberResponse:
    return MemberResponse(
        member_id=identity.member_id, group_instance_id=identity.group_instance_id, error_code=error
    )


def _leave_one(op: Op, group: ClassicGroup, identity: MemberIdentity) -> MemberResponse:
    if not identity.member_id:
        member_id = group.static_member_id(identity.group_instance_id)
        if member_id is None:
            return _result(identity, ErrorCode.UNKNOWN_MEMBER_ID)
        _remove(op, group, member_id)
        return _result(identity, ErrorCode.NO_ERROR)
    if identity.member_id in group.pending_members:
        group.remove(identity.member_id)
        op.cancel(heartbeat_key(group, identity.member_id))
        return _result(identity, ErrorCode.NO_ERROR)
    try:
        validate_member(group, identity.member_id, identity.group_instance_id)
    except GroupError as e:
        return _result(identity, e.code)
    _remove(op, group, identity.member_id)
    return _result(identity, ErrorCode.NO_ERROR)


def _remove(op: Op, group: ClassicGroup, member_id: str) -> None:
    member = group.members[member_id]
    op.cancel(heartbeat_key(group, member_id))
    answer_join(op, group, member, join_response(member.join_version, ErrorCode.UNKNOWN_MEMBER_ID))
    group.remove(member_id)


def on_heartbeat_timer(op: Op, group: ClassicGroup, member_id: str) -> None:
    if group.is_(S.DEAD):
        return
    if member_id in group.pending_members:
        group.remove(member_id)
        if group.is_(S.PREPARING_REBALANCE) and group.has_all_members_joined():
            finish_join_phase(op, group)
        return
    member = group.members.get(member_id)
    if member is not None and not member.has_satisfied_heartbeat():
        remove_member_and_rebalance(op, group, member)
