"""Every assignor: a valid assignment, the same for the same input in any order."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from assignor_strategies import check_valid, groups
from hypothesis import given, settings
from hypothesis import strategies as st

from odradek.coordinator.group.assignors import CLASSIC_ASSIGNORS, SERVER_ASSIGNORS, cooperative_sticky
from odradek.coordinator.group.assignors.types import AssignFn, MemberSubscription
from odradek.model.topic_partition import TopicPartition

ASSIGNORS: dict[str, AssignFn] = {
    **{f"classic-{name}": a.assign for name, a in CLASSIC_ASSIGNORS.items()},
    **{f"server-{name}": a.assign for name, a in SERVER_ASSIGNORS.items()},
}


@st.composite
def racks(draw: st.DrawFn, counts: dict[str, int]) -> dict[TopicPartition, frozenset[str]]:
    rack = st.sampled_from("abc")
    return {
        TopicPartition(t, p): frozenset(draw(st.lists(rack, max_size=3)))
        for t, n in counts.items()
        for p in range(n)
    }


def shuffled(
    members: list[MemberSubscription], counts: dict[str, int], rnd: random.Random
) -> tuple[list[MemberSubscription], dict[str, int]]:
    members = [
        replace(
            m,
            topics=tuple(rnd.sample(m.topics, len(m.topics))),
            owned_partitions=tuple(rnd.sample(m.owned_partitions, len(m.owned_partitions))),
        )
        for m in rnd.sample(members, len(members))
    ]
    return members, dict(rnd.sample(list(counts.items()), len(counts)))


@pytest.mark.parametrize("name", sorted(ASSIGNORS))
@settings(max_examples=60, deadline=None)
@given(group=groups(claims="any"), data=st.data())
def test_valid_and_independent_of_input_order(name: str, group, data: st.DataObject) -> None:
    members, counts = group
    with_racks = data.draw(st.booleans())
    rack_of = data.draw(st.lists(st.sampled_from([None, "a", "b", "c"]), min_size=len(members)))
    members = [replace(m, rack=r) for m, r in zip(members, rack_of, strict=False)]
    partition_racks = data.draw(racks(counts)) if with_racks else None
    assign = ASSIGNORS[name]
    result = assign(members, counts, partition_racks)
    if name == "classic-cooperative-sticky":
        # Partitions waiting for their owner to revoke them are assigned in the follow-up round.
        round_ = cooperative_sticky.plan(members, counts)
        check_valid(round_.target, members, counts)
        assert result == round_.assignment
        given_now = {tp for partitions in result.values() for tp in partitions}
        assert {tp for ps in round_.target.values() for tp in ps} - given_now == set(round_.pending)
    else:
        check_valid(result, members, counts)
    rnd = data.draw(st.randoms(use_true_random=False))
    again = assign(*shuffled(members, counts, rnd), partition_racks)
    assert again == result
    assert list(again) == list(result)
