"""The KIP-848 server-side uniform assignor on layouts written out by hand."""

from __future__ import annotations

from assignor_layouts import tps

from odradek.coordinator.group.assignors.types import MemberSubscription as M
from odradek.coordinator.group.assignors.uniform import assign


def test_new_group_deals_partitions_evenly() -> None:
    members = [M("m2", ("t",)), M("m0", ("t",)), M("m1", ("t",))]
    assert assign(members, {"t": 6}) == {"m0": tps("t-0 t-3"), "m1": tps("t-1 t-4"), "m2": tps("t-2 t-5")}


def test_two_topics_over_two_members() -> None:
    members = [M("C0", ("t0", "t1")), M("C1", ("t0", "t1"))]
    assert assign(members, {"t0": 3, "t1": 3}) == {"C0": tps("t0-0 t0-2 t1-1"), "C1": tps("t0-1 t1-0 t1-2")}


def test_different_subscriptions_balance_over_shared_topics() -> None:
    members = [M("A", ("t0",)), M("B", ("t0", "t1"))]
    assert assign(members, {"t0": 4, "t1": 2}) == {"A": tps("t0-0 t0-1 t0-2"), "B": tps("t0-3 t1-0 t1-1")}


def test_member_joining_moves_only_what_balance_needs() -> None:
    members = [
        M("m0", ("t",), tuple(tps("t-0 t-1 t-2 t-3"))),
        M("m1", ("t",), tuple(tps("t-4 t-5 t-6 t-7"))),
        M("m2", ("t",)),
    ]
    assert assign(members, {"t": 8}) == {
        "m0": tps("t-0 t-1 t-2"),
        "m1": tps("t-4 t-5 t-6"),
        "m2": tps("t-3 t-7"),
    }


def test_member_leaving_moves_nothing_else() -> None:
    members = [M("m0", ("t",), tuple(tps("t-0 t-3"))), M("m2", ("t",), tuple(tps("t-2 t-5")))]
    assert assign(members, {"t": 6}) == {"m0": tps("t-0 t-1 t-3"), "m2": tps("t-2 t-4 t-5")}


def test_generations_are_ignored() -> None:
    # The broker keeps one current assignment: a partition in two of them is nobody's.
    members = [
        M("A", ("t",), tuple(tps("t-0")), generation=5),
        M("B", ("t",), tuple(tps("t-0 t-1")), generation=1),
    ]
    assert assign(members, {"t": 3}) == {"A": tps("t-0"), "B": tps("t-1 t-2")}
