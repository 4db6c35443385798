"""A group's members in assignment order, with the subscribed topics that exist.

Member order is Kafka's (``AbstractPartitionAssignor.MemberInfo``): static members (those with a
``group.instance.id``) first, by instance id, then dynamic members by member id. Static members keep
their place across restarts even though the coordinator gives them a new member id, so the
order-based assignors (range, round robin) give them the same partitions again (KIP-345).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from odradek.coordinator.group.assignors.types import Assignment, MemberSubscription, PartitionCounts
from odradek.model.topic_partition import TopicPartition


def member_order_key(member: MemberSubscription) -> tuple[int, str, str]:
    if member.instance_id is not None:
        return (0, member.instance_id, member.member_id)
    return (1, member.member_id, "")


@dataclass(frozen=True, slots=True)
class GroupView:
    members: tuple[MemberSubscription, ...]
    #: member id -> the topics it subscribes to that exist (have at least one partition)
    topics: Mapping[str, frozenset[str]]
    #: topic -> partition count, for the existing topics someone subscribes to
    partition_counts: Mapping[str, int]

    @classmethod
    def of(cls, members: Iterable[MemberSubscription], partition_counts: PartitionCounts) -> GroupView:
        ordered = sorted(members, key=member_order_key)
        seen: set[str] = set()
        for member in ordered:
            if member.member_id in seen:
                raise ValueError(f"member {member.member_id!r} appears twice")
            seen.add(member.member_id)
        topics = {
            m.member_id: frozenset(t for t in m.topics if partition_counts.get(t, 0) > 0) for m in ordered
        }
        subscribed = set().union(*topics.values()) if topics else set()
        counts = {t: partition_counts[t] for t in sorted(subscribed)}
        return cls(tuple(ordered), topics, counts)

    @property
    def member_ids(self) -> tuple[str, ...]:
        return tuple(m.member_id for m in self.members)

    def subscribers(self, topic: str) -> list[str]:
        return [m.member_id for m in self.members if topic in self.topics[m.member_id]]

    def partitions(self) -> list[TopicPartition]:
        """Every partition of every subscribed topic, sorted by (topic, partition)."""
        return [TopicPartition(t, p) for t, n in self.partition_counts.items() for p in range(n)]

    def is_homogeneous(self) -> bool:
        return len(set(self.topics.values())) <= 1

    def empty_assignment(self) -> Assignment:
        return {m.member_id: [] for m in self.members}


def sorted_assignment(assignment: Mapping[str, Iterable[TopicPartition]]) -> Assignment:
    return {member_id: sorted(partitions) for member_id, partitions in assignment.items()}
