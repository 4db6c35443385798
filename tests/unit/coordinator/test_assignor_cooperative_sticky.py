"""The cooperative sticky assignor: partitions that change hands take two rebalances."""

from __future__ import annotations

from assignor_layouts import tps

from odradek.coordinator.group.assignors.cooperative_sticky import assign, plan
from odradek.coordinator.group.assignors.types import MemberSubscription as M
from odradek.model.topic_partition import TopicPartition


def test_joining_member_gets_a_moved_partition_in_the_follow_up_round() -> None:
    members = [
        M("C0", ("t0",), tuple(tps("t0-0 t0-1")), generation=1),
        M("C1", ("t0",), tuple(tps("t0-2 t0-3")), generation=1),
        M("C2", ("t0",)),
    ]
    first = plan(members, {"t0": 4})
    assert first.target == {"C0": tps("t0-0 t0-1"), "C1": tps("t0-2"), "C2": tps("t0-3")}
    assert first.assignment == {"C0": tps("t0-0 t0-1"), "C1": tps("t0-2"), "C2": []}
    assert first.revoked == {"C0": [], "C1": tps("t0-3"), "C2": []}
    assert first.pending == {TopicPartition("t0", 3): "C2"}
    assert assign(members, {"t0": 4}) == first.assignment

    follow_up = [
        M("C0", ("t0",), tuple(tps("t0-0 t0-1")), generation=2),
        M("C1", ("t0",), tuple(tps("t0-2")), generation=2),
        M("C2", ("t0",), (), generation=2),
    ]
    second = plan(follow_up, {"t0": 4})
    assert second.assignment == second.target == first.target
    assert second.pending == {}


def test_partitions_of_a_member_that_left_move_at_once() -> None:
    members = [M("C0", ("t0",), tuple(tps("t0-0 t0-1")), generation=1)]
    round_ = plan(members, {"t0": 4})
    assert round_.assignment == {"C0": tps("t0-0 t0-1 t0-2 t0-3")}
    assert round_.pending == {}


def test_partition_of_an_unsubscribed_topic_waits_for_its_owner() -> None:
    members = [
        M("C0", ("t0",), tuple(tps("t0-0 t1-0")), generation=1),  # no longer subscribes to t1
        M("C1", ("t1",), (), generation=1),
    ]
    round_ = plan(members, {"t0": 1, "t1": 1})
    assert round_.target == {"C0": tps("t0-0"), "C1": tps("t1-0")}
    assert round_.assignment == {"C0": tps("t0-0"), "C1": []}
    assert round_.revoked == {"C0": tps("t1-0"), "C1": []}
    assert round_.pending == {TopicPartition("t1", 0): "C1"}


def test_stale_claim_does_not_hold_back_the_current_owner() -> None:
    members = [
        M("A", ("t",), tuple(tps("t-0 t-1")), generation=1),  # stale: t-1 went to B in generation 2
        M("B", ("t",), tuple(tps("t-1")), generation=2),
    ]
    round_ = plan(members, {"t": 2})
    assert round_.assignment == {"A": tps("t-0"), "B": tps("t-1")}
    assert round_.revoked == {"A": tps("t-1"), "B": []}
    assert round_.pending == {}
