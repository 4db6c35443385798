"""The classic ``cooperative-sticky`` assignor (Kafka's ``CooperativeStickyAssignor``, KIP-429).

It computes the same target as ``sticky`` but never hands a partition to a new member in the round
that takes it from another: a partition the target gives to member B while some other member A still
claims it (A's ``owned_partitions``) is left out of B's assignment. A sees it missing from its own
assignment, revokes it and rejoins; in that follow-up rebalance nobody claims it any more and it goes
to B. Partitions nobody claims (new ones, or their owner left the group) go to their target member
at once. This is the invariant Kafka's leader checks: no partition is both revoked from one member
and added to another in the same assignment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from odradek.coordinator.group.assignors.balancer import balance
from odradek.coordinator.group.assignors.group_view import GroupView
from odradek.coordinator.group.assignors.ownership import resolve_owners
from odradek.coordinator.group.assignors.types import (
    Assignment,
    MemberSubscription,
    PartitionCounts,
    PartitionRacks,
)
from odradek.model.topic_partition import TopicPartition

NAME = "cooperative-sticky"


@dataclass(frozen=True, slots=True)
class CooperativeRound:
    #: the balanced sticky assignment this rebalance works towards
    target: Assignment
    #: what each member gets now: its target minus partitions another member must revoke first
    assignment: Assignment
    #: per member, the partitions it claimed and must give up now
    revoked: dict[str, list[TopicPartition]]
    #: partition -> the member it goes to in the follow-up rebalance
    pending: dict[TopicPartition, str]


def plan(members: Iterable[MemberSubscription], partition_counts: PartitionCounts) -> CooperativeRound:
    view = GroupView.of(members, partition_counts)
    target = balance(view, resolve_owners(view))
    claims: dict[TopicPartition, set[str]] = {}
    for member in view.members:
        for tp in member.owned_partitions:
            claims.setdefault(tp, set()).add(member.member_id)
    assignment: Assignment = {}
    pending: dict[TopicPartition, str] = {}
    for member_id, partitions in target.items():
        assignment[member_id] = []
        for tp in partitions:
            claimants = claims.get(tp)
            if claimants and member_id not in claimants:
                pending[tp] = member_id
            else:
                assignment[member_id].append(tp)
    revoked = {
        m.member_id: sorted(set(m.owned_partitions) - set(assignment[m.member_id])) for m in view.members
    }
    return CooperativeRound(target, assignment, revoked, dict(sorted(pending.items())))


def assign(
    members: Iterable[MemberSubscription],
    partition_counts: PartitionCounts,
    partition_racks: PartitionRacks | None = None,
) -> Assignment:
    return plan(members, partition_counts).assignment
