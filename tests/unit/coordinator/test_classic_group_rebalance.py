"""Classic groups: the JoinGroup/SyncGroup dance, rebalances, and the persisted group metadata."""

from __future__ import annotations

from group_steps import classic, heartbeat, join, leave, new_member, stable_group, sync

from odradek.coordinator.group import records as rec
from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.coordinator.group.config import GroupCoordinatorConfig
from odradek.model.errors import ErrorCode
from odradek.testing.group_coordinator import START_MS, GroupShardDriver, subscription

S = ClassicGroupState


def group_records(d: GroupShardDriver) -> list[rec.GroupMetadataValue]:
    return [r.value for r in d.records if isinstance(r.key, rec.GroupMetadataKey) and r.value is not None]


def test_one_member_join_sync_dance() -> None:
    d = GroupShardDriver()
    first = d.answer(join(d))
    assert first.error_code == ErrorCode.MEMBER_ID_REQUIRED
    member_id = first.member_id
    assert member_id.startswith("client-") and len(member_id) == len("client-") + 36
    assert classic(d).state is S.EMPTY
    # The new group is persisted at once, empty.
    assert group_records(d) == [
        rec.GroupMetadataValue(
            protocol_type="",
            generation=0,
            protocol=None,
            leader=None,
            current_state_timestamp=START_MS,
            members=[],
        )
    ]

    waiter = join(d, "g", member_id)
    assert d.answer(waiter) is None
    assert classic(d).state is S.PREPARING_REBALANCE
    d.advance(2_999)
    assert d.answer(waiter) is None  # the initial rebalance delay is 3s
    d.advance(1)
    joined = d.answer(waiter)
    assert joined.error_code == ErrorCode.NO_ERROR
    assert (joined.generation_id, joined.leader, joined.member_id) == (1, member_id, member_id)
    assert (joined.protocol_type, joined.protocol_name, joined.skip_assignment) == (
        "consumer",
        "range",
        False,
    )
    assert [(m.member_id, m.group_instance_id, m.metadata) for m in joined.members] == [
        (member_id, None, subscription("t"))
    ]
    assert classic(d).state is S.COMPLETING_REBALANCE

    synced = d.answer(sync(d, member_id, 1, {member_id: b"assignment"}))
    assert (synced.error_code, synced.assignment) == (ErrorCode.NO_ERROR, b"assignment")
    assert (synced.protocol_type, synced.protocol_name) == ("consumer", "range")
    assert classic(d).state is S.STABLE
    stored = group_records(d)[-1]
    assert (stored.protocol_type, stored.generation, stored.protocol, stored.leader) == (
        "consumer",
        1,
        "range",
        member_id,
    )
    assert stored.current_state_timestamp == START_MS + 3_000
    assert [
        (m.member_id, m.client_id, m.client_host, m.session_timeout, m.rebalance_timeout)
        for m in stored.members
    ] == [(member_id, "client", "/127.0.0.1", 10_000, 30_000)]
    assert (stored.members[0].subscription, stored.members[0].assignment) == (
        subscription("t"),
        b"assignment",
    )


def test_three_members_form_one_generation_and_followers_wait_for_the_leader() -> None:
    d = GroupShardDriver()
    a, wa = new_member(d, client_id="a")
    d.advance(1_000)
    b, wb = new_member(d, client_id="b")
    d.advance(1_000)
    c, wc = new_member(d, client_id="c", topics=("t", "u"))
    d.advance(1_000)  # the initial delay expires, but a member joined meanwhile: wait another 3s
    assert [d.answer(w) for w in (wa, wb, wc)] == [None, None, None]
    d.advance(3_000)
    answers = [d.answer(w) for w in (wa, wb, wc)]
    assert [(r.generation_id, r.leader, r.member_id) for r in answers] == [(1, a, a), (1, a, b), (1, a, c)]
    assert [m.member_id for m in answers[0].members] == [a, b, c]
    assert answers[0].members[2].metadata == subscription("t", "u")
    assert answers[1].members == [] and answers[2].members == []

    sb, sc = sync(d, b, 1), sync(d, c, 1)
    assert d.answer(sb) is None and d.answer(sc) is None
    sa = sync(d, a, 1, {a: b"A", b: b"B", c: b"C", "stranger": b"X"})
    assert [d.answer(w).assignment for w in (sa, sb, sc)] == [b"A", b"B", b"C"]
    assert classic(d).state is S.STABLE
    assert [(m.member_id, m.assignment) for m in group_records(d)[-1].members] == [
        (a, b"A"),
        (b, b"B"),
        (c, b"C"),
    ]


def test_leader_missing_from_assignment_gets_empty_assignment() -> None:
    d = GroupShardDriver()
    a, b = stable_group(d, 2)
    assert classic(d).members[b].assignment == b"1"
    join(d, "g", a, client_id="c0")  # the leader rejoins: a new rebalance
    wb = join(d, "g", b, client_id="c1")
    assert d.answer(wb).generation_id == 2
    sb = sync(d, b, 2)
    sync(d, a, 2, {a: b"only-a"})
    assert d.answer(sb).assignment == b""


def test_join_before_v4_needs_no_member_id_round_trip() -> None:
    d = GroupShardDriver()
    waiter = join(d, version=3)
    assert d.answer(waiter) is None
    d.advance(3_000)
    answer = d.answer(waiter)
    assert answer.error_code == ErrorCode.NO_ERROR and answer.generation_id == 1
    assert answer.protocol_name == "range"


def test_v0_to_v6_answers_never_carry_null_protocol_names() -> None:
    d = GroupShardDriver()
    answer = d.answer(join(d, version=6))
    assert answer.error_code == ErrorCode.MEMBER_ID_REQUIRED
    assert answer.protocol_name == "" and answer.protocol_type is None
    assert d.answer(join(d, version=7)).protocol_name is None


def test_pending_member_id_expires_after_the_session_timeout() -> None:
    d = GroupShardDriver()
    _a, wa = new_member(d, client_id="a")
    pending = d.answer(join(d, client_id="b")).member_id
    assert classic(d).pending_members == {pending}
    d.advance(10_000)  # b never came back
    assert classic(d).pending_members == set()
    assert d.answer(wa).generation_id == 1
    assert d.answer(join(d, "g", pending)).error_code == ErrorCode.UNKNOWN_MEMBER_ID


def test_leave_triggers_a_rebalance_with_the_survivors() -> None:
    d = GroupShardDriver()
    a, b, c = stable_group(d, 3)
    response = leave(d, (b, None))
    assert [(m.member_id, m.error_code) for m in response.members] == [(b, ErrorCode.NO_ERROR)]
    assert classic(d).state is S.PREPARING_REBALANCE
    assert heartbeat(d, a, 1) == ErrorCode.REBALANCE_IN_PROGRESS
    assert heartbeat(d, b, 1) == ErrorCode.UNKNOWN_MEMBER_ID
    wa = join(d, "g", a, client_id="c0")
    assert d.answer(wa) is None
    wc = join(d, "g", c, client_id="c2")
    assert [(d.answer(w).generation_id, d.answer(w).leader) for w in (wa, wc)] == [(2, a), (2, a)]
    assert [m.member_id for m in d.answer(wa).members] == [a, c]


def test_session_timeout_removes_the_silent_member_and_rebalances() -> None:
    d = GroupShardDriver()
    a, b, c = stable_group(d, 3)
    for _ in range(3):
        d.advance(3_000)
        assert heartbeat(d, a, 1) == ErrorCode.NO_ERROR
        assert heartbeat(d, c, 1) == ErrorCode.NO_ERROR
    assert set(classic(d).members) == {a, b, c}
    d.advance(3_000)  # b's last sign of life was its SyncGroup, 12s ago: its 10s session expired
    assert set(classic(d).members) == {a, c}
    assert classic(d).state is S.PREPARING_REBALANCE
    assert heartbeat(d, a, 1) == ErrorCode.REBALANCE_IN_PROGRESS
    wa, wc = join(d, "g", a, client_id="c0"), join(d, "g", c, client_id="c2")
    assert [d.answer(w).generation_id for w in (wa, wc)] == [2, 2]


def test_rebalance_timeout_removes_members_that_did_not_rejoin() -> None:
    d = GroupShardDriver()
    a, b, c = stable_group(d, 3)
    wa = join(d, "g", a, client_id="c0")  # the leader asks for a rebalance
    wc = join(d, "g", c, client_id="c2")
    for _ in range(9):  # b keeps its session alive but never rejoins
        d.advance(3_000)
        assert heartbeat(d, b, 1) == ErrorCode.REBALANCE_IN_PROGRESS
    assert d.answer(wa) is None
    d.advance(3_000)  # 30s rebalance timeout
    assert [d.answer(w).generation_id for w in (wa, wc)] == [2, 2]
    assert [m.member_id for m in d.answer(wa).members] == [a, c]
    assert heartbeat(d, b, 1) == ErrorCode.UNKNOWN_MEMBER_ID


def test_leader_that_does_not_rejoin_is_replaced() -> None:
    d = GroupShardDriver()
    _a, b = stable_group(d, 2)
    wb = join(d, "g", b, client_id="c1", topics=("t", "other"))  # new metadata: rebalance
    d.advance(30_000)
    answer = d.answer(wb)
    assert (answer.generation_id, answer.leader) == (2, b)
    assert [m.member_id for m in answer.members] == [b]


def test_member_that_never_syncs_is_removed_and_a_new_rebalance_starts() -> None:
    d = GroupShardDriver()
    a, _wa = new_member(d, client_id="a")
    b, _wb = new_member(d, client_id="b")
    d.advance(6_000)
    sa = sync(d, a, 1, {a: b"A"})
    assert classic(d).state is S.STABLE and d.answer(sa).assignment == b"A"
    assert classic(d).pending_sync == {b}
    for _ in range(9):  # both keep their sessions, but b never sends SyncGroup
        d.advance(3_000)
        assert heartbeat(d, a, 1) == heartbeat(d, b, 1) == ErrorCode.NO_ERROR
    d.advance(3_000)  # the 30s rebalance timeout for SyncGroups
    assert set(classic(d).members) == {a}
    assert classic(d).state is S.PREPARING_REBALANCE


def test_members_rejoining_with_owned_partitions_and_a_second_leader_rebalance() -> None:
    """Cooperative rebalancing happens in the clients; the coordinator must run its two rounds."""
    d = GroupShardDriver()
    kw = {"protocols": ("cooperative-sticky",)}
    a, wa = new_member(d, client_id="a", **kw)
    d.advance(3_000)
    assert d.answer(wa).generation_id == 1
    sync(d, a, 1, {a: b"t-0,t-1"})
    b, wb = new_member(d, client_id="b", **kw)  # a new member: rebalance, a keeps its partitions meanwhile
    assert classic(d).state is S.PREPARING_REBALANCE
    assert heartbeat(d, a, 1) == ErrorCode.REBALANCE_IN_PROGRESS
    owned = subscription("t") + b"owned t-0,t-1"  # different metadata: what a cooperative member sends
    wa = join(d, "g", a, client_id="a", metadata=owned, **kw)
    assert [d.answer(w).generation_id for w in (wa, wb)] == [2, 2]
    assert d.answer(wa).members[0].metadata == owned
    sb = sync(d, b, 2)
    sync(d, a, 2, {a: b"t-0", b: b""})  # first round: t-1 revoked from a, given to nobody yet
    assert d.answer(sb).assignment == b""
    wa = join(d, "g", a, client_id="a", metadata=owned, **kw)  # the leader asks for the second round
    wb = join(d, "g", b, client_id="b", **kw)
    assert [d.answer(w).generation_id for w in (wa, wb)] == [3, 3]
    sb = sync(d, b, 3)
    sync(d, a, 3, {a: b"t-0", b: b"t-1"})
    assert d.answer(sb).assignment == b"t-1"
    assert classic(d).state is S.STABLE


def test_rebalance_during_completing_rebalance_answers_parked_syncs_with_rebalance_in_progress() -> None:
    d = GroupShardDriver()
    a, _wa = new_member(d, client_id="a")
    b, _wb = new_member(d, client_id="b")
    d.advance(6_000)
    sb = sync(d, b, 1)
    assert d.answer(sb) is None
    _c, _wc = new_member(d, client_id="c")  # a new member during CompletingRebalance
    answer = d.answer(sb)
    assert (answer.error_code, answer.assignment) == (ErrorCode.REBALANCE_IN_PROGRESS, b"")
    assert classic(d).state is S.PREPARING_REBALANCE
    assert d.answer(sync(d, a, 1)).error_code == ErrorCode.REBALANCE_IN_PROGRESS


def test_known_member_rejoining_in_completing_rebalance_with_same_metadata_gets_the_generation_again() -> (
    None
):
    d = GroupShardDriver()
    a, _wa = new_member(d, client_id="a")
    d.advance(3_000)
    again = d.answer(join(d, "g", a, client_id="a"))
    assert (again.generation_id, again.leader, [m.member_id for m in again.members]) == (1, a, [a])
    assert classic(d).state is S.COMPLETING_REBALANCE


def test_follower_rejoining_stable_group_unchanged_gets_current_generation_without_rebalance() -> None:
    d = GroupShardDriver()
    _a, b = stable_group(d, 2)
    again = d.answer(join(d, "g", b, client_id="c1"))
    assert (again.error_code, again.generation_id, again.members) == (ErrorCode.NO_ERROR, 1, [])
    assert classic(d).state is S.STABLE


def test_all_members_leaving_empties_the_group_and_persists_it() -> None:
    d = GroupShardDriver()
    a, b = stable_group(d, 2)
    d.advance(1_000)
    leave(d, (a, None), (b, None))
    assert classic(d).state is S.EMPTY
    assert classic(d).generation_id == 2
    last = group_records(d)[-1]
    assert (last.generation, last.protocol, last.leader, last.members) == (2, None, None, [])
    assert last.protocol_type == "consumer"
    assert last.current_state_timestamp == d.now


def test_group_max_size_is_enforced() -> None:
    d = GroupShardDriver(GroupCoordinatorConfig(group_max_size=2))
    stable_group(d, 2)
    refused = d.answer(join(d, client_id="c"))
    assert (refused.error_code, refused.member_id) == (ErrorCode.GROUP_MAX_SIZE_REACHED, "")


def test_group_max_size_counts_parked_members_during_a_rebalance() -> None:
    d = GroupShardDriver(GroupCoordinatorConfig(group_max_size=2))
    a, b = stable_group(d, 2)
    extra = d.answer(join(d, version=3, client_id="x"))
    assert extra.error_code == ErrorCode.GROUP_MAX_SIZE_REACHED
    assert d.answer(join(d, "g", a, client_id="c0")) is None  # a asks for a rebalance
    assert d.answer(join(d, "g", b, client_id="c1")).generation_id == 2
