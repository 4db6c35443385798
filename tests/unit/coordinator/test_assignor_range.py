"""The classic range assignor on layouts written out by hand (Kafka's RangeAssignor semantics)."""

from __future__ import annotations

from assignor_layouts import racks, tps

from odradek.coordinator.group.assignors.range import assign
from odradek.coordinator.group.assignors.types import MemberSubscription as M


def test_two_topics_of_three_partitions_over_two_members() -> None:
    members = [M("C1", ("t0", "t1")), M("C0", ("t0", "t1"))]
    assert assign(members, {"t0": 3, "t1": 3}) == {
        "C0": tps("t0-0 t0-1 t1-0 t1-1"),
        "C1": tps("t0-2 t1-2"),
    }


def test_three_members_six_and_seven_partitions() -> None:
    members = [M("C0", ("t",)), M("C1", ("t",)), M("C2", ("t",))]
    assert assign(members, {"t": 6}) == {"C0": tps("t-0 t-1"), "C1": tps("t-2 t-3"), "C2": tps("t-4 t-5")}
    assert assign(members, {"t": 7}) == {"C0": tps("t-0 t-1 t-2"), "C1": tps("t-3 t-4"), "C2": tps("t-5 t-6")}


def test_unequal_subscriptions() -> None:
    members = [M("C0", ("t0",)), M("C1", ("t0", "t1")), M("C2", ("t0", "t1", "t2"))]
    assert assign(members, {"t0": 3, "t1": 2, "t2": 3}) == {
        "C0": tps("t0-0"),
        "C1": tps("t0-1 t1-0"),
        "C2": tps("t0-2 t1-1 t2-0 t2-1 t2-2"),
    }


def test_member_leaving_and_joining() -> None:
    counts = {"t0": 3, "t1": 3}
    assert assign([M("C0", ("t0", "t1"))], counts) == {"C0": tps("t0-0 t0-1 t0-2 t1-0 t1-1 t1-2")}
    three = [M("C0", ("t0", "t1")), M("C1", ("t0", "t1")), M("C2", ("t0", "t1"))]
    assert assign(three, counts) == {"C0": tps("t0-0 t1-0"), "C1": tps("t0-1 t1-1"), "C2": tps("t0-2 t1-2")}


def test_static_members_first_by_instance_id() -> None:
    members = [M("C0", ("t",), instance_id="b"), M("C1", ("t",), instance_id="a"), M("C2", ("t",))]
    assert assign(members, {"t": 4}) == {"C1": tps("t-0 t-1"), "C0": tps("t-2"), "C2": tps("t-3")}


def test_missing_and_empty_topics_are_skipped() -> None:
    members = [M("C0", ("t", "gone", "empty")), M("C1", ("gone",))]
    assert assign(members, {"t": 2, "empty": 0}) == {"C0": tps("t-0 t-1"), "C1": []}
    assert assign([], {"t": 2}) == {}


def test_rack_aware_single_topic_follows_replica_racks() -> None:
    members = [M("C0", ("t0",), rack="a"), M("C1", ("t0",), rack="b")]
    assert assign(members, {"t0": 4}, racks("t0", "a", "b", "a", "b")) == {
        "C0": tps("t0-0 t0-2"),
        "C1": tps("t0-1 t0-3"),
    }


def test_rack_aware_co_partitioned_topics_move_together() -> None:
    members = [M("C0", ("t0", "t1"), rack="a"), M("C1", ("t0", "t1"), rack="b")]
    partition_racks = racks("t0", "b", "b", "a", "a") | racks("t1", "b", "b", "a", "a")
    assert assign(members, {"t0": 4, "t1": 4}, partition_racks) == {
        "C0": tps("t0-2 t0-3 t1-2 t1-3"),
        "C1": tps("t0-0 t0-1 t1-0 t1-1"),
    }


def test_co_partitioning_wins_over_rack_matching() -> None:
    members = [M("C0", ("t0", "t1"), rack="a"), M("C1", ("t0", "t1"), rack="b")]
    partition_racks = racks("t0", "a", "b", "a", "b") | racks("t1", "a", "a", "b", "b")
    assert assign(members, {"t0": 4, "t1": 4}, partition_racks) == {
        "C0": tps("t0-0 t0-1 t1-0 t1-1"),
        "C1": tps("t0-2 t0-3 t1-2 t1-3"),
    }


def test_rack_aware_keeps_range_counts_and_a_rackless_member_matches_anything() -> None:
    members = [M("C0", ("t0",), rack="b"), M("C1", ("t0",))]
    assert assign(members, {"t0": 3}, racks("t0", "a", "a", "b")) == {
        "C0": tps("t0-2"),
        "C1": tps("t0-0 t0-1"),
    }


def test_racks_are_ignored_when_every_partition_has_the_same_racks() -> None:
    members = [M("C0", ("t0",), rack="b"), M("C1", ("t0",), rack="a")]
    assert assign(members, {"t0": 3}, racks("t0", "ab", "ab", "ab")) == {
        "C0": tps("t0-0 t0-1"),
        "C1": tps("t0-2"),
    }
