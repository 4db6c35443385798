"""The classic ``sticky`` assignor (Kafka's ``StickyAssignor``, KIP-54), for the eager protocol.

The result is balanced first and sticky second (see `balancer` for the exact guarantees): with
identical subscriptions every member gets ``n // m`` or ``n // m + 1`` partitions, and no assignment
that balanced moves fewer of the partitions members own now. Ownership comes from each member's
``owned_partitions`` and ``generation`` (see `ownership`): of several claims on one partition the
highest generation wins, and contradictory claims of the same generation count for nobody.

Kafka's sticky assignors also do rack matching (KIP-881); this one ignores ``partition_racks``.
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

NAME = "sticky"


def assign(
    members: Iterable[MemberSubscription],
    partition_counts: PartitionCounts,
    partition_racks: PartitionRacks | None = None,
) -> Assignment:
    view = GroupView.of(members, partition_counts)
    return balance(view, resolve_owners(view))
