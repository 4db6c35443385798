"""A KIP-848 consumer group (ConsumerGroupHeartbeat) and how its records rebuild it.

Unlike a classic group, every piece of a consumer group's state is persisted, and the shard changes
it *only* by emitting records and replaying them here (`replay`), live and on load alike. The records
(types 3-8 and 16, see `records`) map onto the state as follows:

- ConsumerGroupMetadata: the group epoch (bumped whenever membership, subscriptions or the subscribed
  topics' metadata change); its tombstone deletes the group.
- ConsumerGroupPartitionMetadata: the subscribed topics' id, name and partition count, as of the last
  epoch bump.
- ConsumerGroupMemberMetadata: a member's subscription (client, rack, instance id, topics, assignor,
  rebalance timeout); its tombstone removes the member.
- ConsumerGroupTargetAssignmentMember / -Metadata: the assignor's target per member, and the group
  epoch it was computed for (the assignment epoch).
- ConsumerGroupCurrentMemberAssignment: where the member is in reconciling towards its target: member
  epoch (and the previous one), `MemberState`, partitions assigned and partitions pending revocation.
  Its tombstone marks the member as left (epoch -1).
- ConsumerGroupRegularExpression (type 16): a regex some member subscribes with, and the topics it
  matched when last resolved (`topic_regex`); its tombstone is written when no member uses it any more.
  A member's topics are its topic names plus the topics its regex resolved to.

The group state is derived: Empty (no members), Assigning (group epoch > assignment epoch),
Reconciling (some member not yet at the assignment epoch in state STABLE), Stable.
``partition_epochs`` tracks, for every partition some member holds (assigned or pending revocation),
the epoch of the holder: a partition can be given to a new owner only once it is free (KIP-848's
"revoke before assign").
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum

from odradek.coordinator.group import records as rec
from odradek.coordinator.group.topics import TopicInfo
from odradek.coordinator.result import CoordinatorRecord

Assignment = Mapping[uuid.UUID, frozenset[int]]
"""Partitions by topic id; topics with no partitions are left out."""

EMPTY_ASSIGNMENT: Assignment = {}
LEAVE_GROUP_MEMBER_EPOCH = -1
LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2


class MemberState(IntEnum):
    """Kafka's ``MemberState`` (the numbers are the record's State field)."""

    STABLE = 0
    """Reconciled with the target assignment it last received."""
    UNREVOKED_PARTITIONS = 1
    """Must first give up ``pending_revocation`` (report them gone) to move to the next epoch."""
    UNRELEASED_PARTITIONS = 2
    """At the target epoch, but some target partitions still belong to others; it gets them once freed."""
    UNKNOWN = 127


class ConsumerGroupState(Enum):
    EMPTY = "Empty"
    ASSIGNING = "Assigning"
    RECONCILING = "Reconciling"
    STABLE = "Stable"
    DEAD = "Dead"


def assignment_of(parts: Iterable[tuple[uuid.UUID, Iterable[int]]]) -> Assignment:
    out: dict[uuid.UUID, frozenset[int]] = {}
    for topic_id, partitions in parts:
        merged = out.get(topic_id, frozenset()) | frozenset(partitions)
        if merged:
            out[topic_id] = merged
    return out


@dataclass(frozen=True, slots=True)
class ResolvedRegex:
    """What a regex matched (``topics``), against which metadata ``version`` (-1: odradek's topics view
    has none) and when (``timestamp``, ms)."""

    topics: frozenset[str]
    version: int = -1
    timestamp: int = -1


@dataclass(frozen=True, slots=True)
class ConsumerMember:
    member_id: str
    instance_id: str | None = None
    rack_id: str | None = None
    client_id: str = ""
    client_host: str = ""
    subscribed_topic_names: tuple[str, ...] = ()
    subscribed_topic_regex: str | None = None
    rebalance_timeout_ms: int = -1
    server_assignor: str | None = None
    member_epoch: int = 0
    previous_member_epoch: int = 0
    state: MemberState = MemberState.STABLE
    assigned: Assignment = field(default_factory=dict)
    pending_revocation: Assignment = field(default_factory=dict)

    def is_reconciled_to(self, epoch: int) -> bool:
        return self.state is MemberState.STABLE and self.member_epoch == epoch

    def subscription_value(self) -> rec.ConsumerGroupMemberMetadataValue:
        return rec.ConsumerGroupMemberMetadataValue(
            instance_id=self.instance_id,
            rack_id=self.rack_id,
            client_id=self.client_id,
            client_host=self.client_host,
            subscribed_topic_names=list(self.subscribed_topic_names),
            subscribed_topic_regex=self.subscribed_topic_regex,
            rebalance_timeout_ms=self.rebalance_timeout_ms,
            server_assignor=self.server_assignor,
            classic_member_metadata=None,
        )

    def assignment_value(self) -> rec.ConsumerGroupCurrentMemberAssignmentValue:
        return rec.ConsumerGroupCurrentMemberAssignmentValue(
            member_epoch=self.member_epoch,
            previous_member_epoch=self.previous_member_epoch,
            state=int(self.state),
            assigned_partitions=rec.current_assignment_partitions(self.assigned),
            partitions_pending_revocation=rec.current_assignment_partitions(self.pending_revocation),
        )

    def with_subscription(self, v: rec.ConsumerGroupMemberMetadataValue) -> ConsumerMember:
        return replace(
            self,
            instance_id=v.instance_id,
            rack_id=v.rack_id,
            client_id=v.client_id,
            client_host=v.client_host,
            subscribed_topic_names=tuple(v.subscribed_topic_names),
            subscribed_topic_regex=v.subscribed_topic_regex or None,
            rebalance_timeout_ms=v.rebalance_timeout_ms,
            server_assignor=v.server_assignor,
        )

    def with_assignment(self, v: rec.ConsumerGroupCurrentMemberAssignmentValue) -> ConsumerMember:
        try:
            state = MemberState(v.state)
        except ValueError:
            state = MemberState.UNKNOWN
        return replace(
            self,
            member_epoch=v.member_epoch,
            previous_member_epoch=v.previous_member_epoch,
            state=state,
            assigned=assignment_of((tp.topic_id, tp.partitions) for tp in v.assigned_partitions),
            pending_revocation=assignment_of(
                (tp.topic_id, tp.partitions) for tp in v.partitions_pending_revocation
            ),
        )


@dataclass(slots=True)
class ConsumerGroup:
    group_id: str
    group_epoch: int = 0
    assignment_epoch: int = 0
    subscription_metadata: dict[str, TopicInfo] = field(default_factory=dict)
    members: dict[str, ConsumerMember] = field(default_factory=dict)
    static_members: dict[str, str] = field(default_factory=dict)
    target_assignment: dict[str, Assignment] = field(default_factory=dict)
    partition_epochs: dict[tuple[uuid.UUID, int], int] = field(default_factory=dict)
    resolved_regexes: dict[str, ResolvedRegex] = field(default_factory=dict)

    def snapshot(self) -> ConsumerGroup:
        """A copy that later changes to this group do not touch (members and assignments are
        immutable values; the maps holding them are copied)."""
        return ConsumerGroup(
            self.group_id,
            self.group_epoch,
            self.assignment_epoch,
            dict(self.subscription_metadata),
            dict(self.members),
            dict(self.static_members),
            dict(self.target_assignment),
            dict(self.partition_epochs),
            dict(self.resolved_regexes),
        )

    @property
    def state(self) -> ConsumerGroupState:
        if not self.members:
            return ConsumerGroupState.EMPTY
        if self.group_epoch > self.assignment_epoch:
            return ConsumerGroupState.ASSIGNING
        if any(not m.is_reconciled_to(self.assignment_epoch) for m in self.members.values()):
            return ConsumerGroupState.RECONCILING
        return ConsumerGroupState.STABLE

    def static_member(self, instance_id: str) -> ConsumerMember | None:
        member_id = self.static_members.get(instance_id)
        return None if member_id is None else self.members.get(member_id)

    def current_partition_epoch(self, topic_id: uuid.UUID, partition: int) -> int:
        return self.partition_epochs.get((topic_id, partition), -1)

    def subscribed_regexes(self) -> set[str]:
        return {m.subscribed_topic_regex for m in self.members.values() if m.subscribed_topic_regex}

    def member_topics(self, member: ConsumerMember) -> frozenset[str]:
        """The member's topic names plus what its regex resolved to (nothing while unresolved)."""
        topics = frozenset(member.subscribed_topic_names)
        regex = member.subscribed_topic_regex
        resolved = self.resolved_regexes.get(regex) if regex else None
        return topics if resolved is None else topics | resolved.topics

    def subscribed_topic_names(self) -> set[str]:
        return {t for m in self.members.values() for t in self.member_topics(m)}

    def preferred_assignor(self, configured: tuple[str, ...]) -> str:
        """The server assignor most members ask for (ties: configuration order); else the default."""
        counts: dict[str, int] = {}
        for member in self.members.values():
            if member.server_assignor is not None:
                counts[member.server_assignor] = counts.get(member.server_assignor, 0) + 1
        if not counts:
            return configured[0]
        rank = {name: i for i, name in enumerate(configured)}
        return min(counts, key=lambda name: (-counts[name], rank.get(name, len(rank)), name))

    def update_member(self, member: ConsumerMember) -> None:
        old = self.members.get(member.member_id)
        if old is not None:
            self._release(old)
            if old.instance_id is not None and old.instance_id != member.instance_id:
                self.static_members.pop(old.instance_id, None)
        self.members[member.member_id] = member
        if member.instance_id is not None:
            self.static_members[member.instance_id] = member.member_id
        for held in (member.assigned, member.pending_revocation):
            for topic_id, partitions in held.items():
                for p in partitions:
                    if (topic_id, p) in self.partition_epochs:
                        raise AssertionError(f"{self.group_id}: partition {topic_id}-{p} is held twice")
                    self.partition_epochs[topic_id, p] = member.member_epoch

    def remove_member(self, member_id: str) -> None:
        old = self.members.pop(member_id, None)
        if old is None:
            return
        self._release(old)
        if old.instance_id is not None and self.static_members.get(old.instance_id) == member_id:
            del self.static_members[old.instance_id]

    def _release(self, member: ConsumerMember) -> None:
        for held in (member.assigned, member.pending_revocation):
            for topic_id, partitions in held.items():
                for p in partitions:
                    self.partition_epochs.pop((topic_id, p), None)

    def tombstones(self) -> list[CoordinatorRecord]:
        """Records deleting the whole group, in the order replay accepts them."""
        gid = self.group_id
        out = [rec.consumer_group_current_member(gid, m, None) for m in self.members]
        out += [rec.consumer_group_target_member(gid, m, None) for m in self.members]
        out.append(rec.consumer_group_target_epoch(gid, None))
        out += [rec.consumer_group_member(gid, m, None) for m in self.members]
        out += [rec.consumer_group_regex(gid, r, None) for r in sorted(self.resolved_regexes)]
        out.append(rec.consumer_group_partition_metadata(gid, None))
        out.append(rec.consumer_group_epoch(gid, None))
        return out


CONSUMER_KEYS = (
    rec.ConsumerGroupMetadataKey,
    rec.ConsumerGroupPartitionMetadataKey,
    rec.ConsumerGroupMemberMetadataKey,
    rec.ConsumerGroupTargetAssignmentMetadataKey,
    rec.ConsumerGroupTargetAssignmentMemberKey,
    rec.ConsumerGroupCurrentMemberAssignmentKey,
    rec.ConsumerGroupRegularExpressionKey,
)


def replay(group: ConsumerGroup, record: CoordinatorRecord) -> None:
    """Apply one KIP-848 record to its group (the caller finds or creates the group, and deletes it)."""
    _REPLAY[type(record.key)](group, record.key, record.value)


def _epoch(group: ConsumerGroup, key: object, value: object) -> None:
    if isinstance(value, rec.ConsumerGroupMetadataValue):
        group.group_epoch = value.epoch


def _partition_metadata(group: ConsumerGroup, key: object, value: object) -> None:
    group.subscription_metadata = {}
    if isinstance(value, rec.ConsumerGroupPartitionMetadataValue):
        for t in value.topics:
            group.subscription_metadata[t.topic_name] = TopicInfo(t.topic_id, t.topic_name, t.num_partitions)


def _member(group: ConsumerGroup, key: object, value: object) -> None:
    assert isinstance(key, rec.ConsumerGroupMemberMetadataKey)
    if isinstance(value, rec.ConsumerGroupMemberMetadataValue):
        member = group.members.get(key.member_id) or ConsumerMember(key.member_id)
        group.update_member(member.with_subscription(value))
    else:
        group.remove_member(key.member_id)


def _target_epoch(group: ConsumerGroup, key: object, value: object) -> None:
    if isinstance(value, rec.ConsumerGroupTargetAssignmentMetadataValue):
        group.assignment_epoch = value.assignment_epoch
    else:
        group.assignment_epoch = -1


def _target_member(group: ConsumerGroup, key: object, value: object) -> None:
    assert isinstance(key, rec.ConsumerGroupTargetAssignmentMemberKey)
    if isinstance(value, rec.ConsumerGroupTargetAssignmentMemberValue):
        group.target_assignment[key.member_id] = assignment_of(
            (tp.topic_id, tp.partitions) for tp in value.topic_partitions
        )
    else:
        group.target_assignment.pop(key.member_id, None)


def _current(group: ConsumerGroup, key: object, value: object) -> None:
    assert isinstance(key, rec.ConsumerGroupCurrentMemberAssignmentKey)
    member = group.members.get(key.member_id)
    if isinstance(value, rec.ConsumerGroupCurrentMemberAssignmentValue):
        group.update_member((member or ConsumerMember(key.member_id)).with_assignment(value))
    elif member is not None:
        group.update_member(
            replace(
                member,
                member_epoch=LEAVE_GROUP_MEMBER_EPOCH,
                previous_member_epoch=LEAVE_GROUP_MEMBER_EPOCH,
                assigned={},
                pending_revocation={},
            )
        )


def _regex(group: ConsumerGroup, key: object, value: object) -> None:
    assert isinstance(key, rec.ConsumerGroupRegularExpressionKey)
    if isinstance(value, rec.ConsumerGroupRegularExpressionValue):
        group.resolved_regexes[key.regular_expression] = ResolvedRegex(
            frozenset(value.topics), value.version, value.timestamp
        )
    else:
        group.resolved_regexes.pop(key.regular_expression, None)


_REPLAY = {
    rec.ConsumerGroupMetadataKey: _epoch,
    rec.ConsumerGroupPartitionMetadataKey: _partition_metadata,
    rec.ConsumerGroupMemberMetadataKey: _member,
    rec.ConsumerGroupTargetAssignmentMetadataKey: _target_epoch,
    rec.ConsumerGroupTargetAssignmentMemberKey: _target_member,
    rec.ConsumerGroupCurrentMemberAssignmentKey: _current,
    rec.ConsumerGroupRegularExpressionKey: _regex,
}
