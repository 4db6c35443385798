"""The rebalance machinery of classic groups, shared by JoinGroup, SyncGroup, Heartbeat and LeaveGroup.

A rebalance starts (`prepare_rebalance`) when a member joins, changes its metadata, leaves or times
out, or the leader rejoins. The group then waits in PreparingRebalance for every known member to send
JoinGroup again; their requests are parked. The join phase completes (`complete_join`) when all have
rejoined or the rebalance timeout (the largest of the members') expires: dynamic members that did not
rejoin are removed, a leader is chosen among those that did, the generation is bumped, the protocol
with the most votes is selected, and every parked JoinGroup is answered (the leader's answer lists the
members and their metadata). For a group that was Empty, the first join phase lasts at least
``group.initial.rebalance.delay.ms``, extended by the same delay (up to the rebalance timeout) each
time a new member arrives, so that a starting fleet forms one generation rather than many.

Then the group waits in CompletingRebalance for the leader's SyncGroup; members that do not send
SyncGroup within the rebalance timeout are removed and a new rebalance begins.
"""

from __future__ import annotations

from collections.abc import Iterable

from odradek.coordinator.group import records as rec
from odradek.coordinator.group.classic_group import ClassicGroup, ClassicMember
from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.coordinator.group.state import Op, TimerKind
from odradek.model.errors import ErrorCode
from odradek.protocol.messages.join_group import JoinGroupResponse, JoinGroupResponseMember
from odradek.protocol.messages.sync_group import SyncGroupResponse

S = ClassicGroupState
FIRST_NULLABLE_PROTOCOL_NAME = 7
"""JoinGroupResponse versions before 7 cannot carry a null protocol name."""


def join_response(
    version: int,
    error: ErrorCode = ErrorCode.NO_ERROR,
    *,
    member_id: str = "",
    generation_id: int = -1,
    protocol_type: str | None = None,
    protocol_name: str | None = None,
    leader: str | None = None,
    skip_assignment: bool = False,
    members: Iterable[JoinGroupResponseMember] = (),
) -> JoinGroupResponse:
    if protocol_name is None and version < FIRST_NULLABLE_PROTOCOL_NAME:
        protocol_name = ""
    return JoinGroupResponse(
        error_code=error,
        generation_id=generation_id,
        protocol_type=protocol_type,
        protocol_name=protocol_name,
        leader=leader or "",
        skip_assignment=skip_assignment,
        member_id=member_id,
        members=list(members),
    )


def generation_response(
    group: ClassicGroup, member: ClassicMember, version: int, with_members: bool, skip: bool = False
) -> JoinGroupResponse:
    """The successful JoinGroup answer for the current generation."""
    return join_response(
        version,
        member_id=member.member_id,
        generation_id=group.generation_id,
        protocol_type=group.protocol_type,
        protocol_name=group.protocol_name,
        leader=group.leader_id,
        skip_assignment=skip,
        members=member_list(group) if with_members else (),
    )


def member_list(group: ClassicGroup) -> list[JoinGroupResponseMember]:
    return [
        JoinGroupResponseMember(
            member_id=m.member_id,
            group_instance_id=m.group_instance_id,
            metadata=m.metadata(group.protocol_name),
        )
        for m in group.members.values()
    ]


def heartbeat_key(group: ClassicGroup, member_id: str) -> tuple[str, ...]:
    return (TimerKind.CLASSIC_HEARTBEAT, group.group_id, member_id)


def reschedule_heartbeat(
    op: Op, group: ClassicGroup, member: ClassicMember, timeout_ms: int | None = None
) -> None:
    delay = member.session_timeout_ms if timeout_ms is None else timeout_ms
    op.state.timers.schedule(heartbeat_key(group, member.member_id), op.now + delay)  # (`op.schedule`)


def answer_join(op: Op, group: ClassicGroup, member: ClassicMember, response: JoinGroupResponse) -> None:
    if member.join_waiter is not None:
        op.complete(member.join_waiter, response)
        member.join_waiter = None


def answer_sync(op: Op, group: ClassicGroup, member: ClassicMember, response: SyncGroupResponse) -> bool:
    if member.sync_waiter is None:
        return False
    op.complete(member.sync_waiter, response)
    member.sync_waiter = None
    return True


def propagate_assignment(op: Op, group: ClassicGroup, error: ErrorCode) -> None:
    """Answer every parked SyncGroup with its member's assignment (or ``error``)."""
    ok = error is ErrorCode.NO_ERROR
    for member in group.members.values():
        response = SyncGroupResponse(
            error_code=error,
            protocol_type=group.protocol_type if ok else None,
            protocol_name=group.protocol_name if ok else None,
            assignment=member.assignment,
        )
        if answer_sync(op, group, member, response):
            # Sessions do not run while a member waits for its assignment: restart it now.
            reschedule_heartbeat(op, group, member)


def cancel_sync_expiration(op: Op, group: ClassicGroup) -> None:
    group.pending_sync.clear()
    op.cancel((TimerKind.CLASSIC_SYNC, group.group_id))


def prepare_rebalance(op: Op, group: ClassicGroup) -> None:
    if group.is_(S.COMPLETING_REBALANCE):
        for member in group.members.values():
            member.assignment = b""
        propagate_assignment(op, group, ErrorCode.REBALANCE_IN_PROGRESS)
    cancel_sync_expiration(op, group)
    initial = group.is_(S.EMPTY)
    if initial:
        delay = op.config.group_initial_rebalance_delay_ms
        group.initial_rebalance = (delay, max(group.rebalance_timeout_ms() - delay, 0))
        op.schedule((TimerKind.CLASSIC_JOIN, group.group_id), delay)
    group.transition_to(S.PREPARING_REBALANCE, op.now)
    if not initial:
        if group.has_all_members_joined():
            finish_join_phase(op, group)
        else:
            op.schedule((TimerKind.CLASSIC_JOIN, group.group_id), group.rebalance_timeout_ms())


def maybe_prepare_rebalance_or_complete_join(op: Op, group: ClassicGroup) -> None:
    if group.can_rebalance():
        prepare_rebalance(op, group)
    else:
        maybe_complete_join_phase(op, group)


def maybe_complete_join_phase(op: Op, group: ClassicGroup) -> None:
    """Finish the join phase early once every member rejoined (never during the initial delay)."""
    if (
        group.is_(S.PREPARING_REBALANCE)
        and group.previous_state is not S.EMPTY
        and group.has_all_members_joined()
    ):
        finish_join_phase(op, group)


def finish_join_phase(op: Op, group: ClassicGroup) -> None:
    op.cancel((TimerKind.CLASSIC_JOIN, group.group_id))
    group.initial_rebalance = None
    for member in [m for m in group.members.values() if not m.awaiting_join and m.group_instance_id is None]:
        group.remove(member.member_id)
        op.cancel(heartbeat_key(group, member.member_id))
    if group.is_(S.DEAD):
        return
    if not group.maybe_elect_new_joined_leader() and group.members:
        # Only static members that did not rejoin remain: wait another rebalance timeout for them.
        op.schedule((TimerKind.CLASSIC_JOIN, group.group_id), group.rebalance_timeout_ms())
        return
    group.init_next_generation(op.now)
    if group.is_(S.EMPTY):
        op.write(rec.group_metadata(group.group_id, group.to_record()))
        return
    for member in group.members.values():
        leader = group.is_leader(member.member_id)
        answer_join(op, group, member, generation_response(group, member, member.join_version, leader))
        reschedule_heartbeat(op, group, member)
        member.is_new = False
        group.pending_sync.add(member.member_id)
    op.schedule((TimerKind.CLASSIC_SYNC, group.group_id), group.rebalance_timeout_ms())


def on_join_timer(op: Op, group: ClassicGroup) -> None:
    if group.initial_rebalance is None:
        finish_join_phase(op, group)
        return
    delay, remaining = group.initial_rebalance
    if group.new_member_added and remaining != 0:
        group.new_member_added = False
        next_delay = min(op.config.group_initial_rebalance_delay_ms, remaining)
        group.initial_rebalance = (next_delay, max(remaining - delay, 0))
        op.schedule((TimerKind.CLASSIC_JOIN, group.group_id), next_delay)
    else:
        finish_join_phase(op, group)


def on_sync_timer(op: Op, group: ClassicGroup) -> None:
    if group.state not in (S.COMPLETING_REBALANCE, S.STABLE) or not group.pending_sync:
        return
    for member_id in sorted(group.pending_sync):
        group.remove(member_id)
        op.cancel(heartbeat_key(group, member_id))
    prepare_rebalance(op, group)


def remove_member_and_rebalance(op: Op, group: ClassicGroup, member: ClassicMember) -> None:
    """Remove a failed member; its parked JoinGroup (if any) gets UNKNOWN_MEMBER_ID so it may retry."""
    answer_join(op, group, member, join_response(member.join_version, ErrorCode.UNKNOWN_MEMBER_ID))
    group.remove(member.member_id)
    if group.state in (S.STABLE, S.COMPLETING_REBALANCE):
        maybe_prepare_rebalance_or_complete_join(op, group)
    elif group.is_(S.PREPARING_REBALANCE) and group.has_all_members_joined():
        finish_join_phase(op, group)
