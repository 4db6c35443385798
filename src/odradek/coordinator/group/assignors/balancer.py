"""The balanced, sticky target shared by ``sticky``, ``cooperative-sticky`` and ``uniform``.

Given the partitions to assign and their current owners (see `ownership`), the target is, in this
order of priority:

1. balanced: it minimises the sum over members of (partition count)^2 among all assignments that give
   each partition to a member subscribed to its topic. For identical subscriptions this means every
   member gets ``n // m`` or ``n // m + 1`` partitions; otherwise no member can give a partition, even
   through a chain of members each taking one from the next, to a member with two or more fewer;
2. sticky: among the balanced assignments, it moves the fewest owned partitions away from their owner.
   A partition with no owner (new, or its owner left) moves nothing wherever it goes.

Identical subscriptions take a direct path: each member keeps up to its quota of owned partitions,
the ``n % m`` extra places going to the members that own the most; each other partition, in order,
goes to the member below quota that has the fewest so far. Other groups go through
`cycle_canceling`. Ties are broken by member order and partition order, so the result depends on the
input only, never on its ordering.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

from odradek.coordinator.group.assignors.cycle_canceling import balance_heterogeneous
from odradek.coordinator.group.assignors.group_view import GroupView, sorted_assignment
from odradek.coordinator.group.assignors.types import Assignment
from odradek.model.topic_partition import TopicPartition


def balance(view: GroupView, owners: Mapping[TopicPartition, str]) -> Assignment:
    if not view.members:
        return {}
    if view.is_homogeneous():
        return balance_homogeneous(view, owners)
    return sorted_assignment(balance_heterogeneous(view, owners))


def balance_homogeneous(view: GroupView, owners: Mapping[TopicPartition, str]) -> Assignment:
    members = view.member_ids
    partitions = view.partitions()
    quota, extras = divmod(len(partitions), len(members))
    owned: dict[str, list[TopicPartition]] = {m: [] for m in members}
    for tp in partitions:
        owner = owners.get(tp)
        if owner is not None:
            owned[owner].append(tp)
    # An extra place saves a move only for a member owning more than the quota: give those first.
    by_owned = sorted(range(len(members)), key=lambda i: (-len(owned[members[i]]), i))
    target = {members[i]: quota + (1 if rank < extras else 0) for rank, i in enumerate(by_owned)}
    result = {m: owned[m][: target[m]] for m in members}
    kept = {tp for held in result.values() for tp in held}
    # Each free partition goes to the member with the fewest so far, which spreads topics as well.
    hungry = [(len(result[m]), i) for i, m in enumerate(members) if len(result[m]) < target[m]]
    heapq.heapify(hungry)
    for tp in partitions:
        if tp in kept:
            continue
        count, i = heapq.heappop(hungry)
        result[members[i]].append(tp)
        if count + 1 < target[members[i]]:
            heapq.heappush(hungry, (count + 1, i))
    return sorted_assignment(result)
