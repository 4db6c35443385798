"""KIP-848 groups: epochs, server-side assignment, reconciliation, and their errors."""

from __future__ import annotations

import pytest
from consumer_steps import T, U, driver, group, heartbeat, join, members, parts, targets

from odradek.coordinator.group import records as rec
from odradek.coordinator.group.config import GroupCoordinatorConfig
from odradek.coordinator.group.consumer_group import ConsumerGroupState
from odradek.coordinator.group.topics import StaticTopics
from odradek.model.errors import ErrorCode
from odradek.testing.group_coordinator import GroupShardDriver

G = ConsumerGroupState


def three_members(assignor: str) -> GroupShardDriver:
    """a, b, c join while topic t does not exist; then t appears with 7 partitions."""
    topics = StaticTopics({})
    d = GroupShardDriver(topics=topics)
    for member, epoch in zip("abc", (1, 2, 3), strict=True):
        response = join(d, member, assignor=assignor)
        assert (response.error_code, response.member_id, response.member_epoch, parts(response)) == (
            0,
            member,
            epoch,
            [],
        )
        assert response.heartbeat_interval_ms == 5_000
    # a and b have not heartbeated since the epoch moved on (with nothing to assign yet).
    assert (group(d).group_epoch, group(d).assignment_epoch, group(d).state) == (3, 3, G.RECONCILING)
    topics.set("t", T, 7)
    return d


@pytest.mark.parametrize(
    ("assignor", "expected"),
    [
        ("uniform", {"a": ["t-0", "t-3", "t-6"], "b": ["t-1", "t-4"], "c": ["t-2", "t-5"]}),
        ("range", {"a": ["t-0", "t-1", "t-2"], "b": ["t-3", "t-4"], "c": ["t-5", "t-6"]}),
    ],
)
def test_three_members_get_the_assignors_target(assignor: str, expected: dict[str, list[str]]) -> None:
    d = three_members(assignor)
    first = heartbeat(d, "a", 1, [])
    assert group(d).group_epoch == 4  # the new topic's metadata bumped the epoch
    assert (first.member_epoch, parts(first)) == (4, expected["a"])
    assert targets(d) == expected
    assert group(d).state is G.RECONCILING
    for member, epoch in (("b", 2), ("c", 3)):
        response = heartbeat(d, member, epoch, [])
        assert (response.member_epoch, parts(response)) == (4, expected[member])
    assert group(d).state is G.STABLE
    assert members(d) == {m: (4, "STABLE", expected[m], []) for m in "abc"}
    assert heartbeat(d, "a", 4, expected["a"]).assignment is None  # nothing changed: no assignment sent


def test_member_leaving_gives_its_partitions_to_the_others() -> None:
    d = three_members("uniform")
    for member, epoch in (("a", 1), ("b", 2), ("c", 3)):
        heartbeat(d, member, epoch, [])
    left = heartbeat(d, "c", -1)
    assert (left.error_code, left.member_id, left.member_epoch) == (0, "c", -1)
    assert set(group(d).members) == {"a", "b"}
    assert group(d).group_epoch == 5 and group(d).state is G.ASSIGNING
    a = heartbeat(d, "a", 4, ["t-0", "t-3", "t-6"])
    assert (a.member_epoch, parts(a)) == (5, ["t-0", "t-3", "t-5", "t-6"])
    b = heartbeat(d, "b", 4, ["t-1", "t-4"])
    assert (b.member_epoch, parts(b)) == (5, ["t-1", "t-2", "t-4"])
    assert group(d).state is G.STABLE


def test_a_new_member_gets_partitions_only_after_their_owner_revoked_them() -> None:
    d = driver()
    a = join(d, "a")
    assert (a.member_epoch, parts(a)) == (1, [f"t-{p}" for p in range(7)])
    b = join(d, "b")
    assert (b.member_epoch, parts(b)) == (2, [])  # its target partitions still belong to a
    assert targets(d) == {"a": ["t-0", "t-1", "t-2", "t-3"], "b": ["t-4", "t-5", "t-6"]}
    assert members(d)["b"] == (2, "UNRELEASED_PARTITIONS", [], [])
    everything = [f"t-{p}" for p in range(7)]
    a = heartbeat(d, "a", 1, everything)
    # a must revoke first: it stays at epoch 1 with what it keeps.
    assert (a.member_epoch, parts(a)) == (1, ["t-0", "t-1", "t-2", "t-3"])
    assert members(d)["a"] == (1, "UNREVOKED_PARTITIONS", ["t-0", "t-1", "t-2", "t-3"], ["t-4", "t-5", "t-6"])
    assert parts(heartbeat(d, "b", 2, [])) is None  # still nothing for b
    assert heartbeat(d, "a", 1, everything).assignment is None  # a still owns them: it waits
    a = heartbeat(d, "a", 1, ["t-0", "t-1", "t-2", "t-3"])  # revoked
    assert (a.member_epoch, a.assignment) == (2, None)
    b = heartbeat(d, "b", 2, [])
    assert (b.member_epoch, parts(b)) == (2, ["t-4", "t-5", "t-6"])
    assert members(d) == {
        "a": (2, "STABLE", ["t-0", "t-1", "t-2", "t-3"], []),
        "b": (2, "STABLE", ["t-4", "t-5", "t-6"], []),
    }


def test_member_that_does_not_revoke_within_its_rebalance_timeout_is_fenced() -> None:
    d = driver()
    join(d, "a")
    join(d, "b")
    heartbeat(d, "a", 1, [f"t-{p}" for p in range(7)])
    assert members(d)["a"][1] == "UNREVOKED_PARTITIONS"
    for _ in range(5):  # sessions stay alive, but a never revokes
        d.advance(5_000)
        heartbeat(d, "b", 2, [])
        heartbeat(d, "a", 1, [f"t-{p}" for p in range(7)])
    d.advance(5_000)  # 30s rebalance timeout
    assert set(group(d).members) == {"b"}
    assert group(d).group_epoch == 3
    assert heartbeat(d, "a", 1).error_code == ErrorCode.UNKNOWN_MEMBER_ID
    b = heartbeat(d, "b", 2, [])
    assert (b.member_epoch, parts(b)) == (3, [f"t-{p}" for p in range(7)])


def test_session_timeout_fences_the_member() -> None:
    d = driver()
    join(d, "a")
    join(d, "b")
    for _ in range(8):
        d.advance(5_000)
        heartbeat(d, "b", 2, [])
    assert set(group(d).members) == {"a", "b"}
    d.advance(5_000)  # a's 45s session expired
    assert set(group(d).members) == {"b"}
    assert group(d).group_epoch == 3
    assert [type(r.key).__name__ for r in d.records[-4:]] == [
        "ConsumerGroupCurrentMemberAssignmentKey",
        "ConsumerGroupTargetAssignmentMemberKey",
        "ConsumerGroupMemberMetadataKey",
        "ConsumerGroupMetadataKey",
    ]
    assert [r.value is None for r in d.records[-4:]] == [True, True, True, False]


def test_previous_epoch_is_accepted_when_the_answer_was_lost() -> None:
    d = driver()
    join(d, "a")
    join(d, "b")
    heartbeat(d, "a", 1, [f"t-{p}" for p in range(7)])
    kept = ["t-0", "t-1", "t-2", "t-3"]
    assert heartbeat(d, "a", 1, kept).member_epoch == 2  # this answer is lost on its way to a
    retry = heartbeat(d, "a", 1, kept)  # previous epoch, owning a subset of its partitions: accepted
    assert (retry.error_code, retry.member_epoch) == (ErrorCode.NO_ERROR, 2)
    assert members(d)["a"] == (2, "STABLE", kept, [])


def test_fenced_member_epoch() -> None:
    d = driver()
    join(d, "a")
    join(d, "b")
    assert heartbeat(d, "a", 5, []).error_code == ErrorCode.FENCED_MEMBER_EPOCH  # from the future
    heartbeat(d, "b", 2, [])
    a = heartbeat(d, "a", 1, [f"t-{p}" for p in range(7)])
    heartbeat(d, "a", 1, parts(a))  # a moves to epoch 2 (previous epoch 1)
    assert members(d)["a"][0] == 2
    stale = heartbeat(d, "a", 1, ["t-6"])  # previous epoch, but not a subset of its partitions
    assert stale.error_code == ErrorCode.FENCED_MEMBER_EPOCH
    assert stale.error_message is not None and "epoch" in stale.error_message


def test_known_member_rejoining_with_epoch_zero_starts_over() -> None:
    d = driver()
    join(d, "a")
    again = join(d, "a")
    assert (again.error_code, again.member_epoch, parts(again)) == (0, 1, [f"t-{p}" for p in range(7)])
    assert group(d).group_epoch == 1


def test_unknown_member_id() -> None:
    d = driver()
    assert heartbeat(d, "a", 1, []).error_code == ErrorCode.UNKNOWN_MEMBER_ID  # no group
    join(d, "a")
    assert heartbeat(d, "zz", 1, []).error_code == ErrorCode.UNKNOWN_MEMBER_ID
    assert heartbeat(d, "zz", -1).error_code == ErrorCode.UNKNOWN_MEMBER_ID


def test_unsupported_assignor_and_invalid_requests() -> None:
    d = driver()
    assert join(d, "a", assignor="sticky").error_code == ErrorCode.UNSUPPORTED_ASSIGNOR
    invalid = [
        heartbeat(d, "a", 0, [], topics=["t"]),  # no rebalance timeout on join
        heartbeat(d, "a", 0, None, topics=["t"], rebalance_timeout_ms=1),  # owned partitions missing
        heartbeat(d, "a", 0, ["t-1"], topics=["t"], rebalance_timeout_ms=1),  # owns something on join
        heartbeat(d, "a", 0, [], rebalance_timeout_ms=1),  # no topics
        heartbeat(d, "", 3, []),  # no member id
        heartbeat(d, "a", -3),  # no such epoch
        heartbeat(d, "a", -2),  # static leave without instance id
        heartbeat(d, "a", 0, [], group="", topics=["t"], rebalance_timeout_ms=1),
        heartbeat(d, "a", 0, [], topics=["t"], rebalance_timeout_ms=1, instance_id=""),
    ]
    assert [r.error_code for r in invalid] == [ErrorCode.INVALID_REQUEST] * len(invalid)
    assert "g" not in d.shard.state.groups


def test_an_empty_regex_is_no_regex() -> None:
    """librdkafka 2.16 sends SubscribedTopicRegex "" with its topic names."""
    d = driver()
    response = join(d, "a", regex="")
    everything = [f"t-{p}" for p in range(7)]
    assert (response.error_code, response.member_epoch, parts(response)) == (0, 1, everything)


def test_group_max_size_reached() -> None:
    d = driver(config=GroupCoordinatorConfig(consumer_group_max_size=1))
    join(d, "a")
    assert join(d, "b").error_code == ErrorCode.GROUP_MAX_SIZE_REACHED
    assert heartbeat(d, "a", 1, None).error_code == ErrorCode.NO_ERROR


def test_member_id_is_generated_when_empty() -> None:
    d = driver()
    response = join(d, "")
    assert response.error_code == 0 and len(response.member_id) == 22  # base64 of 16 bytes, unpadded
    assert set(group(d).members) == {response.member_id}


def test_static_member_leaves_temporarily_and_comes_back_with_its_partitions() -> None:
    d = driver()
    join(d, "a1", instance_id="ia")
    join(d, "b", instance_id="ib")
    heartbeat(d, "a1", 1, [f"t-{p}" for p in range(7)])
    heartbeat(d, "a1", 1, ["t-0", "t-1", "t-2", "t-3"])
    heartbeat(d, "b", 2, [])
    epoch = group(d).group_epoch
    left = heartbeat(d, "a1", -2, instance_id="ia")
    assert (left.error_code, left.member_epoch) == (0, -2)
    assert members(d)["a1"] == (-2, "STABLE", ["t-0", "t-1", "t-2", "t-3"], [])
    # Another process may not take the instance id while a1 holds it... but a1 released it with -2.
    back = join(d, "a2", instance_id="ia")
    assert (back.error_code, back.member_epoch, parts(back)) == (0, epoch, ["t-0", "t-1", "t-2", "t-3"])
    assert group(d).group_epoch == epoch  # no rebalance
    assert set(group(d).members) == {"a2", "b"}
    assert targets(d)["a2"] == ["t-0", "t-1", "t-2", "t-3"]
    assert heartbeat(d, "a1", 2, instance_id="ia").error_code == ErrorCode.FENCED_INSTANCE_ID


def test_unreleased_instance_id_and_unknown_static_member() -> None:
    d = driver()
    join(d, "a1", instance_id="ia")
    refused = join(d, "a2", instance_id="ia")
    assert refused.error_code == ErrorCode.UNRELEASED_INSTANCE_ID
    assert heartbeat(d, "a1", 1, [], instance_id="other").error_code == ErrorCode.UNKNOWN_MEMBER_ID
    assert heartbeat(d, "a2", 1, [], instance_id="ia").error_code == ErrorCode.FENCED_INSTANCE_ID


def test_static_member_leaving_for_good_is_removed() -> None:
    d = driver()
    join(d, "a", instance_id="ia")
    assert heartbeat(d, "a", -1, instance_id="ia").member_epoch == -1
    assert group(d).members == {} and group(d).static_members == {}
    assert group(d).state is G.EMPTY


def test_new_partitions_bump_the_group_epoch() -> None:
    topics = StaticTopics({"t": (T, 2)})
    d = GroupShardDriver(topics=topics)
    join(d, "a")
    topics.set("t", T, 3)
    response = heartbeat(d, "a", 1, ["t-0", "t-1"])
    assert (response.member_epoch, parts(response)) == (2, ["t-0", "t-1", "t-2"])
    metadata = [r.value for r in d.records if isinstance(r.key, rec.ConsumerGroupPartitionMetadataKey)]
    assert [[(t.topic_name, t.num_partitions) for t in m.topics] for m in metadata] == [
        [("t", 2)],
        [("t", 3)],
    ]


def test_subscription_change_bumps_the_epoch_and_moves_partitions() -> None:
    d = driver({"t": (T, 2), "u": (U, 2)})
    join(d, "a", topics=["t"])
    response = heartbeat(d, "a", 1, ["t-0", "t-1"], topics=["u"])
    assert response.member_epoch == 1  # must revoke t first
    assert parts(response) == []
    response = heartbeat(d, "a", 1, [])
    assert (response.member_epoch, parts(response)) == (2, ["u-0", "u-1"])


def test_most_wanted_assignor_is_used() -> None:
    d = driver({"t": (T, 4)})
    join(d, "a", assignor="range")
    assert group(d).preferred_assignor(("uniform", "range")) == "range"
    join(d, "b", assignor="uniform")
    assert group(d).preferred_assignor(("uniform", "range")) == "uniform"  # tie: configuration order


def test_empty_classic_group_is_converted_and_non_empty_is_refused() -> None:
    from group_steps import join as classic_join
    from group_steps import new_member

    d = driver()
    classic_join(d, "g")  # an Empty classic group (MEMBER_ID_REQUIRED)
    response = join(d, "a")
    assert response.error_code == 0
    assert isinstance(d.records[-7].key, rec.GroupMetadataKey) and d.records[-7].value is None
    new_member(d, "h")  # a classic group in PreparingRebalance
    assert join(d, "a", group="h").error_code == ErrorCode.GROUP_ID_NOT_FOUND
