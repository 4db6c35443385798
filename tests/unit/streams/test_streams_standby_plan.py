"""Standby placement is a pure function of the group: every instance computes the same plan."""

from __future__ import annotations

from odradek.streams.runtime.standby import instance_of, plan_standbys


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
