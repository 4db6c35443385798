"""ConsumerGroupHeartbeat (KIP-848): membership, server-side assignment and reconciliation in one call.

Each heartbeat, in order (Kafka's GroupMetadataManager): validate; find or create the group and the
member (a static member rejoining under a new member id replaces its departed predecessor); record the
member's subscription if it changed; resolve a regex no other member uses yet (`topic_regex`) and
drop those no member uses any more; refresh the group's subscription metadata from the topics view;
bump the group epoch if the subscriptions, a regex's topics or the metadata changed; recompute the
target assignment with the preferred server assignor if the group epoch is ahead of it; move the
member one step towards its target (`reconciliation`); restart its session timer. The answer carries
the member id, its epoch, the heartbeat interval, and its assigned partitions when they changed or
the request was a full one.

A member subscribes with topic names, a regex (SubscribedTopicRegex, RE2 syntax, matched against whole
topic names), or both, as in Kafka (librdkafka sends both for ``subscribe(["^a.*", "b"])``); its
topics are the union. A null field keeps what the member had; an empty regex means "no regex" (what
librdkafka sends with plain topic names). `refresh_regexes` resolves every regex again when topics
are created or deleted and periodically, and bumps the epoch of the groups whose topics changed.

Member epochs: 0 joins (or rejoins, owning nothing), -1 leaves, -2 leaves for a while (static members
keep their assignment for a session timeout). A member whose epoch is neither the current nor (owning
a subset of its partitions) the previous one is FENCED_MEMBER_EPOCH and must rejoin. A member that
does not revoke partitions within its rebalance timeout, or misses its session, is fenced and removed.

Every change is a record replayed through `ConsumerGroup` (`Op.emit`), so this module computes and
emits, and reads the state back.
"""

from __future__ import annotations

from dataclasses import replace

from odradek.coordinator.context import RequestContext
from odradek.coordinator.group import records as rec
from odradek.coordinator.group.classic_group import ClassicGroup
from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.coordinator.group.consumer_group import (
    LEAVE_GROUP_MEMBER_EPOCH,
    LEAVE_GROUP_STATIC_MEMBER_EPOCH,
    Assignment,
    ConsumerGroup,
    ConsumerMember,
    MemberState,
    assignment_of,
)
from odradek.coordinator.group.errors import GroupError
from odradek.coordinator.group.reconciliation import reconcile
from odradek.coordinator.group.state import Op, TimerKind
from odradek.coordinator.group.target_assignment import compute_target_assignment, subscription_metadata
from odradek.coordinator.group.topic_regex import invalid_regex_reason, update_resolved_regexes
from odradek.model.errors import ErrorCode
from odradek.protocol.messages import consumer_group_heartbeat as cgh

Request = cgh.ConsumerGroupHeartbeatRequest
Response = cgh.ConsumerGroupHeartbeatResponse


def consumer_group_heartbeat(op: Op, ctx: RequestContext, request: Request) -> Response:
    try:
        _validate(op, request)
        if request.member_epoch in (LEAVE_GROUP_MEMBER_EPOCH, LEAVE_GROUP_STATIC_MEMBER_EPOCH):
            return _leave(op, request)
        return _Heartbeat(op, ctx, request).run()
    except GroupError as e:
        return Response(error_code=e.code, error_message=e.message)


def _invalid(message: str) -> GroupError:
    return GroupError(ErrorCode.INVALID_REQUEST, message)


def _validate(op: Op, r: Request) -> None:
    if not r.group_id:
        raise _invalid("GroupId can't be empty.")
    if r.instance_id == "":
        raise _invalid("InstanceId can't be empty.")
    if r.rack_id == "":
        raise _invalid("RackId can't be empty.")
    if r.member_epoch > 0 or r.member_epoch == LEAVE_GROUP_MEMBER_EPOCH:
        if not r.member_id:
            raise _invalid("MemberId can't be empty.")
    elif r.member_epoch == 0:
        if r.rebalance_timeout_ms == -1:
            raise _invalid("RebalanceTimeoutMs must be provided in first request.")
        if r.topic_partitions is None or r.topic_partitions:
            raise _invalid("TopicPartitions must be empty when (re-)joining.")
        # Joining with no topic names or an empty regex is allowed: a member subscribed to nothing.
        if r.subscribed_topic_names is None and r.subscribed_topic_regex is None:
            raise _invalid(
                "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining."
            )
    elif r.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH:
        if not r.member_id:
            raise _invalid("MemberId can't be empty.")
        if r.instance_id is None:
            raise _invalid("InstanceId can't be null.")
    else:
        raise _invalid("MemberEpoch is invalid.")
    assignors = op.config.consumer_group_assignors
    if r.server_assignor is not None and r.server_assignor not in assignors:
        raise GroupError(
            ErrorCode.UNSUPPORTED_ASSIGNOR,
            f"ServerAssignor {r.server_assignor} is not supported. Supported: {', '.join(assignors)}.",
        )


def _owned(r: Request) -> Assignment | None:
    if r.topic_partitions is None:
        return None
    return assignment_of((tp.topic_id, tp.partitions) for tp in r.topic_partitions)


def _is_subset(owned: Assignment | None, assigned: Assignment) -> bool:
    if owned is None:
        return False
    return all(parts <= assigned.get(tid, frozenset()) for tid, parts in owned.items())


def _check_epoch(member: ConsumerMember, received: int, owned: Assignment | None) -> None:
    if received > member.member_epoch or (
        received < member.member_epoch
        and (received != member.previous_member_epoch or not _is_subset(owned, member.assigned))
    ):
        raise GroupError(
            ErrorCode.FENCED_MEMBER_EPOCH,
            f"The member epoch {received} is not the current ({member.member_epoch}): "
            "the member must abandon all its partitions and rejoin.",
        )


def response_assignment(assigned: Assignment) -> cgh.Assignment:
    return cgh.Assignment(
        topic_partitions=[
            cgh.TopicPartitions(topic_id=tid, partitions=sorted(parts))
            for tid, parts in sorted(assigned.items())
        ]
    )


class _Heartbeat:
    def __init__(self, op: Op, ctx: RequestContext, request: Request) -> None:
        self.op = op
        self.ctx = ctx
        self.r = request
        self.owned = _owned(request)
        self.joining = request.member_epoch == 0

    def run(self) -> Response:
        op, r = self.op, self.r
        group, classic_to_delete = self.find_group()
        member_id = r.member_id or op.state.new_consumer_member_id()
        if len(group.members) >= op.config.consumer_group_max_size and member_id not in group.members:
            raise GroupError(
                ErrorCode.GROUP_MAX_SIZE_REACHED, "The consumer group has reached its maximum size."
            )
        member, replaced, reset = self.find_member(group, member_id)
        if member.state is MemberState.UNKNOWN and not reset and (self.owned is None or self.owned):
            raise GroupError(
                ErrorCode.FENCED_MEMBER_EPOCH, "The member is in an unknown state and must rejoin."
            )
        updated = self.updated(member)
        regex = updated.subscribed_topic_regex
        if regex and regex != member.subscribed_topic_regex and regex not in group.resolved_regexes:
            reason = invalid_regex_reason(regex)
            if reason is not None:
                raise GroupError(
                    ErrorCode.INVALID_REGULAR_EXPRESSION,
                    f"SubscribedTopicRegex `{regex}` is not a valid regular expression: {reason}.",
                )
        # Every check passed: from here on, changes are emitted (and applied) as records.
        gid = r.group_id
        if classic_to_delete:
            op.emit(rec.group_metadata_tombstone(gid))
        if replaced is not None:
            self.replace_static_member(group, replaced, member)
        elif reset:
            op.emit(rec.consumer_group_current_member(gid, member_id, member.assignment_value()))
        before = member
        bump = False
        if updated.subscription_value() != member.subscription_value() or member_id not in group.members:
            op.emit(rec.consumer_group_member(gid, member_id, updated.subscription_value()))
            bump = (
                member_id not in group.members  # a new member, even one subscribed to nothing
                or updated.subscribed_topic_names != member.subscribed_topic_names
                or updated.subscribed_topic_regex != member.subscribed_topic_regex
            )
        group = self.group()
        bump = update_resolved_regexes(op, group, may_describe=self.ctx.may_describe_topic) or bump
        bump = refresh_subscription_metadata(op, group) or bump
        if bump:
            op.emit(rec.consumer_group_epoch(gid, group.group_epoch + 1))
        if group.group_epoch > group.assignment_epoch:
            update_target_assignment(op, group)
        member = self.reconcile(group, group.members[member_id])
        op.schedule((TimerKind.CONSUMER_SESSION, gid, member_id), op.config.consumer_group_session_timeout_ms)
        response = Response(
            member_id=member_id,
            member_epoch=member.member_epoch,
            heartbeat_interval_ms=op.config.consumer_group_heartbeat_interval_ms,
        )
        full = self.joining or (
            r.rebalance_timeout_ms != -1
            and (r.subscribed_topic_names is not None or r.subscribed_topic_regex is not None)
            and r.topic_partitions is not None
        )
        if full or member.assigned != before.assigned:
            response.assignment = response_assignment(member.assigned)
        return response

    def group(self) -> ConsumerGroup:
        group = self.op.state.consumer(self.r.group_id)
        assert group is not None
        return group

    def find_group(self) -> tuple[ConsumerGroup, bool]:
        """The group (a detached empty one if it is new), and whether an Empty classic group must go."""
        existing = self.op.state.groups.get(self.r.group_id)
        if isinstance(existing, ConsumerGroup):
            return existing, False
        if not self.joining:
            raise GroupError(
                ErrorCode.UNKNOWN_MEMBER_ID, f"Group {self.r.group_id} has no member {self.r.member_id}."
            )
        if isinstance(existing, ClassicGroup):
            if not existing.is_(ClassicGroupState.EMPTY):
                raise GroupError(
                    ErrorCode.GROUP_ID_NOT_FOUND, f"Group {self.r.group_id} is not a consumer group."
                )
            return ConsumerGroup(self.r.group_id), True
        return ConsumerGroup(self.r.group_id), False

    def find_member(
        self, group: ConsumerGroup, member_id: str
    ) -> tuple[ConsumerMember, ConsumerMember | None, bool]:
        """(member to update, static member it replaces, whether a known member rejoins from scratch)."""
        r = self.r
        instance_id = r.instance_id
        if instance_id is None:
            member = group.members.get(member_id)
            if member is None:
                if not self.joining:
                    raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID, f"Unknown member {member_id}.")
                return ConsumerMember(member_id), None, False
            if self.joining:
                return _rejoined(member), None, True
            _check_epoch(member, r.member_epoch, self.owned)
            return member, None, False
        static = group.static_member(instance_id)
        if self.joining:
            if static is None:
                known = group.members.get(member_id)
                return (
                    (ConsumerMember(member_id), None, False)
                    if known is None
                    else (_rejoined(known), None, True)
                )
            if static.member_id == member_id:
                return _rejoined(static), None, True
            if static.member_epoch != LEAVE_GROUP_STATIC_MEMBER_EPOCH:
                raise GroupError(
                    ErrorCode.UNRELEASED_INSTANCE_ID,
                    f"Static member {member_id} with instance id {instance_id} cannot join the group because "
                    f"the instance id is owned by {static.member_id}.",
                )
            return (
                replace(static, member_id=member_id, member_epoch=0, previous_member_epoch=0),
                static,
                False,
            )
        if static is None:
            raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID, f"Instance id {instance_id} is unknown.")
        if static.member_id != member_id:
            raise GroupError(
                ErrorCode.FENCED_INSTANCE_ID, f"Static member {member_id} was fenced by {static.member_id}."
            )
        _check_epoch(static, r.member_epoch, self.owned)
        return static, None, False

    def replace_static_member(self, group: ConsumerGroup, old: ConsumerMember, new: ConsumerMember) -> None:
        op, gid = self.op, group.group_id
        target = group.target_assignment.get(old.member_id, {})
        remove_member_records(op, gid, old.member_id)
        op.emit(rec.consumer_group_member(gid, new.member_id, new.subscription_value()))
        op.emit(rec.consumer_group_target_member(gid, new.member_id, target))
        op.emit(rec.consumer_group_current_member(gid, new.member_id, new.assignment_value()))
        cancel_member_timers(op, gid, old.member_id)

    def updated(self, member: ConsumerMember) -> ConsumerMember:
        r = self.r
        return replace(
            member,
            instance_id=r.instance_id if r.instance_id is not None else member.instance_id,
            rack_id=r.rack_id if r.rack_id is not None else member.rack_id,
            rebalance_timeout_ms=r.rebalance_timeout_ms
            if r.rebalance_timeout_ms != -1
            else member.rebalance_timeout_ms,
            server_assignor=r.server_assignor if r.server_assignor is not None else member.server_assignor,
            subscribed_topic_names=(
                tuple(sorted(set(r.subscribed_topic_names)))
                if r.subscribed_topic_names is not None
                else member.subscribed_topic_names
            ),
            subscribed_topic_regex=(
                r.subscribed_topic_regex or None
                if r.subscribed_topic_regex is not None
                else member.subscribed_topic_regex
            ),
            client_id=self.ctx.client_id,
            client_host=self.ctx.client_host,
        )

    def reconcile(self, group: ConsumerGroup, member: ConsumerMember) -> ConsumerMember:
        epoch = group.assignment_epoch
        if member.is_reconciled_to(epoch):
            return member
        target = group.target_assignment.get(member.member_id, {})
        updated = reconcile(member, epoch, target, group.current_partition_epoch, self.owned)
        if updated == member:
            return member
        gid = group.group_id
        self.op.emit(rec.consumer_group_current_member(gid, member.member_id, updated.assignment_value()))
        key = (TimerKind.CONSUMER_REBALANCE, gid, member.member_id)
        if updated.state is MemberState.UNREVOKED_PARTITIONS:
            self.op.schedule(key, updated.rebalance_timeout_ms, updated.member_epoch)
        else:
            self.op.cancel(key)
        return group.members[member.member_id]


def _rejoined(member: ConsumerMember) -> ConsumerMember:
    """A known member joining with epoch 0 owns nothing: it starts over (keeping its subscription)."""
    return replace(
        member,
        member_epoch=0,
        previous_member_epoch=0,
        state=MemberState.STABLE,
        assigned={},
        pending_revocation={},
    )


def refresh_subscription_metadata(op: Op, group: ConsumerGroup) -> bool:
    """Record the subscribed topics' current metadata if it changed; True if it did."""
    meta = subscription_metadata(group.subscribed_topic_names(), op.state.topics)
    if meta == group.subscription_metadata:
        return False
    op.emit(rec.consumer_group_partition_metadata(group.group_id, meta.values()))
    return True


def update_target_assignment(op: Op, group: ConsumerGroup) -> None:
    assignor = group.preferred_assignor(op.config.consumer_group_assignors)
    targets = compute_target_assignment(group, assignor)
    for member_id in group.members:
        new = targets.get(member_id, {})
        if group.target_assignment.get(member_id) != new:
            op.emit(rec.consumer_group_target_member(group.group_id, member_id, new))
    op.emit(rec.consumer_group_target_epoch(group.group_id, group.group_epoch))


def remove_member_records(op: Op, group_id: str, member_id: str) -> None:
    op.emit(rec.consumer_group_current_member(group_id, member_id, None))
    op.emit(rec.consumer_group_target_member(group_id, member_id, None))
    op.emit(rec.consumer_group_member(group_id, member_id, None))


def cancel_member_timers(op: Op, group_id: str, member_id: str) -> None:
    op.cancel((TimerKind.CONSUMER_SESSION, group_id, member_id))
    op.cancel((TimerKind.CONSUMER_REBALANCE, group_id, member_id))


def fence_member(op: Op, group: ConsumerGroup, member_id: str) -> None:
    """Remove a member (left, timed out, or fenced) and bump the group epoch so the others rebalance."""
    remove_member_records(op, group.group_id, member_id)
    update_resolved_regexes(op, group)
    refresh_subscription_metadata(op, group)
    op.emit(rec.consumer_group_epoch(group.group_id, group.group_epoch + 1))
    cancel_member_timers(op, group.group_id, member_id)


def refresh_regexes(op: Op) -> int:
    """Resolve every regex of every consumer group again (topics were created or deleted, or the
    periodic refresh); bump the epoch of the groups whose topics changed. Returns how many did."""
    bumped = 0
    for group in list(op.state.groups.values()):
        if not isinstance(group, ConsumerGroup) or not (group.resolved_regexes or group.subscribed_regexes()):
            continue
        changed = update_resolved_regexes(op, group, refresh=True)
        if refresh_subscription_metadata(op, group) or changed:
            op.emit(rec.consumer_group_epoch(group.group_id, group.group_epoch + 1))
            bumped += 1
    return bumped


def _leave(op: Op, r: Request) -> Response:
    group = op.state.consumer(r.group_id)
    if group is None:
        raise GroupError(ErrorCode.GROUP_ID_NOT_FOUND, f"Consumer group {r.group_id} not found.")
    response = Response(member_id=r.member_id, member_epoch=r.member_epoch)
    if r.instance_id is None:
        if r.member_id not in group.members:
            raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID, f"Unknown member {r.member_id}.")
        fence_member(op, group, r.member_id)
        return response
    static = group.static_member(r.instance_id)
    if static is None:
        raise GroupError(ErrorCode.UNKNOWN_MEMBER_ID, f"Instance id {r.instance_id} is unknown.")
    if static.member_id != r.member_id:
        raise GroupError(
            ErrorCode.FENCED_INSTANCE_ID, f"Static member {r.member_id} was fenced by {static.member_id}."
        )
    if r.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH:
        # The instance keeps its assignment for a session timeout, to come back without a rebalance.
        leaving = replace(static, member_epoch=LEAVE_GROUP_STATIC_MEMBER_EPOCH, pending_revocation={})
        op.emit(
            rec.consumer_group_current_member(group.group_id, static.member_id, leaving.assignment_value())
        )
        return response
    fence_member(op, group, static.member_id)
    return response


def on_session_timer(op: Op, group: ConsumerGroup, member_id: str) -> None:
    if member_id in group.members:
        fence_member(op, group, member_id)


def on_rebalance_timer(op: Op, group: ConsumerGroup, member_id: str, epoch: object) -> None:
    member = group.members.get(member_id)
    if member is not None and member.member_epoch == epoch:
        fence_member(op, group, member_id)
