"""The classic ``roundrobin`` assignor (Kafka's ``RoundRobinAssignor``).

All subscribed partitions, sorted by (topic, partition), are dealt one by one to the members in member
order (see `group_view`), going round in a circle. A member not subscribed to a partition's topic is
passed over for it, and the deal continues after the member that took it. With identical
subscriptions the counts differ by at most one; 2 topics x 3 partitions over C0, C1 gives
C0: t0-0, t0-2, t1-1 and C1: t0-1, t1-0, t1-2.
"""

from __future__ import annotations

from collections.abc import Iterable

from odradek.coordinator.group.assignors.group_view import GroupView, sorted_assignment
from odradek.coordinator.group.assignors.types import (
    Assignment,
    MemberSubscription,
    PartitionCounts,
    PartitionRacks,
)

NAME = "roundrobin"


def assign(
    members: Iterable[MemberSubscription],
    partition_counts: PartitionCounts,
    partition_racks: PartitionRacks | None = None,
) -> Assignment:
    view = GroupView.of(members, partition_counts)
    result = view.empty_assignment()
    order = view.member_ids
    turn = 0
    for partition in view.partitions():
        # Some member subscribes to every listed topic, so this finds one within a full circle.
        while partition.topic not in view.topics[order[turn]]:
            turn = (turn + 1) % len(order)
        result[order[turn]].append(partition)
        turn = (turn + 1) % len(order)
    return sorted_assignment(result)
