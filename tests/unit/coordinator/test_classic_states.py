"""The classic group state table, and each of its transitions as the shard takes it."""

from __future__ import annotations

import itertools

import pytest
from group_steps import classic, join, leave, new_member, stable_group, sync

from odradek.coordinator.group.classic_group import ClassicGroup
from odradek.coordinator.group.classic_states import MEANING, TRANSITIONS, ClassicGroupState, can_transition
from odradek.testing.group_coordinator import GroupShardDriver

S = ClassicGroupState
ALLOWED = {
    (S.EMPTY, S.PREPARING_REBALANCE),
    (S.PREPARING_REBALANCE, S.EMPTY),
    (S.PREPARING_REBALANCE, S.COMPLETING_REBALANCE),
    (S.COMPLETING_REBALANCE, S.STABLE),
    (S.COMPLETING_REBALANCE, S.PREPARING_REBALANCE),
    (S.STABLE, S.PREPARING_REBALANCE),
} | {(s, S.DEAD) for s in S}


@pytest.mark.parametrize(("source", "target"), list(itertools.product(S, S)))
def test_transition_table(source: ClassicGroupState, target: ClassicGroupState) -> None:
    assert can_transition(source, target) == ((source, target) in ALLOWED)
    group = ClassicGroup("g", state=source)
    if (source, target) in ALLOWED:
        group.transition_to(target, 42)
        assert (group.state, group.previous_state, group.state_timestamp_ms) == (target, source, 42)
    else:
        with pytest.raises(AssertionError):
            group.transition_to(target, 42)


def test_every_state_has_a_meaning_and_names_are_kafkas() -> None:
    assert set(MEANING) == set(TRANSITIONS) == set(S)
    assert [s.value for s in S] == ["Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"]


def test_the_shard_takes_every_live_transition() -> None:
    d = GroupShardDriver()
    seen: list[tuple[ClassicGroupState, ClassicGroupState]] = []

    def note() -> None:
        g = classic(d)
        if not seen or seen[-1][1] is not g.state:
            seen.append((seen[-1][1] if seen else S.EMPTY, g.state))

    a, _wa = new_member(d, client_id="a")
    note()  # Empty -> PreparingRebalance
    d.advance(3_000)
    note()  # -> CompletingRebalance
    c, _wc = new_member(d, client_id="c")
    note()  # CompletingRebalance -> PreparingRebalance (a new member)
    join(d, "g", a, client_id="a")
    note()  # -> CompletingRebalance
    sync(d, c, 2)
    sync(d, a, 2, {a: b"", c: b""})
    note()  # -> Stable
    leave(d, (c, None))
    note()  # Stable -> PreparingRebalance
    leave(d, (a, None))
    note()  # PreparingRebalance -> Empty
    assert seen == [
        (S.EMPTY, S.PREPARING_REBALANCE),
        (S.PREPARING_REBALANCE, S.COMPLETING_REBALANCE),
        (S.COMPLETING_REBALANCE, S.PREPARING_REBALANCE),
        (S.PREPARING_REBALANCE, S.COMPLETING_REBALANCE),
        (S.COMPLETING_REBALANCE, S.STABLE),
        (S.STABLE, S.PREPARING_REBALANCE),
        (S.PREPARING_REBALANCE, S.EMPTY),
    ]


def test_stable_group_helper_builds_generation_one() -> None:
    d = GroupShardDriver()
    ids = stable_group(d, 3)
    assert classic(d).state is S.STABLE and classic(d).generation_id == 1 and len(ids) == 3
