"""sticky, cooperative-sticky (its target) and uniform: balanced first, then the fewest moves.

The bounds are computed independently of the assignors (see `assignor_strategies`): a closed formula
for identical subscriptions, an exhaustive search for small groups with different subscriptions.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from assignor_strategies import (
    all_partitions,
    best_balance_and_moves,
    groups,
    has_improving_chain,
    member_ids,
    min_moves_identical,
    moves,
    sum_of_squares,
    valid_owners,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from odradek.coordinator.group.assignors import cooperative_sticky, sticky, uniform
from odradek.coordinator.group.assignors.cycle_canceling import balance_heterogeneous
from odradek.coordinator.group.assignors.group_view import GroupView
from odradek.coordinator.group.assignors.ownership import resolve_owners
from odradek.coordinator.group.assignors.types import AssignFn, Assignment, MemberSubscription

STICKY: dict[str, AssignFn] = {
    "sticky": sticky.assign,
    "uniform": uniform.assign,
    "cooperative-target": lambda members, counts, racks=None: cooperative_sticky.plan(members, counts).target,
}


def subscribed_count(members: list[MemberSubscription], counts: dict[str, int]) -> int:
    topics = {t for m in members for t in m.topics if t in counts}
    return sum(counts[t] for t in topics)


def check_identical_optimum(
    result: Assignment, members: list[MemberSubscription], counts: dict[str, int]
) -> None:
    owners = valid_owners(members, counts)
    n = subscribed_count(members, counts)
    loads = [len(p) for p in result.values()]
    assert max(loads) - min(loads) <= 1
    owned_counts = [sum(1 for o in owners.values() if o == m.member_id) for m in members]
    assert moves(result, owners) == min_moves_identical(owned_counts, n)


@pytest.mark.parametrize("name", sorted(STICKY))
@settings(max_examples=80, deadline=None)
@given(group=groups(homogeneous=True))
def test_identical_subscriptions_balanced_with_fewest_moves(name: str, group) -> None:
    members, counts = group
    check_identical_optimum(STICKY[name](members, counts), members, counts)


@pytest.mark.parametrize("name", sorted(STICKY))
@settings(max_examples=60, deadline=None)
@given(group=groups(homogeneous=False, max_members=5, max_topics=3, max_partitions=4))
def test_small_groups_reach_the_exhaustive_optimum(name: str, group) -> None:
    members, counts = group
    result = STICKY[name](members, counts)
    owners = valid_owners(members, counts)
    assert (sum_of_squares(result), moves(result, owners)) == best_balance_and_moves(members, counts, owners)


@pytest.mark.parametrize("name", sorted(STICKY))
@settings(max_examples=40, deadline=None)
@given(group=groups(homogeneous=False))
def test_no_chain_of_moves_improves_balance(name: str, group) -> None:
    members, counts = group
    assert not has_improving_chain(STICKY[name](members, counts), members)


@settings(max_examples=60, deadline=None)
@given(group=groups(homogeneous=True))
def test_general_path_matches_identical_optimum(group) -> None:
    """The min-cost-flow path, forced onto identical subscriptions, meets the closed formula too."""
    members, counts = group
    view = GroupView.of(members, counts)
    result = balance_heterogeneous(view, resolve_owners(view))
    check_identical_optimum(result, members, counts)


def settled(
    assign: AssignFn, members: list[MemberSubscription], counts: dict[str, int]
) -> list[MemberSubscription]:
    """The members after a first rebalance, each owning what it got (generation 1)."""
    first = assign(members, counts)
    return [replace(m, owned_partitions=tuple(first[m.member_id]), generation=1) for m in members]


@st.composite
def membership_change(draw: st.DrawFn, homogeneous: bool, **sizes: int):
    members, counts = draw(groups(homogeneous=homogeneous, claims="none", **sizes))
    leaving = draw(
        st.lists(st.sampled_from(members), unique_by=lambda m: m.member_id, max_size=len(members) - 1)
    )
    taken = {m.member_id for m in members}
    joining_ids = draw(st.lists(member_ids.filter(lambda i: i not in taken), unique=True, max_size=3))
    topics = members[0].topics if homogeneous else None
    joining = [
        MemberSubscription(
            i, topics or tuple(draw(st.lists(st.sampled_from(sorted(counts)), min_size=1, unique=True)))
        )
        for i in joining_ids
    ]
    return members, counts, {m.member_id for m in leaving}, joining


@pytest.mark.parametrize("name", sorted(STICKY))
@settings(max_examples=60, deadline=None)
@given(change=membership_change(homogeneous=True))
def test_members_leaving_and_joining_move_the_minimum(name: str, change) -> None:
    members, counts, leaving, joining = change
    assign = STICKY[name]
    before = settled(assign, members, counts)
    after = [m for m in before if m.member_id not in leaving] + joining
    result = assign(after, counts)
    check_identical_optimum(result, after, counts)
    if not joining:
        assert moves(result, valid_owners(after, counts)) == 0


@pytest.mark.parametrize("name", sorted(STICKY))
@settings(max_examples=40, deadline=None)
@given(change=membership_change(homogeneous=False, max_members=4, max_topics=3, max_partitions=4))
def test_membership_change_with_different_subscriptions_is_optimal(name: str, change) -> None:
    members, counts, leaving, joining = change
    assign = STICKY[name]
    after = [m for m in settled(assign, members, counts) if m.member_id not in leaving] + joining
    result = assign(after, counts)
    owners = valid_owners(after, counts)
    assert (sum_of_squares(result), moves(result, owners)) == best_balance_and_moves(after, counts, owners)


@pytest.mark.parametrize("name", ["sticky", "uniform"])
@settings(max_examples=60, deadline=None)
@given(group=groups())
def test_unchanged_group_keeps_its_assignment(name: str, group) -> None:
    members, counts = group
    assign = STICKY[name]
    first = assign(members, counts)
    again = [
        replace(m, owned_partitions=tuple(first[m.member_id]), generation=m.generation + 1) for m in members
    ]
    assert assign(again, counts) == first


def test_all_partitions_helper_is_sorted() -> None:
    assert all_partitions({"b": 1, "a": 2}) == sorted(all_partitions({"b": 1, "a": 2}))
