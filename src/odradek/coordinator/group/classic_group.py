"""A classic group's in-memory state: members, generation, protocol, leader, and who is waiting.

Only part of it is persisted: at the end of a rebalance (the leader's SyncGroup), when the group
becomes Empty, and when a static member is replaced, the shard writes a GroupMetadataValue
(`to_record`); loading rebuilds a group from the last one (`from_record`), Stable if it has members,
else Empty. Everything about a rebalance in progress (who is parked in JoinGroup/SyncGroup, pending
members, the initial-delay bookkeeping) is transient: after a coordinator move the members rejoin.

Member order is insertion order, which decides the leader when the old one leaves (the first
remaining member), as Kafka's map iteration does for its members.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from odradek.coordinator.group.classic_states import ClassicGroupState, can_transition
from odradek.coordinator.group.records import GroupMetadataValue, MemberMetadata
from odradek.coordinator.result import WaiterId
from odradek.protocol import codec
from odradek.protocol.messages import consumer_protocol_subscription as _subscription
from odradek.protocol.primitives import ProtocolError

CONSUMER_PROTOCOL_TYPE = "consumer"

Protocols = tuple[tuple[str, bytes], ...]
"""A member's supported protocols, (name, metadata), in its order of preference."""


@dataclass(slots=True)
class ClassicMember:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    protocol_type: str
    protocols: Protocols
    assignment: bytes = b""
    join_waiter: WaiterId | None = None
    join_version: int = 0
    """API version of the parked JoinGroup: the response is built for it."""
    sync_waiter: WaiterId | None = None
    sync_version: int = 0
    is_new: bool = False
    """Joined in the current rebalance and not yet part of a generation (its session does not run yet)."""

    @property
    def awaiting_join(self) -> bool:
        return self.join_waiter is not None

    @property
    def awaiting_sync(self) -> bool:
        return self.sync_waiter is not None

    def metadata(self, protocol: str | None) -> bytes:
        for name, metadata in self.protocols:
            if name == protocol:
                return metadata
        return b""

    def vote(self, candidates: set[str]) -> str:
        """The member's most preferred protocol among those every member supports."""
        for name, _ in self.protocols:
            if name in candidates:
                return name
        raise ValueError(f"member {self.member_id} supports none of {sorted(candidates)}")

    def has_satisfied_heartbeat(self) -> bool:
        """Whether an expiring session should spare the member (Kafka's ``hasSatisfiedHeartbeat``)."""
        if self.is_new:
            return False
        return self.awaiting_join or self.awaiting_sync


@dataclass(slots=True)
class ClassicGroup:
    group_id: str
    state: ClassicGroupState = ClassicGroupState.EMPTY
    previous_state: ClassicGroupState = ClassicGroupState.EMPTY
    state_timestamp_ms: int = -1
    """When the group entered its current state (``currentStateTimestamp``); -1 if unknown."""
    generation_id: int = 0
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader_id: str | None = None
    members: dict[str, ClassicMember] = field(default_factory=dict)
    static_members: dict[str, str] = field(default_factory=dict)
    """group.instance.id -> member id."""
    pending_members: set[str] = field(default_factory=set)
    """Member ids handed out with MEMBER_ID_REQUIRED whose owner has not joined with them yet."""
    pending_sync: set[str] = field(default_factory=set)
    """Members of the current generation that have not sent their SyncGroup yet."""
    new_member_added: bool = False
    initial_rebalance: tuple[int, int] | None = None
    """(delay, remaining) of the initial rebalance's join timer while the group was Empty before it."""

    # -- state ---------------------------------------------------------------------------------

    def transition_to(self, target: ClassicGroupState, now_ms: int) -> None:
        if not can_transition(self.state, target):
            raise AssertionError(f"group {self.group_id}: illegal transition {self.state} -> {target}")
        self.previous_state = self.state
        self.state = target
        self.state_timestamp_ms = now_ms

    def is_(self, state: ClassicGroupState) -> bool:
        return self.state is state

    def can_rebalance(self) -> bool:
        return can_transition(self.state, ClassicGroupState.PREPARING_REBALANCE)

    # -- membership ----------------------------------------------------------------------------

    def add(self, member: ClassicMember) -> None:
        if member.group_instance_id is not None:
            if member.group_instance_id in self.static_members:
                raise AssertionError(f"instance {member.group_instance_id} is already a member")
            self.static_members[member.group_instance_id] = member.member_id
        if not self.members:
            self.protocol_type = member.protocol_type
        if self.leader_id is None:
            self.leader_id = member.member_id
        self.members[member.member_id] = member
        self.pending_members.discard(member.member_id)

    def remove(self, member_id: str) -> None:
        member = self.members.pop(member_id, None)
        if member is not None and member.group_instance_id is not None:
            self.static_members.pop(member.group_instance_id, None)
        if self.leader_id == member_id:
            self.leader_id = next(iter(self.members), None)
        self.pending_members.discard(member_id)
        self.pending_sync.discard(member_id)

    def replace_static_member(self, instance_id: str, old_id: str, new_id: str) -> ClassicMember:
        """Give a static member a new member id, keeping its place, assignment and leadership."""
        old = self.members[old_id]
        new = ClassicMember(
            member_id=new_id,
            group_instance_id=old.group_instance_id,
            client_id=old.client_id,
            client_host=old.client_host,
            rebalance_timeout_ms=old.rebalance_timeout_ms,
            session_timeout_ms=old.session_timeout_ms,
            protocol_type=old.protocol_type,
            protocols=old.protocols,
            assignment=old.assignment,
        )
        # Rebuilt rather than popped and re-added, so the member keeps its place (and the leader order).
        self.members = dict((new_id, new) if k == old_id else (k, m) for k, m in self.members.items())
        if self.leader_id == old_id:
            self.leader_id = new_id
        self.static_members[instance_id] = new_id
        self.pending_sync.discard(old_id)
        return new

    def static_member_id(self, instance_id: str | None) -> str | None:
        return None if instance_id is None else self.static_members.get(instance_id)

    def is_leader(self, member_id: str) -> bool:
        return self.leader_id == member_id

    def awaiting_join_count(self) -> int:
        return sum(1 for m in self.members.values() if m.awaiting_join)

    def has_all_members_joined(self) -> bool:
        return self.awaiting_join_count() == len(self.members) and not self.pending_members

    def rebalance_timeout_ms(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    def maybe_elect_new_joined_leader(self) -> bool:
        """Keep a leader that rejoined, else pick the first member that did; False if none did."""
        if self.leader_id is None:
            return False
        if self.members[self.leader_id].awaiting_join:
            return True
        for member in self.members.values():
            if member.awaiting_join:
                self.leader_id = member.member_id
                return True
        return False

    # -- protocols -----------------------------------------------------------------------------

    def candidate_protocols(self) -> set[str]:
        """Protocols every member supports."""
        sets = [{name for name, _ in m.protocols} for m in self.members.values()]
        return set.intersection(*sets) if sets else set()

    def supports_protocols(self, protocol_type: str, names: set[str]) -> bool:
        if self.is_(ClassicGroupState.EMPTY):
            return protocol_type != "" and bool(names)
        return self.protocol_type == protocol_type and bool(names & self.candidate_protocols())

    def select_protocol(self) -> str:
        """The protocol with the most votes among those every member supports (ties: first voted)."""
        candidates = self.candidate_protocols()
        votes: dict[str, int] = {}
        for member in self.members.values():
            choice = member.vote(candidates)
            votes[choice] = votes.get(choice, 0) + 1
        return max(votes, key=lambda name: votes[name])

    def subscribed_topics(self) -> set[str] | None:
        """Topics the members' consumer-protocol subscriptions name; None if not known."""
        if self.protocol_type != CONSUMER_PROTOCOL_TYPE:
            return None
        if not self.members:
            return set()
        if self.protocol_name is None:
            return None
        topics: set[str] = set()
        for member in self.members.values():
            parsed = parse_subscription_topics(member.metadata(self.protocol_name))
            if parsed is None:
                return None
            topics.update(parsed)
        return topics

    def is_subscribed_to(self, topic: str) -> bool:
        topics = self.subscribed_topics()
        if topics is None:
            return self.protocol_type == CONSUMER_PROTOCOL_TYPE
        return topic in topics

    # -- generations ---------------------------------------------------------------------------

    def init_next_generation(self, now_ms: int) -> None:
        self.generation_id += 1
        if self.members:
            self.protocol_name = self.select_protocol()
            self.transition_to(ClassicGroupState.COMPLETING_REBALANCE, now_ms)
        else:
            self.protocol_name = None
            self.transition_to(ClassicGroupState.EMPTY, now_ms)
        self.pending_sync.clear()

    # -- persistence ---------------------------------------------------------------------------

    def to_record(self) -> GroupMetadataValue:
        return GroupMetadataValue(
            protocol_type=self.protocol_type or "",
            generation=self.generation_id,
            protocol=self.protocol_name,
            leader=self.leader_id,
            current_state_timestamp=self.state_timestamp_ms,
            members=[
                MemberMetadata(
                    member_id=m.member_id,
                    group_instance_id=m.group_instance_id,
                    client_id=m.client_id,
                    client_host=m.client_host,
                    rebalance_timeout=m.rebalance_timeout_ms,
                    session_timeout=m.session_timeout_ms,
                    subscription=m.metadata(self.protocol_name),
                    assignment=m.assignment,
                )
                for m in self.members.values()
            ],
        )

    @classmethod
    def from_record(cls, group_id: str, value: GroupMetadataValue) -> ClassicGroup:
        protocol_type = value.protocol_type or None
        group = cls(
            group_id,
            state=ClassicGroupState.STABLE if value.members else ClassicGroupState.EMPTY,
            state_timestamp_ms=value.current_state_timestamp,
            generation_id=value.generation,
            protocol_type=protocol_type,
            protocol_name=value.protocol,
            leader_id=value.leader,
        )
        for m in value.members:
            group.add(
                ClassicMember(
                    member_id=m.member_id,
                    group_instance_id=m.group_instance_id,
                    client_id=m.client_id,
                    client_host=m.client_host,
                    # Versions before 1 had no rebalance timeout: the session timeout served as both.
                    rebalance_timeout_ms=m.session_timeout
                    if m.rebalance_timeout == -1
                    else m.rebalance_timeout,
                    session_timeout_ms=m.session_timeout,
                    protocol_type=value.protocol_type,
                    protocols=((value.protocol or "", m.subscription),),
                    assignment=m.assignment,
                )
            )
        group.leader_id = value.leader
        return group


def parse_subscription_topics(metadata: bytes) -> list[str] | None:
    """The topics of a ConsumerProtocolSubscription (any version: v0 prefixes all); None if malformed."""
    try:
        if len(metadata) < 2:
            return None
        value, _ = codec.decode(_subscription.SCHEMA, 0, metadata, 2)
    except (ProtocolError, ValueError):
        return None
    return list(value.topics)
