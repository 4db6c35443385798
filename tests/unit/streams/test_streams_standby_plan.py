"""Standby placement is a pure function of the group: every instance computes the same plan."""

from __future__ import annotations

from odradek.streams.runtime.placement import instance_of, plan_standbys


def test_each_task_gets_replicas_on_the_next_instances_never_its_owner() -> None:
    owners = {"0_0": "a", "0_1": "b", "0_2": "c", "1_0": "a"}
    plan = plan_standbys(owners, ["c", "a", "b"], 1)
    assert plan == {"a": {"0_2"}, "b": {"0_0", "1_0"}, "c": {"0_1"}}
    two = plan_standbys(owners, ["a", "b", "c"], 2)
    assert two["a"] == {"0_1", "0_2"}
    for instance, tasks in two.items():
        assert not any(owners[t] == instance for t in tasks)


def test_no_more_copies_than_other_instances() -> None:
    assert plan_standbys({"0_0": "a"}, ["a", "b"], 5) == {"a": set(), "b": {"0_0"}}
    assert plan_standbys({"0_0": "a"}, ["a"], 1) == {"a": set()}
    assert plan_standbys({"0_0": "a"}, ["a", "b"], 0) == {"a": set(), "b": set()}


def test_instance_ids_come_from_client_ids() -> None:
    assert instance_of("app.3f2a@10.0.0.1:7070") == "app.3f2a"
    assert instance_of("app.3f2a") == "app.3f2a"


def test_restore_progress_bars() -> None:
    from odradek.streams.progress import bar, restore_lines

    assert bar(5, 10, width=10) == "[#####.....]  50.0%"
    metrics = {
        "threads": [
            {
                "tasks": {
                    "1_0": {"state": "restoring", "restored": 2500, "restore_total": 10_000},
                    "0_0": {"state": "running", "restored": None, "restore_total": None},
                }
            }
        ]
    }
    assert restore_lines(metrics) == [
        "restoring 1_0 [#######.......................]  25.0% (2,500 / 10,000 records)"
    ]


ZONES = {
    "a": {"zone": "eu-1a", "cluster": "k1"},
    "b": {"zone": "eu-1a", "cluster": "k2"},
    "c": {"zone": "eu-1b", "cluster": "k1"},
    "d": {"zone": "eu-1c", "cluster": "k2"},
}


def test_rack_aware_standbys_go_to_other_zones_first() -> None:
    from odradek.streams.runtime.placement import place_standbys

    ordered = sorted(ZONES)
    # without tags: the next instance (b), which shares a's zone
    assert place_standbys("a", ordered, 1) == ["b"]
    # by zone: b is in a's zone, c is the first in another
    assert place_standbys("a", ordered, 1, ZONES, ["zone"]) == ["c"]
    # by zone and cluster: d differs from a in both
    assert place_standbys("a", ordered, 1, ZONES, ["zone", "cluster"]) == ["d"]
    # two copies: d (zone and cluster new), then c (a zone not yet used) before b (a's zone)
    assert place_standbys("a", ordered, 2, ZONES, ["zone", "cluster"]) == ["d", "c"]
    # an instance without the tag counts as its own value; never the owner, never twice
    assert place_standbys("a", ordered, 5, {"a": {"zone": "z1"}}, ["zone"]) == ["b", "c", "d"]
    owners = {"0_0": "a", "0_1": "b", "0_2": "c", "0_3": "d"}
    plan = plan_standbys(owners, ordered, 1, ZONES, ["zone"])
    for instance, tasks in plan.items():
        for task in tasks:
            assert ZONES[instance]["zone"] != ZONES[owners[task]]["zone"]


def test_warm_up_moves_a_task_only_once_the_new_instance_caught_up() -> None:
    from odradek.streams.runtime.placement import plan_assignment

    tasks = ["0_0", "0_1", "0_2", "0_3"]
    owners = {"0_0": "a", "0_1": "a", "0_2": "b", "0_3": "b"}
    # c joins with no state: the balanced target gives it a task, which stays put meanwhile
    first = plan_assignment(tasks, ["a", "b", "c"], owners, {}, 0, max_warmup_replicas=1)
    moving = {t for t, i in first.target.items() if i == "c"}
    assert moving and first.active == owners  # nothing moved to the cold instance
    assert len(first.warmups["c"]) == 1 and first.warmups["c"] <= moving  # max.warmup.replicas = 1
    assert first.warmups["a"] == first.warmups["b"] == set()
    task = next(iter(first.warmups["c"]))
    # still 50,000 records behind: stays
    behind = plan_assignment(tasks, ["a", "b", "c"], owners, {"c": {task: 50_000}}, 0)
    assert behind.active[task] == owners[task]
    # within acceptable.recovery.lag: moves, and no warm-up any more for it
    caught_up = plan_assignment(
        tasks, ["a", "b", "c"], owners, {"c": {task: 20}}, 0, acceptable_recovery_lag=100
    )
    assert caught_up.active[task] == "c"
    assert task not in caught_up.warmups["c"]
    # stateless tasks need no warm-up
    free = plan_assignment(tasks, ["a", "b", "c"], owners, {}, 0, stateless=tasks)
    assert {i for i in free.active.values()} == {"a", "b", "c"}
    assert all(not w for w in free.warmups.values())


def test_warm_up_uses_a_standby_slot_and_a_lost_owner_goes_to_the_most_caught_up() -> None:
    from odradek.streams.runtime.placement import plan_assignment

    tasks = ["0_0", "0_1"]
    owners = {"0_0": "a", "0_1": "a"}
    plan = plan_assignment(tasks, ["a", "b"], owners, {}, 1)
    moved = [t for t, i in plan.target.items() if i == "b"]
    assert len(moved) == 1 and plan.active[moved[0]] == "a"
    assert moved[0] in plan.standbys["b"] and not plan.warmups["b"]  # the standby is the warm-up
    # the owner a is gone; c is closer than b: c takes over now, b is the balanced target
    lost = plan_assignment(
        ["0_0"], ["b", "c"], {"0_0": "a"}, {"b": {"0_0": 9_000_000}, "c": {"0_0": 50_000}}, 0
    )
    assert lost.active["0_0"] == "c"
    # nobody has any state: the target takes it at once (restoring from the changelog)
    cold = plan_assignment(["0_0"], ["b", "c"], {"0_0": "a"}, {}, 0)
    assert cold.active["0_0"] == cold.target["0_0"]


def test_client_tags_travel_in_the_client_id_and_are_checked() -> None:
    import pytest

    from odradek.streams import StreamsBuilder, StreamsException
    from odradek.streams.runtime.kafka_streams import KafkaStreams
    from odradek.streams.runtime.placement import format_client_id, parse_client_id

    cid = format_client_id("app.3f2a", "10.0.0.1:7070", {"zone": "eu-1a", "cluster": "k1"})
    assert cid == "app.3f2a@10.0.0.1:7070#cluster=k1,zone=eu-1a"
    assert parse_client_id(cid) == ("app.3f2a", "10.0.0.1:7070", {"zone": "eu-1a", "cluster": "k1"})
    assert parse_client_id("app.3f2a#zone=z") == ("app.3f2a", None, {"zone": "z"})
    assert instance_of(cid) == "app.3f2a"
    b = StreamsBuilder()
    b.stream("in").to("out")
    base = {"application.id": "app", "bootstrap.servers": "127.0.0.1:1"}
    streams = KafkaStreams(b.build(), {**base, "client.tag.zone": "z1", "rack.aware.assignment.tags": "zone"})
    assert streams.client_id.endswith("#zone=z1") and streams.rack_aware_tags == ["zone"]
    with pytest.raises(StreamsException, match="not a client tag"):
        KafkaStreams(b.build(), {**base, "rack.aware.assignment.tags": "zone"})
    with pytest.raises(StreamsException, match="cannot contain"):
        KafkaStreams(b.build(), {**base, "client.tag.zone": "a,b"})
