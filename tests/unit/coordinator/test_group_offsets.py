"""OffsetCommit, OffsetFetch and OffsetDelete, for simple, classic and KIP-848 groups."""

from __future__ import annotations

import uuid

from consumer_steps import T
from consumer_steps import driver as consumer_driver
from consumer_steps import heartbeat as consumer_heartbeat
from consumer_steps import join as consumer_join
from group_steps import classic, heartbeat, join, new_member, stable_group
from offset_steps import commit, delete_offsets, end_transaction, fetch, fetched, transactional_commit

from odradek.coordinator.group import records as rec
from odradek.coordinator.group.classic_group import ClassicGroup
from odradek.coordinator.group.classic_rebalance import heartbeat_key
from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.coordinator.group.errors import GroupError
from odradek.coordinator.group.offset_commit import _validate_commit
from odradek.coordinator.group.state import Op
from odradek.coordinator.group.topics import StaticTopics
from odradek.model.errors import ErrorCode
from odradek.protocol.messages import offset_commit as oc
from odradek.protocol.messages import offset_fetch as of
from odradek.testing.group_coordinator import GroupShardDriver

OK = ErrorCode.NO_ERROR


def test_simple_commit_creates_a_group_and_fetch_reads_it_back() -> None:
    d = GroupShardDriver()
    assert commit(d, {"t-0": 5, "t-1": 7}, metadata="meta", leader_epoch=3) == {"t-0": OK, "t-1": OK}
    group = classic(d)
    assert (group.state, group.protocol_type) == (ClassicGroupState.EMPTY, None)
    assert fetched(fetch(d, ["t-0", "t-1", "t-2"])) == {
        "t-0": (5, 3, "meta", OK),
        "t-1": (7, 3, "meta", OK),
        "t-2": (-1, -1, "", OK),
    }
    assert [r.value for r in d.records] == [
        rec.OffsetCommitValue(
            offset=5, leader_epoch=3, metadata="meta", commit_timestamp=d.now, expire_timestamp=-1
        ),
        rec.OffsetCommitValue(
            offset=7, leader_epoch=3, metadata="meta", commit_timestamp=d.now, expire_timestamp=-1
        ),
    ]


def test_fetch_all_and_unknown_groups() -> None:
    d = GroupShardDriver()
    commit(d, {"u-1": 1, "t-0": 2, "t-1": 3}, metadata=None)
    assert fetched(fetch(d, None)) == {"t-0": (2, -1, "", OK), "t-1": (3, -1, "", OK), "u-1": (1, -1, "", OK)}
    assert fetch(d, None, group="nobody").topics == []
    assert fetched(fetch(d, ["t-0"], group="nobody")) == {"t-0": (-1, -1, "", OK)}


def test_later_commit_overwrites() -> None:
    d = GroupShardDriver()
    commit(d, {"t-0": 5})
    commit(d, {"t-0": 9})
    assert fetched(fetch(d, ["t-0"]))["t-0"][0] == 9


def test_metadata_too_large_refuses_only_that_partition() -> None:
    d = GroupShardDriver()
    assert commit(d, {"t-0": 1}, metadata="x" * 4_097) == {"t-0": ErrorCode.OFFSET_METADATA_TOO_LARGE}
    assert commit(d, {"t-0": 1}, metadata="x" * 4_096) == {"t-0": OK}


def test_invalid_group_id() -> None:
    d = GroupShardDriver()
    assert commit(d, {"t-0": 1}, group="") == {"t-0": ErrorCode.INVALID_GROUP_ID}


def test_commit_with_a_generation_to_a_missing_group() -> None:
    d = GroupShardDriver()
    assert commit(d, {"t-0": 1}, generation=1, member_id="m", version=9) == {
        "t-0": ErrorCode.GROUP_ID_NOT_FOUND
    }
    assert commit(d, {"t-0": 1}, generation=1, member_id="m", version=8) == {
        "t-0": ErrorCode.ILLEGAL_GENERATION
    }
    assert "g" not in d.shard.state.groups


def test_classic_member_commits_are_checked() -> None:
    d = GroupShardDriver()
    a, b = stable_group(d, 2)
    assert commit(d, {"t-0": 1}, generation=1, member_id=a) == {"t-0": OK}
    assert commit(d, {"t-0": 1}, generation=2, member_id=a) == {"t-0": ErrorCode.ILLEGAL_GENERATION}
    assert commit(d, {"t-0": 1}, generation=1, member_id="x") == {"t-0": ErrorCode.UNKNOWN_MEMBER_ID}
    assert commit(d, {"t-0": 1}) == {"t-0": ErrorCode.UNKNOWN_MEMBER_ID}  # generation -1 to a live group
    assert commit(d, {"t-0": 1}, generation=1, member_id=a, instance_id="i") == {
        "t-0": ErrorCode.UNKNOWN_MEMBER_ID
    }
    _c, _wc = new_member(d, client_id="c")  # PreparingRebalance: members may still commit
    assert commit(d, {"t-0": 2}, generation=1, member_id=a) == {"t-0": OK}
    join(d, "g", a, client_id="c0")
    join(d, "g", b, client_id="c1")
    assert classic(d).state is ClassicGroupState.COMPLETING_REBALANCE
    assert commit(d, {"t-0": 3}, generation=2, member_id=a) == {"t-0": ErrorCode.REBALANCE_IN_PROGRESS}
    assert fetched(fetch(d, ["t-0"]))["t-0"][0] == 2


def test_static_member_commit_with_a_stale_member_id_is_fenced() -> None:
    d = GroupShardDriver()
    wa = join(d, instance_id="ia")
    d.advance(3_000)
    a = d.answer(wa).member_id
    assert commit(d, {"t-0": 1}, generation=1, member_id="old", instance_id="ia") == {
        "t-0": ErrorCode.FENCED_INSTANCE_ID
    }
    assert commit(d, {"t-0": 1}, generation=1, member_id=a, instance_id="ia") == {
        "t-0": ErrorCode.REBALANCE_IN_PROGRESS
    }


def test_commit_counts_as_a_heartbeat_of_a_classic_member() -> None:
    d = GroupShardDriver()
    (a,) = stable_group(d, 1)
    for _ in range(5):
        d.advance(8_000)
        assert commit(d, {"t-0": 1}, generation=1, member_id=a) == {"t-0": OK}
    assert heartbeat(d, a, 1) == OK  # 40s without a heartbeat, but the commits kept the session


def expected_commit_answer(d: GroupShardDriver, request: oc.OffsetCommitRequest) -> ErrorCode:
    """What the general checks (`_validate_commit`) answer, asked without changing the state."""
    try:
        _validate_commit(Op(d.shard.state, d.now), 9, request)
    except GroupError as e:
        return e.code
    return OK


def test_a_stable_members_commit_is_checked_as_every_commit_is() -> None:
    """The shortcut for a stable classic group's member at its generation (`offset_commit`) answers
    exactly what `_validate_commit` decides, for every mix of generation, member and instance id,
    and moves the member's session timer only on the commits it accepts."""
    d = GroupShardDriver()
    a, b = stable_group(d, 2)
    state = d.shard.state
    for generation in (-1, 0, 1, 2):
        for member in (a, b, "x", ""):
            for instance in (None, "i"):
                request = oc.OffsetCommitRequest(
                    "g", generation, member, instance, topics=[oc.OffsetCommitRequestTopic("t")]
                )
                expected = expected_commit_answer(d, request)
                d.now += 1
                before = {m: state.timers.deadline(heartbeat_key(classic(d), m)) for m in (a, b)}
                got = commit(d, {"t-0": 7}, generation=generation, member_id=member, instance_id=instance)
                assert got == {"t-0": expected}, (generation, member, instance)
                after = {m: state.timers.deadline(heartbeat_key(classic(d), m)) for m in (a, b)}
                moved = {m for m in (a, b) if after[m] != before[m]}
                assert moved == ({member} if expected is OK else set()), (generation, member, instance)
    assert classic(d).state is ClassicGroupState.STABLE


def test_a_simple_commit_to_an_empty_group_is_checked_as_every_commit_is() -> None:
    """The shortcut for a commit without membership (generation -1) to an Empty classic group answers
    what `_validate_commit` decides, and the empty group id stays refused even if a group of that
    id exists (loaded from a log Kafka wrote)."""
    d = GroupShardDriver()
    for group in ("g", ""):
        d.shard.state.groups[group] = ClassicGroup(group)
        for generation in (-2, -1, 0, 1):
            for member in ("", "x"):
                for instance in (None, "i"):
                    request = oc.OffsetCommitRequest(
                        group, generation, member, instance, topics=[oc.OffsetCommitRequestTopic("t")]
                    )
                    expected = expected_commit_answer(d, request)
                    got = commit(
                        d,
                        {"t-0": 7},
                        group=group,
                        generation=generation,
                        member_id=member,
                        instance_id=instance,
                    )
                    assert got == {"t-0": expected}, (group, generation, member, instance)
    assert fetched(fetch(d, ["t-0"]))["t-0"][0] == 7
    assert classic(d).state is ClassicGroupState.EMPTY


def test_consumer_group_commits_are_checked_by_member_epoch() -> None:
    d = consumer_driver()
    consumer_join(d, "a")
    assert commit(d, {"t-0": 1}, generation=1, member_id="a") == {"t-0": OK}
    assert commit(d, {"t-0": 1}, generation=2, member_id="a") == {"t-0": ErrorCode.STALE_MEMBER_EPOCH}
    assert commit(d, {"t-0": 1}, generation=1, member_id="b") == {"t-0": ErrorCode.UNKNOWN_MEMBER_ID}
    assert commit(d, {"t-0": 1}, generation=1, member_id="a", version=8) == {
        "t-0": ErrorCode.UNSUPPORTED_VERSION
    }
    assert commit(d, {"t-0": 1}) == {"t-0": ErrorCode.UNKNOWN_MEMBER_ID}
    consumer_heartbeat(d, "a", -1)
    assert commit(d, {"t-0": 4}) == {"t-0": OK}  # no members left: simple commits are fine
    fetch_ok = fetch(d, ["t-0"], member_id=None, member_epoch=-1)
    assert fetched(fetch_ok)["t-0"][0] == 4


def test_consumer_member_fetch_is_checked() -> None:
    d = consumer_driver()
    consumer_join(d, "a")
    assert fetch(d, ["t-0"], member_id="a", member_epoch=1).error_code == OK
    assert fetch(d, ["t-0"], member_id="a", member_epoch=0).error_code == ErrorCode.STALE_MEMBER_EPOCH
    assert fetch(d, ["t-0"], member_id="b", member_epoch=1).error_code == ErrorCode.UNKNOWN_MEMBER_ID


def test_topic_ids_in_v10() -> None:
    other = uuid.UUID(int=99)
    d = GroupShardDriver(topics=StaticTopics({"t": (T, 3)}))
    result = commit(d, {"x-0": 1, "y-1": 2}, version=10, topic_ids={"x": T, "y": other})
    assert result == {"x-0": OK, "y-1": ErrorCode.UNKNOWN_TOPIC_ID}
    assert fetched(fetch(d, ["t-0"]))["t-0"][0] == 1  # stored under the topic's name
    request = of.OffsetFetchRequestGroup(
        group_id="g",
        topics=[
            of.OffsetFetchRequestTopics(topic_id=T, partition_indexes=[0]),
            of.OffsetFetchRequestTopics(topic_id=other, partition_indexes=[1]),
        ],
    )
    response = d.shard.offset_fetch(d.ctx(10), request, False)
    assert [
        (t.topic_id, [(p.committed_offset, p.error_code) for p in t.partitions]) for t in response.topics
    ] == [
        (T, [(1, OK)]),
        (other, [(-1, ErrorCode.UNKNOWN_TOPIC_ID)]),
    ]


def test_old_per_offset_retention_is_stored_as_expire_timestamp() -> None:
    d = GroupShardDriver()
    commit(d, {"t-0": 1}, version=2, retention_time_ms=1_000)
    assert d.records[-1].value.expire_timestamp == d.now + 1_000


def test_pending_transactional_offsets_make_fetch_unstable_until_the_marker() -> None:
    d = GroupShardDriver()
    commit(d, {"t-0": 1})
    transactional_commit(d, producer_id=7, group="g", tp="t-0", offset=10)
    assert fetched(fetch(d, ["t-0"]))["t-0"] == (1, -1, "", OK)
    assert fetched(fetch(d, ["t-0"], require_stable=True))["t-0"] == (
        -1,
        -1,
        "",
        ErrorCode.UNSTABLE_OFFSET_COMMIT,
    )
    end_transaction(d, 7, committed=True)
    assert fetched(fetch(d, ["t-0"], require_stable=True))["t-0"] == (10, -1, "", OK)


def test_aborted_transactional_offsets_vanish_and_later_plain_commits_win() -> None:
    d = GroupShardDriver()
    transactional_commit(d, producer_id=7, group="g", tp="t-0", offset=10)
    end_transaction(d, 7, committed=False)
    assert fetched(fetch(d, ["t-0"], require_stable=True))["t-0"] == (-1, -1, "", OK)
    transactional_commit(d, producer_id=8, group="g", tp="t-0", offset=20)
    commit(d, {"t-0": 30})  # written after the transactional offset
    end_transaction(d, 8, committed=True)
    assert fetched(fetch(d, ["t-0"]))["t-0"][0] == 30


def test_offset_delete() -> None:
    d = GroupShardDriver()
    assert delete_offsets(d, ["t-0"]).error_code == ErrorCode.GROUP_ID_NOT_FOUND
    a, _b = stable_group(d, 2)  # subscribed to "t" (the consumer protocol's subscription)
    commit(d, {"t-0": 1, "old-0": 2, "old-1": 3}, generation=1, member_id=a)
    response = delete_offsets(d, ["t-0", "old-0", "gone-5"])
    assert response.error_code == OK
    assert [(t.name, [(p.partition_index, p.error_code) for p in t.partitions]) for t in response.topics] == [
        ("t", [(0, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC)]),
        ("old", [(0, OK)]),
        ("gone", [(5, OK)]),
    ]
    assert d.records[-1] == rec.offset_commit_tombstone("g", "old", 0)
    assert fetched(fetch(d, None)) == {"old-1": (3, -1, "", OK), "t-0": (1, -1, "", OK)}


def test_offset_delete_refused_for_a_live_group_of_another_protocol() -> None:
    d = GroupShardDriver()
    stable_group(d, 1, protocol_type="connect")
    assert delete_offsets(d, ["t-0"]).error_code == ErrorCode.NON_EMPTY_GROUP


def test_offset_delete_in_a_consumer_group_protects_subscribed_topics() -> None:
    d = consumer_driver({"t": (T, 1), "u": (uuid.UUID(int=2), 1)})
    consumer_join(d, "a")
    commit(d, {"t-0": 1, "u-0": 2}, generation=1, member_id="a")
    errors = [p.error_code for t in delete_offsets(d, ["t-0", "u-0"]).topics for p in t.partitions]
    assert errors == [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, OK]
