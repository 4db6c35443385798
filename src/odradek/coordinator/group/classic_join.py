"""JoinGroup for classic groups: new members (KIP-394 member ids), rejoining members, static members.

The answer is often *deferred*: a member that joins during a rebalance is parked (its `WaiterId`
kept on the member) and answered by whatever completes the join phase, possibly a timer. The result
of `join_group` then has no response.

Paths, as in Kafka:

- unknown member id, dynamic, JoinGroup v4+: the member gets a generated id with MEMBER_ID_REQUIRED
  and must join again with it (the id is "pending" for a session timeout); before v4 it joins at once.
- unknown member id, static (``group.instance.id``): it joins at once; if the instance id already has
  a member, that member is *replaced*: the new id takes its place, assignment and leadership, the old
  id is fenced (FENCED_INSTANCE_ID). In a Stable group this happens without a rebalance when the
  selected protocol would not change and (odradek, for the ``consumer`` protocol type) the member's
  subscribed topics did not change; the group record is rewritten with the new member id. A static
  leader joining with v9+ gets the member list and ``skip_assignment`` (KIP-814).
- known member: in PreparingRebalance it is parked; in CompletingRebalance or Stable it gets the
  current generation back unless its metadata changed (or it is the leader, in Stable), which starts a
  rebalance.
"""

from __future__ import annotations

from odradek.coordinator.context import RequestContext
from odradek.coordinator.group import records as rec
from odradek.coordinator.group.classic_group import (
    CONSUMER_PROTOCOL_TYPE,
    ClassicGroup,
    ClassicMember,
    Protocols,
    parse_subscription_topics,
)
from odradek.coordinator.group.classic_rebalance import (
    answer_join,
    answer_sync,
    generation_response,
    heartbeat_key,
    join_response,
    maybe_complete_join_phase,
    maybe_prepare_rebalance_or_complete_join,
    prepare_rebalance,
    reschedule_heartbeat,
)
from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.coordinator.group.consumer_group import ConsumerGroup
from odradek.coordinator.group.errors import GroupError
from odradek.coordinator.group.state import Op
from odradek.coordinator.result import WaiterId
from odradek.model.errors import ErrorCode
from odradek.protocol.messages.join_group import JoinGroupRequest, JoinGroupResponse
from odradek.protocol.messages.sync_group import SyncGroupResponse

S = ClassicGroupState
FIRST_VERSION_REQUIRING_MEMBER_ID = 4
FIRST_VERSION_SKIPPING_ASSIGNMENT = 9
FIRST_VERSION_WITH_REBALANCE_TIMEOUT = 1


def join_group(
    op: Op, ctx: RequestContext, request: JoinGroupRequest, waiter: WaiterId
) -> JoinGroupResponse | None:
    return _Join(op, ctx, request, waiter).run()


class _Join:
    def __init__(self, op: Op, ctx: RequestContext, request: JoinGroupRequest, waiter: WaiterId) -> None:
        self.op = op
        self.ctx = ctx
        self.request = request
        self.waiter = waiter
        self.version = ctx.api_version
        self.rebalance_timeout_ms = request.rebalance_timeout_ms
        if self.version < FIRST_VERSION_WITH_REBALANCE_TIMEOUT or self.rebalance_timeout_ms < 0:
            self.rebalance_timeout_ms = request.session_timeout_ms
        self.protocols: Protocols = tuple((p.name, bytes(p.metadata)) for p in request.protocols)
        self.names = {name for name, _ in self.protocols}

    def error(self, code: ErrorCode, member_id: str = "") -> JoinGroupResponse:
        return join_response(self.version, code, member_id=member_id)

    def run(self) -> JoinGroupResponse | None:
        req, config = self.request, self.op.config
        if not req.group_id:
            return self.error(ErrorCode.INVALID_GROUP_ID, req.member_id)
        if (
            not config.group_min_session_timeout_ms
            <= req.session_timeout_ms
            <= config.group_max_session_timeout_ms
        ):
            return self.error(ErrorCode.INVALID_SESSION_TIMEOUT, req.member_id)
        state = self.op.state
        existing = state.groups.get(req.group_id)
        if isinstance(existing, ConsumerGroup):
            if existing.members:
                return self.error(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.member_id)
            for record in existing.tombstones():
                self.op.emit(record)
            existing = None
        is_new_group = existing is None
        if existing is None:
            if req.member_id:
                return self.error(ErrorCode.UNKNOWN_MEMBER_ID, req.member_id)
            existing = ClassicGroup(req.group_id, state_timestamp_ms=self.op.now)
            state.groups[req.group_id] = existing
        group = existing
        records_before = len(self.op.out.records)
        if not self.accepts(group, req.member_id):
            group.remove(req.member_id)
            response: JoinGroupResponse | None = self.error(ErrorCode.GROUP_MAX_SIZE_REACHED)
        elif not req.member_id:
            response = self.new_member(group)
        else:
            response = self.existing_member(group)
        if is_new_group and len(self.op.out.records) == records_before:
            # Persist the group's creation, so that it survives a coordinator move while it forms.
            empty = rec.GroupMetadataValue(
                protocol_type=group.protocol_type or "",
                generation=0,
                protocol=None,
                leader=None,
                current_state_timestamp=group.state_timestamp_ms,
                members=[],
            )
            self.op.write(rec.group_metadata(group.group_id, empty))
        return response

    def accepts(self, group: ClassicGroup, member_id: str) -> bool:
        max_size = self.op.config.group_max_size
        member = group.members.get(member_id)
        if group.state in (S.EMPTY, S.DEAD):
            return True
        if group.is_(S.PREPARING_REBALANCE):
            # Counting parked members (not the size) lets the last rejoining members be turned away
            # when the limit was lowered.
            return (member is not None and member.awaiting_join) or group.awaiting_join_count() < max_size
        return member is not None or len(group.members) < max_size

    # -- unknown member id ---------------------------------------------------------------------

    def new_member(self, group: ClassicGroup) -> JoinGroupResponse | None:
        req = self.request
        if group.is_(S.DEAD):
            return self.error(ErrorCode.COORDINATOR_NOT_AVAILABLE)
        if not group.supports_protocols(req.protocol_type, self.names):
            return self.error(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
        instance_id = req.group_instance_id
        new_id = self.op.state.new_classic_member_id(instance_id or self.ctx.client_id)
        if instance_id is not None:
            old_id = group.static_member_id(instance_id)
            if old_id is not None:
                return self.replace_static_member(group, instance_id, old_id, new_id)
            self.add_member(group, new_id)
            return None
        if self.version >= FIRST_VERSION_REQUIRING_MEMBER_ID:
            group.pending_members.add(new_id)
            self.op.schedule(heartbeat_key(group, new_id), req.session_timeout_ms)
            return self.error(ErrorCode.MEMBER_ID_REQUIRED, new_id)
        self.add_member(group, new_id)
        return None

    def add_member(self, group: ClassicGroup, member_id: str) -> None:
        req = self.request
        member = ClassicMember(
            member_id=member_id,
            group_instance_id=req.group_instance_id,
            client_id=self.ctx.client_id,
            client_host=self.ctx.client_host,
            rebalance_timeout_ms=self.rebalance_timeout_ms,
            session_timeout_ms=req.session_timeout_ms,
            protocol_type=req.protocol_type,
            protocols=self.protocols,
            join_waiter=self.waiter,
            join_version=self.version,
            is_new=True,
        )
        if group.is_(S.PREPARING_REBALANCE) and group.previous_state is S.EMPTY:
            group.new_member_added = True
        group.add(member)
        # A new member cannot heartbeat while parked: bound how long it may stay parked instead.
        reschedule_heartbeat(self.op, group, member, self.op.config.classic_new_member_join_timeout_ms)
        maybe_prepare_rebalance_or_complete_join(self.op, group)

    def replace_static_member(
        self, group: ClassicGroup, instance_id: str, old_id: str, new_id: str
    ) -> JoinGroupResponse | None:
        op = self.op
        old = group.members[old_id]
        fenced = join_response(old.join_version, ErrorCode.FENCED_INSTANCE_ID, member_id=old_id)
        answer_join(op, group, old, fenced)
        answer_sync(op, group, old, SyncGroupResponse(error_code=ErrorCode.FENCED_INSTANCE_ID))
        old_protocols = old.protocols
        old_leader = group.leader_id
        member = group.replace_static_member(instance_id, old_id, new_id)
        op.cancel(heartbeat_key(group, old_id))
        reschedule_heartbeat(op, group, member)
        self.update_member(member)
        if group.is_(S.STABLE):
            if group.protocol_name == group.select_protocol() and not self.subscription_changed(
                group, old_protocols, member.protocols
            ):
                op.write(rec.group_metadata(group.group_id, group.to_record()))
                member.join_waiter = None
                if self.version >= FIRST_VERSION_SKIPPING_ASSIGNMENT:
                    leader = group.is_leader(new_id)
                    return generation_response(group, member, self.version, leader, skip=leader)
                # Before KIP-814 a returning static leader must not redo the assignment: Kafka names the
                # previous leader id, so the member takes itself for a follower.
                response = generation_response(group, member, self.version, False)
                response.leader = old_leader or ""
                return response
            maybe_prepare_rebalance_or_complete_join(op, group)
        elif group.is_(S.COMPLETING_REBALANCE):
            # The leader may already be computing an assignment naming the old member id.
            prepare_rebalance(op, group)
        else:
            maybe_complete_join_phase(op, group)
        return None

    def subscription_changed(self, group: ClassicGroup, old: Protocols, new: Protocols) -> bool:
        if group.protocol_type != CONSUMER_PROTOCOL_TYPE:
            return False
        name = group.protocol_name
        old_topics = parse_subscription_topics(dict(old).get(name or "", b""))
        new_topics = parse_subscription_topics(dict(new).get(name or "", b""))
        return old_topics is None or new_topics is None or set(old_topics) != set(new_topics)

    # -- known member id -----------------------------------------------------------------------

    def existing_member(self, group: ClassicGroup) -> JoinGroupResponse | None:
        req = self.request
        member_id = req.member_id
        if group.is_(S.DEAD):
            return self.error(ErrorCode.COORDINATOR_NOT_AVAILABLE, member_id)
        if not group.supports_protocols(req.protocol_type, self.names):
            return self.error(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, member_id)
        if member_id in group.pending_members and req.group_instance_id is None:
            self.add_member(group, member_id)
            return None
        try:
            validate_member(group, member_id, req.group_instance_id)
        except GroupError as e:
            return self.error(e.code, member_id)
        member = group.members[member_id]
        unchanged = member.protocols == self.protocols
        if group.is_(S.COMPLETING_REBALANCE) and unchanged:
            # It probably missed the JoinGroup answer: give the current generation again.
            return generation_response(group, member, self.version, group.is_leader(member_id))
        if group.is_(S.STABLE) and unchanged and not group.is_leader(member_id):
            return generation_response(group, member, self.version, False)
        if group.is_(S.EMPTY):
            return self.error(ErrorCode.UNKNOWN_MEMBER_ID, member_id)
        # Preparing a rebalance, changed metadata, or the leader asking for one: (re)join and wait.
        self.update_member(member)
        maybe_prepare_rebalance_or_complete_join(self.op, group)
        return None

    def update_member(self, member: ClassicMember) -> None:
        if member.join_waiter is not None and member.join_waiter != self.waiter:
            # A retried JoinGroup replaces the one still parked; answer the old one so it is not lost.
            stale = join_response(
                member.join_version, ErrorCode.REBALANCE_IN_PROGRESS, member_id=member.member_id
            )
            self.op.complete(member.join_waiter, stale)
        member.protocols = self.protocols
        member.rebalance_timeout_ms = self.rebalance_timeout_ms
        member.session_timeout_ms = self.request.session_timeout_ms
        member.join_waiter = self.waiter
        member.join_version = self.version


def validate_member(group: ClassicGroup, member_id: str, instance_id: str | None) -> None:
    """UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID unless ``member_id`` (and its instance id) is current."""
    if instance_id is not None:
        current = group.static_member_id(instance_id)
        if current is None:
            raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID)
        if current != member_id:
            raise GroupError(ErrorCode.FENCED_INSTANCE_ID)
    if member_id not in group.members:
        raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID)


def validate_generation(
    group: ClassicGroup, member_id: str, instance_id: str | None, generation_id: int
) -> None:
    """`validate_member`, then ILLEGAL_GENERATION unless `generation_id` is the group's current one."""
    validate_member(group, member_id, instance_id)
    if generation_id != group.generation_id:
        raise GroupError(ErrorCode.ILLEGAL_GENERATION)
