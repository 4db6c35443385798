"""The classic ``range`` assignor (Kafka's ``RangeAssignor``), rack-aware as in KIP-881.

Per topic, the ``n`` partitions in numeric order are cut into ranges over the topic's ``m`` subscribers
in member order (see `group_view`): every subscriber gets ``n // m`` partitions and the first
``n % m`` get one more. Topics are independent, so the first members get the extra partition of every
topic: 2 topics x 3 partitions over C0, C1 gives C0: t0-0, t0-1, t1-0, t1-1 and C1: t0-2, t1-2.
Topics with the same subscribers and partition count are co-partitioned: partition ``p`` of each goes
to the same member.

Rack awareness (KIP-881) is used when some consumer has a rack, some partition has a replica on one
of those racks, and not every partition has replicas on the same set of racks. Then, before the plain
ranges, partitions are first given only to consumers on a rack holding one of their replicas (a
consumer with no rack matches every partition), without ever exceeding the per-topic counts above:
every member still gets ``n // m`` or ``n // m + 1`` partitions of each topic and ``n % m`` members get
the extra one, but which members get which partitions follows the racks. Topics with the same
subscribers (and racks) and the same partition count stay co-partitioned: partition ``p`` of all of
them goes to the first member, in member order, whose rack matches partition ``p`` of every one of
them. What the rack pass leaves is then cut into ranges as without racks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from odradek.coordinator.group.assignors.group_view import GroupView, sorted_assignment
from odradek.coordinator.group.assignors.types import (
    Assignment,
    MemberSubscription,
    PartitionCounts,
    PartitionRacks,
)
from odradek.model.topic_partition import TopicPartition

NAME = "range"

Eligible = Callable[[str, int], bool]


@dataclass(slots=True)
class _TopicRanges:
    """One topic's progress: how many partitions each subscriber may still take, and which remain."""

    topic: str
    consumer_racks: dict[str, str | None]  # subscribers in member order -> rack
    partition_racks: dict[int, frozenset[str]]  # empty when no subscriber has a rack
    quota: int
    extras_left: int
    unassigned: dict[int, None]  # an ordered set: partitions in numeric order
    assigned: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(
        cls, topic: str, count: int, consumer_racks: dict[str, str | None], racks: PartitionRacks
    ) -> _TopicRanges:
        partition_racks: dict[int, frozenset[str]] = {}
        if any(consumer_racks.values()):
            partition_racks = {p: racks.get(TopicPartition(topic, p), frozenset()) for p in range(count)}
        quota, extras = divmod(count, len(consumer_racks))
        return cls(topic, consumer_racks, partition_racks, quota, extras, dict.fromkeys(range(count)))

    @property
    def needs_rack_matching(self) -> bool:
        member_racks = {r for r in self.consumer_racks.values() if r}
        all_partition_racks = frozenset().union(*self.partition_racks.values())
        if not member_racks or member_racks.isdisjoint(all_partition_racks):
            return False
        return any(r != all_partition_racks for r in self.partition_racks.values())

    def room(self, consumer: str) -> int:
        limit = self.quota + (1 if self.extras_left > 0 else 0)
        return max(0, limit - self.assigned.get(consumer, 0))

    def racks_match(self, consumer: str, partition: int) -> bool:
        rack = self.consumer_racks[consumer]
        return not rack or rack in self.partition_racks.get(partition, frozenset())

    def give(self, consumer: str, partitions: list[int], result: Assignment) -> None:
        before = self.assigned.get(consumer, 0)
        after = before + len(partitions)
        self.assigned[consumer] = after
        if before <= self.quota < after:
            self.extras_left -= 1
        for p in partitions:
            del self.unassigned[p]
            result[consumer].append(TopicPartition(self.topic, p))

    def fill(self, eligible: Eligible, result: Assignment) -> None:
        for consumer in self.consumer_racks:
            if not self.unassigned:
                return
            room = self.room(consumer)
            chosen = [p for p in self.unassigned if eligible(consumer, p)][:room]
            if chosen:
                self.give(consumer, chosen, result)


def _match_co_partitioned(group: list[_TopicRanges], count: int, result: Assignment) -> None:
    remaining = list(group[0].consumer_racks)
    for p in range(count):
        consumer = next(
            (c for c in remaining if all(s.racks_match(c, p) and s.room(c) > 0 for s in group)),
            None,
        )
        if consumer is None:
            continue
        for state in group:
            state.give(consumer, [p], result)
        if all(s.room(consumer) == 0 for s in group):
            remaining.remove(consumer)
            if not remaining:
                return


def _match_racks(states: list[_TopicRanges], result: Assignment) -> None:
    groups: dict[tuple[tuple[tuple[str, str | None], ...], int], list[_TopicRanges]] = {}
    for state in states:
        key = (tuple(state.consumer_racks.items()), len(state.partition_racks))
        groups.setdefault(key, []).append(state)
    for (_, count), group in groups.items():
        if len(group) > 1:
            _match_co_partitioned(group, count, result)
        elif group[0].needs_rack_matching:
            group[0].fill(group[0].racks_match, result)


def assign(
    members: Iterable[MemberSubscription],
    partition_counts: PartitionCounts,
    partition_racks: PartitionRacks | None = None,
) -> Assignment:
    view = GroupView.of(members, partition_counts)
    rack_of = {m.member_id: (m.rack or None) for m in view.members}
    states = [
        _TopicRanges.of(topic, count, {c: rack_of[c] for c in view.subscribers(topic)}, partition_racks or {})
        for topic, count in view.partition_counts.items()
    ]
    result = view.empty_assignment()
    if any(s.needs_rack_matching for s in states):
        _match_racks(states, result)
    for state in states:
        state.fill(lambda _consumer, _partition: True, result)
    return sorted_assignment(result)
