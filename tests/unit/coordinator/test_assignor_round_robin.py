"""The classic round robin assignor on layouts written out by hand."""

from __future__ import annotations

from assignor_layouts import tps

from odradek.coordinator.group.assignors.round_robin import assign
from odradek.coordinator.group.assignors.types import MemberSubscription as M


def test_two_topics_of_three_partitions_over_two_members() -> None:
    members = [M("C1", ("t0", "t1")), M("C0", ("t1", "t0"))]
    assert assign(members, {"t0": 3, "t1": 3}) == {
        "C0": tps("t0-0 t0-2 t1-1"),
        "C1": tps("t0-1 t1-0 t1-2"),
    }


def test_three_members_six_partitions() -> None:
    members = [M("C2", ("t",)), M("C0", ("t",)), M("C1", ("t",))]
    assert assign(members, {"t": 6}) == {"C0": tps("t-0 t-3"), "C1": tps("t-1 t-4"), "C2": tps("t-2 t-5")}


def test_unequal_subscriptions_skip_members_not_subscribed() -> None:
    # The example of Kafka's RoundRobinAssignor documentation.
    members = [M("C0", ("t0",)), M("C1", ("t0", "t1")), M("C2", ("t0", "t1", "t2"))]
    assert assign(members, {"t0": 1, "t1": 2, "t2": 3}) == {
        "C0": tps("t0-0"),
        "C1": tps("t1-0"),
        "C2": tps("t1-1 t2-0 t2-1 t2-2"),
    }


def test_member_joining_and_leaving() -> None:
    counts = {"t0": 3, "t1": 3}
    three = [M("C0", ("t0", "t1")), M("C1", ("t0", "t1")), M("C2", ("t0", "t1"))]
    assert assign(three, counts) == {"C0": tps("t0-0 t1-0"), "C1": tps("t0-1 t1-1"), "C2": tps("t0-2 t1-2")}
    assert assign(three[1:], counts) == {"C1": tps("t0-0 t0-2 t1-1"), "C2": tps("t0-1 t1-0 t1-2")}


def test_static_members_come_first() -> None:
    members = [M("C0", ("t",)), M("C1", ("t",), instance_id="z")]
    assert assign(members, {"t": 3}) == {"C1": tps("t-0 t-2"), "C0": tps("t-1")}
