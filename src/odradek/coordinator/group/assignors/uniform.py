"""The KIP-848 server-side ``uniform`` assignor: the broker's default for ConsumerGroupHeartbeat groups.

Input: each member's subscribed topic names and its current assignment (as ``owned_partitions``;
generations are ignored: the broker keeps one current assignment per partition). Output: the target
assignment, balanced first and sticky second, for identical subscriptions (Kafka's optimized
homogeneous builder) and different ones (its general heterogeneous builder) alike; see `balancer`
for the exact guarantees. Moving a partition safely (revoke, then assign) is the coordinator's job,
not the assignor's. Rack matching is not done.
"""

from __future__ import annotations

from collections.abc import Iterable

from odradek.coordinator.group.assignors.balancer import balance
from odradek.coordinator.group.assignors.group_view import GroupView
from odradek.coordinator.group.assignors.ownership import resolve_owners
from odradek.coordinator.group.assignors.types import (
    Assignment,
    MemberSubscription,
    PartitionCounts,
    PartitionRacks,
)

NAME = "uniform"


def assign(
    members: Iterable[MemberSubscription],
    partition_counts: PartitionCounts,
    partition_racks: PartitionRacks | None = None,
) -> Assignment:
    view = GroupView.of(members, partition_counts)
    return balance(view, resolve_owners(view, use_generations=False))
