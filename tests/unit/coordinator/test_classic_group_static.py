"""Static membership (KIP-345, KIP-814) in classic groups."""

from __future__ import annotations

from group_steps import classic, heartbeat, join, leave, sync

from odradek.coordinator.group import records as rec
from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.model.errors import ErrorCode
from odradek.testing.group_coordinator import GroupShardDriver

S = ClassicGroupState


def static_group(d: GroupShardDriver) -> tuple[str, str]:
    """A Stable generation-1 group of two static members, instance ids "ia" (leader) and "ib"."""
    wa = join(d, instance_id="ia", client_id="a")
    wb = join(d, instance_id="ib", client_id="b")
    d.advance(6_000)
    a, b = d.answer(wa).member_id, d.answer(wb).member_id
    assert a.startswith("ia-") and b.startswith("ib-")
    sb = sync(d, b, 1, instance_id="ib")
    sync(d, a, 1, {a: b"A", b: b"B"}, instance_id="ia")
    assert d.answer(sb).assignment == b"B"
    return a, b


def test_static_member_restart_replaces_it_without_rebalance() -> None:
    d = GroupShardDriver()
    a, b = static_group(d)
    records_before = len(d.records)
    answer = d.answer(join(d, instance_id="ib", client_id="b"))  # b restarts: no member id
    b2 = answer.member_id
    assert b2 != b and b2.startswith("ib-")
    assert (answer.error_code, answer.generation_id, answer.leader, answer.members) == (
        ErrorCode.NO_ERROR,
        1,
        a,
        [],
    )
    assert classic(d).state is S.STABLE and classic(d).generation_id == 1
    assert list(classic(d).members) == [a, b2]
    stored = d.records[records_before:]
    assert len(stored) == 1 and isinstance(stored[0].value, rec.GroupMetadataValue)
    assert [(m.member_id, m.group_instance_id, m.assignment) for m in stored[0].value.members] == [
        (a, "ia", b"A"),
        (b2, "ib", b"B"),
    ]
    assert stored[0].value.generation == 1
    # The new incarnation gets the old assignment; the old id is fenced everywhere.
    assert d.answer(sync(d, b2, 1, instance_id="ib")).assignment == b"B"
    assert heartbeat(d, b, 1, instance_id="ib") == ErrorCode.FENCED_INSTANCE_ID
    assert d.answer(sync(d, b, 1, instance_id="ib")).error_code == ErrorCode.FENCED_INSTANCE_ID
    assert d.answer(join(d, "g", b, instance_id="ib")).error_code == ErrorCode.FENCED_INSTANCE_ID
    assert leave(d, (b, "ib")).members[0].error_code == ErrorCode.FENCED_INSTANCE_ID
    assert heartbeat(d, b2, 1, instance_id="ib") == ErrorCode.NO_ERROR


def test_static_leader_restart_with_v9_gets_members_and_skips_assignment() -> None:
    d = GroupShardDriver()
    _a, b = static_group(d)
    answer = d.answer(join(d, instance_id="ia", client_id="a", version=9))
    a2 = answer.member_id
    assert (answer.leader, answer.skip_assignment, answer.generation_id) == (a2, True, 1)
    assert [m.member_id for m in answer.members] == [a2, b]
    assert classic(d).state is S.STABLE


def test_static_leader_restart_before_v9_is_told_the_old_leader() -> None:
    d = GroupShardDriver()
    a, _b = static_group(d)
    answer = d.answer(join(d, instance_id="ia", client_id="a", version=8))
    assert (answer.leader, answer.skip_assignment, answer.members) == (a, False, [])
    assert classic(d).leader_id == answer.member_id


def test_static_member_restart_with_new_subscription_rebalances() -> None:
    d = GroupShardDriver()
    a, _b = static_group(d)
    waiter = join(d, instance_id="ib", client_id="b", topics=("t", "new-topic"))
    assert d.answer(waiter) is None
    assert classic(d).state is S.PREPARING_REBALANCE
    wa = join(d, "g", a, instance_id="ia")
    assert d.answer(wa).generation_id == 2 and d.answer(waiter).generation_id == 2


def test_static_member_restart_during_completing_rebalance_rebalances_and_fences_parked_sync() -> None:
    d = GroupShardDriver()
    wa = join(d, instance_id="ia", client_id="a")
    wb = join(d, instance_id="ib", client_id="b")
    d.advance(6_000)
    b = d.answer(wb).member_id
    sb = sync(d, b, 1, instance_id="ib")
    assert d.answer(sb) is None
    waiter = join(d, instance_id="ib", client_id="b")
    assert d.answer(sb).error_code == ErrorCode.FENCED_INSTANCE_ID
    assert d.answer(waiter) is None
    assert classic(d).state is S.PREPARING_REBALANCE
    assert d.answer(wa).generation_id == 1


def test_static_members_that_do_not_rejoin_stay_in_the_group() -> None:
    d = GroupShardDriver()
    a, b = static_group(d)
    wa = join(d, "g", a, instance_id="ia", client_id="a", topics=("t", "u"))  # metadata change: rebalance
    for _ in range(10):
        d.advance(3_000)
        heartbeat(d, b, 1, instance_id="ib")
    answer = d.answer(wa)
    assert answer.generation_id == 2
    assert [m.member_id for m in answer.members] == [a, b]  # b did not rejoin but is static


def test_admin_removes_a_static_member_by_instance_id() -> None:
    d = GroupShardDriver()
    a, _b = static_group(d)
    response = leave(d, ("", "ib"), ("", "unknown"))
    assert [(m.member_id, m.group_instance_id, m.error_code) for m in response.members] == [
        ("", "ib", ErrorCode.NO_ERROR),
        ("", "unknown", ErrorCode.UNKNOWN_MEMBER_ID),
    ]
    assert list(classic(d).members) == [a]
    assert classic(d).state is S.PREPARING_REBALANCE


def test_group_rebuilt_from_records_keeps_static_members() -> None:
    d = GroupShardDriver()
    a, _b = static_group(d)
    b2 = d.answer(join(d, instance_id="ib", client_id="b")).member_id
    replayed = d.replayed().state.groups["g"]
    assert replayed.static_members == {"ia": a, "ib": b2}
    assert (replayed.state, replayed.generation_id, replayed.leader_id) == (S.STABLE, 1, a)
