"""The KIP-848 server-side range assignor on layouts written out by hand."""

from __future__ import annotations

from assignor_layouts import tps

from odradek.coordinator.group.assignors.server_range import assign
from odradek.coordinator.group.assignors.types import MemberSubscription as M

BOTH = ("t0", "t1")


def test_new_group_gets_the_classic_ranges() -> None:
    members = [M("C1", BOTH), M("C0", BOTH)]
    assert assign(members, {"t0": 3, "t1": 3}) == {"C0": tps("t0-0 t0-1 t1-0 t1-1"), "C1": tps("t0-2 t1-2")}


def test_member_leaving_keeps_ranges_and_co_partitioning() -> None:
    members = [
        M("C0", BOTH, tuple(tps("t0-0 t0-1 t1-0 t1-1"))),
        M("C2", BOTH, tuple(tps("t0-4 t0-5 t1-4 t1-5"))),
    ]
    assert assign(members, {"t0": 6, "t1": 6}) == {
        "C0": tps("t0-0 t0-1 t0-2 t1-0 t1-1 t1-2"),
        "C2": tps("t0-3 t0-4 t0-5 t1-3 t1-4 t1-5"),
    }


def test_member_joining_takes_the_surplus() -> None:
    members = [
        M("C0", ("t",), tuple(tps("t-0 t-1 t-2"))),
        M("C1", ("t",), tuple(tps("t-3 t-4 t-5"))),
        M("C2", ("t",)),
    ]
    assert assign(members, {"t": 6}) == {"C0": tps("t-0 t-1"), "C1": tps("t-3 t-4"), "C2": tps("t-2 t-5")}


def test_member_owning_more_keeps_the_extra_partition() -> None:
    members = [M("C0", ("t",), tuple(tps("t-0 t-1"))), M("C1", ("t",), tuple(tps("t-2 t-3 t-4")))]
    assert assign(members, {"t": 5}) == {"C0": tps("t-0 t-1"), "C1": tps("t-2 t-3 t-4")}


def test_co_partitioned_numbers_follow_the_majority_owner() -> None:
    three = ("t0", "t1", "t2")
    members = [M("A", three, tuple(tps("t0-1 t1-1 t2-0 t2-1"))), M("B", three, tuple(tps("t0-0 t1-0")))]
    assert assign(members, dict.fromkeys(three, 2)) == {
        "A": tps("t0-1 t1-1 t2-1"),
        "B": tps("t0-0 t1-0 t2-0"),
    }


def test_topics_with_different_subscribers_are_ranged_separately() -> None:
    members = [M("C0", ("t0",)), M("C1", BOTH)]
    assert assign(members, {"t0": 2, "t1": 2}) == {"C0": tps("t0-0"), "C1": tps("t0-1 t1-0 t1-1")}
