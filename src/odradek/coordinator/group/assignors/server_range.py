"""The KIP-848 server-side ``range`` assignor: per-topic ranges, co-partitioned, sticky where they allow.

Input: each member's subscribed topic names and its current assignment (as ``owned_partitions``;
generations are ignored). Topics are grouped by (subscribers, partition count); every group is
assigned as one topic and each of its topics gets the same partition numbers, so topics with the same
subscribers and partition count are always co-partitioned.

Within a group of ``n`` partitions and ``m`` subscribers (in member order, see `group_view`), every
subscriber gets ``n // m`` or ``n // m + 1`` partition numbers and ``n % m`` of them get the extra one,
as in the classic range. Stickiness: a member keeps its lowest owned numbers up to ``n // m``, and one
more if it owns more than that while extra places remain (members taken in member order); the
remaining extra places go to the first other members in member order; the numbers left over are then
cut, in ascending order, into ranges for the members still short, in member order. A fresh group thus
gets exactly the classic ranges, an unchanged group keeps its assignment, and no assignment with
these counts keeps more of the owned numbers.

A member "owns" number ``p`` of a group if it owns partition ``p`` of the most topics of the group
(ties: member order). Kafka's server range does the same per topic, taking members in the order it
holds them; it is co-partitioned only while members' assignments are. Rack matching is not done.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from odradek.coordinator.group.assignors.group_view import GroupView, sorted_assignment
from odradek.coordinator.group.assignors.ownership import resolve_owners
from odradek.coordinator.group.assignors.types import (
    Assignment,
    MemberSubscription,
    PartitionCounts,
    PartitionRacks,
)
from odradek.model.topic_partition import TopicPartition

NAME = "range"


def _number_owners(
    subscribers: tuple[str, ...], count: int, topics: list[str], owners: Mapping[TopicPartition, str]
) -> dict[int, str]:
    rank = {member: i for i, member in enumerate(subscribers)}
    result: dict[int, str] = {}
    for p in range(count):
        votes = Counter(owners[tp] for t in topics if (tp := TopicPartition(t, p)) in owners)
        if votes:
            result[p] = min(votes, key=lambda member: (-votes[member], rank[member]))
    return result


def sticky_ranges(
    subscribers: tuple[str, ...], count: int, owner_of: Mapping[int, str]
) -> dict[str, list[int]]:
    """Partition numbers per subscriber, keeping as many owned numbers as the range counts allow."""
    quota, extras = divmod(count, len(subscribers))
    owned: dict[str, list[int]] = {member: [] for member in subscribers}
    for p in range(count):
        if p in owner_of:
            owned[owner_of[p]].append(p)
    target = dict.fromkeys(subscribers, quota)
    for member in subscribers:
        if extras and len(owned[member]) > quota:
            target[member] += 1
            extras -= 1
    for member in subscribers:
        if extras and target[member] == quota:
            target[member] += 1
            extras -= 1
    result = {member: owned[member][: target[member]] for member in subscribers}
    kept = {p for numbers in result.values() for p in numbers}
    free = iter([p for p in range(count) if p not in kept])
    for member in subscribers:
        result[member].extend(next(free) for _ in range(target[member] - len(result[member])))
    return result


def assign(
    members: Iterable[MemberSubscription],
    partition_counts: PartitionCounts,
    partition_racks: PartitionRacks | None = None,
) -> Assignment:
    view = GroupView.of(members, partition_counts)
    owners = resolve_owners(view, use_generations=False)
    groups: dict[tuple[tuple[str, ...], int], list[str]] = {}
    for topic, count in view.partition_counts.items():
        groups.setdefault((tuple(view.subscribers(topic)), count), []).append(topic)
    result = view.empty_assignment()
    for (subscribers, count), topics in groups.items():
        owner_of = _number_owners(subscribers, count, topics, owners)
        for member, numbers in sticky_ranges(subscribers, count, owner_of).items():
            result[member].extend(TopicPartition(t, p) for t in topics for p in numbers)
    return sorted_assignment(result)
