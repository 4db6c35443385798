"""The classic sticky assignor on layouts written out by hand, including KIP-54's own examples."""

from __future__ import annotations

from assignor_layouts import tps

from odradek.coordinator.group.assignors.sticky import assign
from odradek.coordinator.group.assignors.types import MemberSubscription as M

FOUR_TOPICS = ("t0", "t1", "t2", "t3")


def test_kip54_balanced_then_sticky_when_a_member_leaves() -> None:
    counts = dict.fromkeys(FOUR_TOPICS, 2)
    first = assign([M("C0", FOUR_TOPICS), M("C1", FOUR_TOPICS), M("C2", FOUR_TOPICS)], counts)
    assert first == {
        "C0": tps("t0-0 t1-1 t3-0"),
        "C1": tps("t0-1 t2-0 t3-1"),
        "C2": tps("t1-0 t2-1"),
    }
    after = [
        M("C0", FOUR_TOPICS, tuple(first["C0"]), generation=1),
        M("C2", FOUR_TOPICS, tuple(first["C2"]), generation=1),
    ]
    assert assign(after, counts) == {"C0": tps("t0-0 t1-1 t2-0 t3-0"), "C2": tps("t0-1 t1-0 t2-1 t3-1")}


def test_kip54_unequal_subscriptions() -> None:
    counts = {"t0": 1, "t1": 2, "t2": 3}
    first = assign([M("C0", ("t0",)), M("C1", ("t0", "t1")), M("C2", ("t0", "t1", "t2"))], counts)
    assert first == {"C0": tps("t0-0"), "C1": tps("t1-0 t1-1"), "C2": tps("t2-0 t2-1 t2-2")}
    after = [
        M("C1", ("t0", "t1"), tuple(first["C1"]), generation=1),
        M("C2", ("t0", "t1", "t2"), tuple(first["C2"]), generation=1),
    ]
    assert assign(after, counts) == {"C1": tps("t0-0 t1-0 t1-1"), "C2": tps("t2-0 t2-1 t2-2")}


def test_member_joining_takes_only_the_surplus() -> None:
    counts = {"t0": 3, "t1": 3}
    members = [
        M("C0", ("t0", "t1"), tuple(tps("t0-0 t0-2 t1-1")), generation=1),
        M("C1", ("t0", "t1"), tuple(tps("t0-1 t1-0 t1-2")), generation=1),
        M("C2", ("t0", "t1")),
    ]
    assert assign(members, counts) == {
        "C0": tps("t0-0 t0-2"),
        "C1": tps("t0-1 t1-0"),
        "C2": tps("t1-1 t1-2"),
    }


def test_extra_partition_stays_with_the_member_that_has_it() -> None:
    # 7 partitions over 3 members: one gets 3. C2 owns 3 already, so it keeps them all.
    members = [
        M("C0", ("t",), tuple(tps("t-0 t-1")), generation=4),
        M("C1", ("t",), tuple(tps("t-2 t-3")), generation=4),
        M("C2", ("t",), tuple(tps("t-4 t-5 t-6")), generation=4),
    ]
    assert assign(members, {"t": 7}) == {"C0": tps("t-0 t-1"), "C1": tps("t-2 t-3"), "C2": tps("t-4 t-5 t-6")}


def test_newer_generation_wins_a_contested_partition() -> None:
    members = [
        M("A", ("t",), tuple(tps("t-0 t-1")), generation=2),  # missed the last rebalance
        M("B", ("t",), tuple(tps("t-0")), generation=3),
    ]
    assert assign(members, {"t": 2}) == {"A": tps("t-1"), "B": tps("t-0")}


def test_heterogeneous_chain_of_moves() -> None:
    # C joins and can only take t1, which B holds; B makes room by taking t0 from A.
    members = [
        M("A", ("t0",), tuple(tps("t0-0 t0-1 t0-2 t0-3")), generation=1),
        M("B", ("t0", "t1"), tuple(tps("t1-0 t1-1")), generation=1),
        M("C", ("t1",)),
    ]
    assert assign(members, {"t0": 4, "t1": 2}) == {
        "A": tps("t0-2 t0-3"),
        "B": tps("t0-0 t0-1"),
        "C": tps("t1-0 t1-1"),
    }
