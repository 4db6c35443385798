"""Every error a classic group answers, with what triggers it."""

from __future__ import annotations

import uuid

import pytest
from group_steps import heartbeat, join, leave, new_member, stable_group, sync

from odradek.coordinator.group.topics import StaticTopics
from odradek.model.errors import ErrorCode
from odradek.protocol.messages import consumer_group_heartbeat as cgh
from odradek.protocol.messages import leave_group as lvg
from odradek.testing.group_coordinator import GroupShardDriver, join_request


def join_error(d: GroupShardDriver, group: str = "g", member_id: str = "", **kw: object) -> ErrorCode:
    return ErrorCode(d.answer(join(d, group, member_id, **kw)).error_code)  # type: ignore[arg-type]


def test_invalid_group_id() -> None:
    d = GroupShardDriver()
    assert join_error(d, "") == ErrorCode.INVALID_GROUP_ID


@pytest.mark.parametrize("session_timeout_ms", [5_999, 1_800_001])
def test_invalid_session_timeout(session_timeout_ms: int) -> None:
    d = GroupShardDriver()
    assert join_error(d, session_timeout_ms=session_timeout_ms) == ErrorCode.INVALID_SESSION_TIMEOUT
    assert "g" not in d.shard.state.groups


@pytest.mark.parametrize("session_timeout_ms", [6_000, 1_800_000])
def test_session_timeout_bounds_are_inclusive(session_timeout_ms: int) -> None:
    d = GroupShardDriver()
    assert join_error(d, session_timeout_ms=session_timeout_ms) == ErrorCode.MEMBER_ID_REQUIRED


def test_unknown_member_id() -> None:
    d = GroupShardDriver()
    assert join_error(d, "g", "nobody") == ErrorCode.UNKNOWN_MEMBER_ID  # no such group
    a, _b = stable_group(d, 2)
    assert join_error(d, "g", "nobody") == ErrorCode.UNKNOWN_MEMBER_ID
    assert d.answer(sync(d, "nobody", 1)).error_code == ErrorCode.UNKNOWN_MEMBER_ID
    assert d.answer(sync(d, "x", 1, group="missing")).error_code == ErrorCode.UNKNOWN_MEMBER_ID
    assert heartbeat(d, "nobody", 1) == ErrorCode.UNKNOWN_MEMBER_ID
    assert heartbeat(d, a, 1, group="missing") == ErrorCode.UNKNOWN_MEMBER_ID
    assert leave(d, ("nobody", None)).members[0].error_code == ErrorCode.UNKNOWN_MEMBER_ID
    assert leave(d, (a, None), group="missing").error_code == ErrorCode.UNKNOWN_MEMBER_ID


def test_sync_to_an_empty_group_is_unknown_member() -> None:
    d = GroupShardDriver()
    join(d)  # creates the (Empty) group
    assert d.answer(sync(d, "x", 0)).error_code == ErrorCode.UNKNOWN_MEMBER_ID


def test_inconsistent_group_protocol() -> None:
    d = GroupShardDriver()
    assert (
        join_error(d, protocol_type="") == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    )  # Empty group: type needed
    assert join_error(d, protocols=()) == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    a, _b = stable_group(d, 2)
    assert join_error(d, protocol_type="connect") == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    assert join_error(d, protocols=("roundrobin",)) == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    assert join_error(d, "g", a, protocols=("roundrobin",)) == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    wrong_name = sync(d, a, 1, protocol_type="consumer", protocol_name="roundrobin")
    assert d.answer(wrong_name).error_code == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    wrong_type = sync(d, a, 1, protocol_type="connect", protocol_name="range")
    assert d.answer(wrong_type).error_code == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    right = sync(d, a, 1, protocol_type="consumer", protocol_name="range")
    assert d.answer(right).assignment == b"0"


def test_joining_a_consumer_protocol_group_is_inconsistent() -> None:
    topics = StaticTopics({"t": (uuid.UUID(int=1), 1)})
    d = GroupShardDriver(topics=topics)
    request = cgh.ConsumerGroupHeartbeatRequest(
        group_id="g",
        member_id="m",
        member_epoch=0,
        rebalance_timeout_ms=1000,
        subscribed_topic_names=["t"],
        topic_partitions=[],
    )
    assert d.call(d.shard.consumer_group_heartbeat, d.ctx(0), request).error_code == ErrorCode.NO_ERROR
    assert join_error(d) == ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    assert heartbeat(d, "m", 1) == ErrorCode.UNKNOWN_MEMBER_ID
    assert d.answer(sync(d, "m", 1)).error_code == ErrorCode.UNKNOWN_MEMBER_ID
    assert leave(d, ("m", None)).members[0].error_code == ErrorCode.UNKNOWN_MEMBER_ID


def test_member_id_required() -> None:
    d = GroupShardDriver()
    answer = d.answer(join(d, version=4))
    assert answer.error_code == ErrorCode.MEMBER_ID_REQUIRED
    assert answer.member_id in d.shard.state.groups["g"].pending_members


def test_group_max_size_reached() -> None:
    from odradek.coordinator.group.config import GroupCoordinatorConfig

    d = GroupShardDriver(GroupCoordinatorConfig(group_max_size=1))
    stable_group(d, 1)
    assert join_error(d, version=3) == ErrorCode.GROUP_MAX_SIZE_REACHED


def test_fenced_instance_id() -> None:
    d = GroupShardDriver()
    wa = join(d, instance_id="ia")
    d.advance(3_000)
    a = d.answer(wa).member_id
    assert heartbeat(d, "other-id", 1, instance_id="ia") == ErrorCode.FENCED_INSTANCE_ID
    assert heartbeat(d, a, 1, instance_id="unknown-instance") == ErrorCode.UNKNOWN_MEMBER_ID


def test_illegal_generation() -> None:
    d = GroupShardDriver()
    a, _b = stable_group(d, 2)
    assert heartbeat(d, a, 0) == ErrorCode.ILLEGAL_GENERATION
    assert heartbeat(d, a, 2) == ErrorCode.ILLEGAL_GENERATION
    assert d.answer(sync(d, a, 7)).error_code == ErrorCode.ILLEGAL_GENERATION


def test_rebalance_in_progress() -> None:
    d = GroupShardDriver()
    a, b = stable_group(d, 2)
    _c, _wc = new_member(d, client_id="c")
    assert heartbeat(d, a, 1) == ErrorCode.REBALANCE_IN_PROGRESS
    assert d.answer(sync(d, b, 1)).error_code == ErrorCode.REBALANCE_IN_PROGRESS


def test_leave_before_v3_answers_with_the_top_level_error() -> None:
    d = GroupShardDriver()
    a, b = stable_group(d, 2)
    old = d.call(d.shard.leave_group, d.ctx(2), lvg.LeaveGroupRequest(group_id="g", member_id="nobody"))
    assert (old.error_code, old.members) == (ErrorCode.UNKNOWN_MEMBER_ID, [])
    ok = d.call(d.shard.leave_group, d.ctx(2), lvg.LeaveGroupRequest(group_id="g", member_id=b))
    assert ok.error_code == ErrorCode.NO_ERROR
    assert list(d.shard.state.groups["g"].members) == [a]


def test_join_request_builder_defaults() -> None:
    request = join_request("g")
    assert (request.session_timeout_ms, request.rebalance_timeout_ms, request.protocol_type) == (
        10_000,
        30_000,
        "consumer",
    )
