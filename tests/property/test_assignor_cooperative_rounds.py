"""cooperative-sticky: nothing is revoked from one member and added to another in the same round, and
the follow-up rebalance hands the withheld partitions over without revoking anything."""

from __future__ import annotations

from dataclasses import replace

from assignor_strategies import groups, sum_of_squares
from hypothesis import given, settings

from odradek.coordinator.group.assignors import cooperative_sticky
from odradek.coordinator.group.assignors.types import MemberSubscription
from odradek.model.topic_partition import TopicPartition


def revoked_and_added(
    members: list[MemberSubscription], assignment: dict[str, list[TopicPartition]]
) -> tuple[set[TopicPartition], set[TopicPartition]]:
    revoked: set[TopicPartition] = set()
    added: set[TopicPartition] = set()
    for m in members:
        now, before = set(assignment[m.member_id]), set(m.owned_partitions)
        revoked |= before - now
        added |= now - before
    return revoked, added


@settings(max_examples=150, deadline=None)
@given(group=groups(claims="any"))
def test_no_partition_revoked_and_added_in_one_round(group) -> None:
    members, counts = group
    round_ = cooperative_sticky.plan(members, counts)
    revoked, added = revoked_and_added(members, round_.assignment)
    assert not revoked & added
    for member_id, partitions in round_.assignment.items():
        assert set(partitions) <= set(round_.target[member_id])
    for tp, member_id in round_.pending.items():
        assert tp in round_.target[member_id]
        assert tp not in round_.assignment[member_id]
        assert any(tp in m.owned_partitions for m in members if m.member_id != member_id)
    assert round_.revoked == {
        m.member_id: sorted(set(m.owned_partitions) - set(round_.assignment[m.member_id])) for m in members
    }


@settings(max_examples=150, deadline=None)
@given(group=groups(claims="any"))
def test_follow_up_round_completes_without_revoking(group) -> None:
    members, counts = group
    first = cooperative_sticky.plan(members, counts)
    generation = max(m.generation for m in members) + 1
    rejoined = [
        replace(m, owned_partitions=tuple(first.assignment[m.member_id]), generation=generation)
        for m in members
    ]
    second = cooperative_sticky.plan(rejoined, counts)
    assert second.pending == {}
    assert all(not partitions for partitions in second.revoked.values())
    assert second.assignment == second.target
    assert sum_of_squares(second.assignment) == sum_of_squares(first.target)
