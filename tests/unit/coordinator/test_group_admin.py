"""ListGroups, DescribeGroups, ConsumerGroupDescribe and DeleteGroups."""

from __future__ import annotations

from consumer_steps import T
from consumer_steps import driver as consumer_driver
from consumer_steps import heartbeat as consumer_heartbeat
from consumer_steps import join as consumer_join
from group_steps import join, leave, new_member, stable_group
from offset_steps import commit, fetch, fetched

from odradek.coordinator.group import records as rec
from odradek.model.errors import ErrorCode
from odradek.testing.group_coordinator import GroupShardDriver, subscription


def listed(
    d: GroupShardDriver, states: list[str] | None = None, types: list[str] | None = None
) -> list[tuple[str, ...]]:
    return sorted(
        (g.group_id, g.protocol_type, g.group_state, g.group_type)
        for g in d.shard.list_groups(states or [], types or [])
    )


def mixed() -> GroupShardDriver:
    d = consumer_driver()
    stable_group(d, 1, group="stable")
    new_member(d, "preparing")
    commit(d, {"t-0": 1}, group="simple")
    consumer_join(d, "m", group="kip848")
    return d


def test_list_groups_with_state_and_type_filters() -> None:
    d = mixed()
    assert listed(d) == [
        ("kip848", "consumer", "Stable", "consumer"),
        ("preparing", "consumer", "PreparingRebalance", "classic"),
        ("simple", "", "Empty", "classic"),
        ("stable", "consumer", "Stable", "classic"),
    ]
    assert [g[0] for g in listed(d, states=["stable"])] == ["kip848", "stable"]
    assert [g[0] for g in listed(d, states=[" EMPTY ", "preparingrebalance"])] == ["preparing", "simple"]
    assert [g[0] for g in listed(d, types=["Consumer"])] == ["kip848"]
    assert [g[0] for g in listed(d, states=["stable"], types=["classic"])] == ["stable"]
    assert listed(d, types=["share"]) == []


def test_describe_groups() -> None:
    d = mixed()
    stable, preparing, missing, kip848 = d.shard.describe_groups(
        d.ctx(5), ["stable", "preparing", "nope", "kip848"]
    )
    assert (stable.error_code, stable.group_state, stable.protocol_type, stable.protocol_data) == (
        0,
        "Stable",
        "consumer",
        "range",
    )
    [member] = stable.members
    assert (member.client_id, member.client_host, member.group_instance_id) == ("c0", "/127.0.0.1", None)
    assert (member.member_metadata, member.member_assignment) == (subscription("t"), b"0")
    assert (preparing.group_state, preparing.protocol_data) == ("PreparingRebalance", "")
    assert [(m.member_metadata, m.member_assignment) for m in preparing.members] == [(b"", b"")]
    assert (missing.error_code, missing.group_state) == (0, "Dead")
    assert (kip848.error_code, kip848.group_state) == (0, "Dead")  # not a classic group
    v6 = d.shard.describe_groups(d.ctx(6), ["nope"])[0]
    assert (v6.error_code, v6.error_message) == (ErrorCode.GROUP_ID_NOT_FOUND, "Group nope not found.")


def test_consumer_group_describe() -> None:
    d = consumer_driver()
    consumer_join(d, "a", instance_id="ia", client_id="ca")
    consumer_join(d, "b", client_id="cb")
    described, classic, missing = d.shard.consumer_group_describe(["g", "classic", "none"])
    assert (
        described.group_state,
        described.group_epoch,
        described.assignment_epoch,
        described.assignor_name,
    ) == (
        "Reconciling",
        2,
        2,
        "uniform",
    )
    a, b = described.members
    assert (a.member_id, a.instance_id, a.member_epoch, a.client_id, a.subscribed_topic_names) == (
        "a",
        "ia",
        1,
        "ca",
        ["t"],
    )
    assert [(tp.topic_id, tp.topic_name, tp.partitions) for tp in a.assignment.topic_partitions] == [
        (T, "t", [0, 1, 2, 3, 4, 5, 6])
    ]
    assert [(tp.topic_name, tp.partitions) for tp in a.target_assignment.topic_partitions] == [
        ("t", [0, 1, 2, 3])
    ]
    assert (b.member_epoch, b.assignment.topic_partitions) == (2, [])
    assert [(tp.topic_name, tp.partitions) for tp in b.target_assignment.topic_partitions] == [
        ("t", [4, 5, 6])
    ]
    assert classic.error_code == missing.error_code == ErrorCode.GROUP_ID_NOT_FOUND


def test_delete_groups() -> None:
    d = consumer_driver()
    stable_group(d, 1, group="live")
    (a,) = stable_group(d, 1, group="done")
    commit(d, {"t-0": 1, "t-1": 2}, group="done", generation=1, member_id=a)
    leave(d, (a, None), group="done")
    consumer_join(d, "m", group="kip848")
    consumer_heartbeat(d, "m", -1, group="kip848")
    before = len(d.records)
    results = d.call(d.shard.delete_groups, ["live", "done", "nope", "kip848"])
    assert [(r.group_id, r.error_code) for r in results] == [
        ("live", ErrorCode.NON_EMPTY_GROUP),
        ("done", ErrorCode.NO_ERROR),
        ("nope", ErrorCode.GROUP_ID_NOT_FOUND),
        ("kip848", ErrorCode.NO_ERROR),
    ]
    written = d.records[before:]
    assert written[:3] == [
        rec.offset_commit_tombstone("done", "t", 0),
        rec.offset_commit_tombstone("done", "t", 1),
        rec.group_metadata_tombstone("done"),
    ]
    assert [type(r.key).__name__ for r in written[3:]] == [
        "ConsumerGroupTargetAssignmentMetadataKey",
        "ConsumerGroupPartitionMetadataKey",
        "ConsumerGroupMetadataKey",
    ]
    assert all(r.value is None for r in written)
    assert set(d.shard.state.groups) == {"live"}
    assert fetched(fetch(d, ["t-0"], group="done"))["t-0"][0] == -1
    assert set(d.replayed().state.groups) == {"live"}


def test_deleted_group_id_can_be_joined_again() -> None:
    d = GroupShardDriver()
    join(d)
    d.call(d.shard.delete_groups, ["g"])
    assert "g" not in d.shard.state.groups
    assert d.answer(join(d)).error_code == ErrorCode.MEMBER_ID_REQUIRED
