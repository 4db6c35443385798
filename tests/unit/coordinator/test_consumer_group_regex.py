"""KIP-848 regex subscriptions: resolution, validation, records and refresh on new topics."""

from __future__ import annotations

import uuid
from typing import Any

from odradek.coordinator.group import records as rec
from odradek.coordinator.group.config import GroupCoordinatorConfig
from odradek.coordinator.group.consumer_group import ConsumerGroup, ResolvedRegex
from odradek.coordinator.group.topic_regex import invalid_regex_reason, resolve
from odradek.coordinator.group.topics import StaticTopics
from odradek.model.errors import ErrorCode
from odradek.protocol.messages import consumer_group_heartbeat as cgh
from odradek.testing.group_coordinator import START_MS, GroupShardDriver

A = uuid.UUID(int=11)
B = uuid.UUID(int=12)
C = uuid.UUID(int=13)
X = uuid.UUID(int=14)
NAMES = {A: "orders-a", B: "orders-b", C: "orders-c", X: "other"}
REGEX = "(^orders-.*)"  # what librdkafka sends for subscribe(["^orders-.*"])


def driver(**kw: Any) -> GroupShardDriver:
    topics = StaticTopics(
        {"orders-a": (A, 2), "orders-b": (B, 2), "other": (X, 3), "__consumer_offsets": (C, 1)}
    )
    return GroupShardDriver(topics=topics, **kw)


def heartbeat(
    d: GroupShardDriver,
    member_id: str,
    epoch: int,
    *,
    names: list[str] | None = None,
    regex: str | None = None,
    owned: list[str] | None = None,
) -> cgh.ConsumerGroupHeartbeatResponse:
    by_topic: dict[uuid.UUID, list[int]] = {}
    ids = {v: k for k, v in NAMES.items()}
    for item in owned or []:
        topic, p = item.rsplit("-", 1)
        by_topic.setdefault(ids[topic], []).append(int(p))
    request = cgh.ConsumerGroupHeartbeatRequest(
        group_id="g",
        member_id=member_id,
        member_epoch=epoch,
        rebalance_timeout_ms=30_000 if epoch == 0 else -1,
        subscribed_topic_names=names,
        subscribed_topic_regex=regex,
        topic_partitions=[cgh.TopicPartitions(topic_id=t, partitions=ps) for t, ps in by_topic.items()]
        if epoch == 0 or owned is not None
        else None,
    )
    response: cgh.ConsumerGroupHeartbeatResponse = d.call(d.shard.consumer_group_heartbeat, d.ctx(0), request)
    return response


def parts(response: cgh.ConsumerGroupHeartbeatResponse) -> list[str] | None:
    if response.assignment is None:
        return None
    return sorted(
        f"{NAMES[tp.topic_id]}-{p}" for tp in response.assignment.topic_partitions for p in tp.partitions
    )


def group(d: GroupShardDriver) -> ConsumerGroup:
    g = d.shard.state.groups["g"]
    assert isinstance(g, ConsumerGroup)
    return g


# -- resolution (pure) ---------------------------------------------------------------------------


def test_resolve_matches_whole_names_and_never_internal_topics() -> None:
    names = ["orders-a", "orders-b", "xorders-a", "orders", "__consumer_offsets", "__transaction_state"]
    assert resolve(["orders-.*", "orders", "(^orders-a)|(^orders-b)", ".*", "__.*"], names) == {
        "orders-.*": frozenset({"orders-a", "orders-b"}),
        "orders": frozenset({"orders"}),  # not a prefix match
        "(^orders-a)|(^orders-b)": frozenset({"orders-a", "orders-b"}),
        ".*": frozenset({"orders-a", "orders-b", "xorders-a", "orders"}),
        "__.*": frozenset(),
    }


def test_re2_syntax_is_checked() -> None:
    assert invalid_regex_reason("(^orders-.*)") is None
    assert invalid_regex_reason("[[:alpha:]]+") is None  # POSIX classes, as RE2/J
    assert invalid_regex_reason("orders\\z") is None
    assert invalid_regex_reason("(a") == "missing ): (a"
    assert invalid_regex_reason("(?=a)") == "invalid perl operator: (?="  # lookahead: not RE2
    assert invalid_regex_reason("(a)\\1") == "invalid escape sequence: \\1"  # backreference: not RE2
    assert resolve(["(a"], ["a"]) == {"(a": frozenset()}


# -- heartbeats ----------------------------------------------------------------------------------


def test_regex_members_split_the_matching_topics() -> None:
    d = driver()
    first = heartbeat(d, "m1", 0, names=[], regex=REGEX)
    assert (first.error_code, first.member_epoch, parts(first)) == (
        0,
        1,
        ["orders-a-0", "orders-a-1", "orders-b-0", "orders-b-1"],
    )
    assert group(d).resolved_regexes == {
        REGEX: ResolvedRegex(frozenset({"orders-a", "orders-b"}), -1, START_MS)
    }
    second = heartbeat(d, "m2", 0, names=[], regex=REGEX)
    assert (second.error_code, second.member_epoch) == (0, 2)
    assert {
        m: sorted(f"{NAMES[t]}-{p}" for t, ps in a.items() for p in ps)
        for m, a in group(d).target_assignment.items()
    } == {
        "m1": ["orders-a-0", "orders-a-1"],
        "m2": ["orders-b-0", "orders-b-1"],
    }
    assert sum(isinstance(r.key, rec.ConsumerGroupRegularExpressionKey) for r in d.records) == 1


def test_invalid_regex_is_refused_before_anything_is_written() -> None:
    d = driver()
    response = heartbeat(d, "m1", 0, names=[], regex="(orders")
    assert (response.error_code, response.error_message) == (
        ErrorCode.INVALID_REGULAR_EXPRESSION,
        "SubscribedTopicRegex `(orders` is not a valid regular expression: missing ): (orders.",
    )
    assert d.records == [] and "g" not in d.shard.state.groups
    heartbeat(d, "m1", 0, names=["other"])
    assert heartbeat(d, "m1", 1, regex="(?!x)").error_code == ErrorCode.INVALID_REGULAR_EXPRESSION
    assert group(d).members["m1"].subscribed_topic_regex is None


def test_join_needs_names_or_regex_but_either_may_be_empty() -> None:
    d = driver()
    assert heartbeat(d, "m1", 0).error_code == ErrorCode.INVALID_REQUEST
    empty = heartbeat(d, "m1", 0, regex="")
    assert (empty.error_code, empty.member_epoch, parts(empty)) == (0, 1, [])


def test_names_and_regex_together_are_the_union() -> None:
    """As Kafka, and what librdkafka sends for subscribe(["^orders-.*", "other"])."""
    d = driver()
    both = heartbeat(d, "m1", 0, names=["other"], regex=REGEX)
    assert parts(both) == [
        "orders-a-0",
        "orders-a-1",
        "orders-b-0",
        "orders-b-1",
        "other-0",
        "other-1",
        "other-2",
    ]
    # A null regex keeps it; "" drops it (librdkafka's names-only subscription); the regex record goes.
    kept = heartbeat(d, "m1", 1, names=["other"], owned=parts(both))
    assert (kept.member_epoch, kept.assignment) == (1, None)
    dropped = heartbeat(d, "m1", 1, names=["other"], regex="", owned=parts(both))
    assert (dropped.member_epoch, parts(dropped)) == (1, ["other-0", "other-1", "other-2"])  # revoking
    revoked = heartbeat(d, "m1", 1, owned=parts(dropped))
    assert (revoked.member_epoch, parts(revoked)) == (2, None)
    assert group(d).members["m1"].subscribed_topic_regex is None
    assert group(d).resolved_regexes == {}
    regex_records = [r for r in d.records if isinstance(r.key, rec.ConsumerGroupRegularExpressionKey)]
    assert [r.value is None for r in regex_records] == [False, True]


def test_the_last_member_leaving_deletes_the_regex_and_replay_rebuilds_it() -> None:
    d = driver()
    heartbeat(d, "m1", 0, names=[], regex=REGEX)
    heartbeat(d, "m2", 0, names=[], regex=REGEX)
    heartbeat(d, "m3", 0, names=[], regex="other")
    replayed = d.replayed().state.groups["g"]
    assert isinstance(replayed, ConsumerGroup)
    assert replayed.resolved_regexes == group(d).resolved_regexes
    assert {m.member_id: m.subscribed_topic_regex for m in replayed.members.values()} == {
        "m1": REGEX,
        "m2": REGEX,
        "m3": "other",
    }
    assert replayed.subscribed_topic_names() == {"orders-a", "orders-b", "other"}
    heartbeat(d, "m1", -1)
    assert set(group(d).resolved_regexes) == {REGEX, "other"}
    heartbeat(d, "m2", -1)
    assert set(group(d).resolved_regexes) == {"other"}
    key, value = rec.encode(d.records[-3])
    assert (key[:2], value) == (b"\x00\x10", None)  # record type 16, tombstone
    assert rec.decode(key, value) == rec.consumer_group_regex("g", REGEX, None)
    replayed = d.replayed().state.groups["g"]
    assert isinstance(replayed, ConsumerGroup) and set(replayed.resolved_regexes) == {"other"}


def test_a_new_matching_topic_gets_a_new_target_assignment() -> None:
    d = driver()
    first = heartbeat(d, "m1", 0, names=[], regex=REGEX)
    topics = d.topics
    assert isinstance(topics, StaticTopics)
    topics.set("orders-c", C, 2)
    topics.set("unrelated", uuid.UUID(int=99), 1)
    assert d.call(d.shard.on_topics_changed) == 1
    assert (group(d).group_epoch, group(d).resolved_regexes[REGEX].topics) == (
        2,
        {"orders-a", "orders-b", "orders-c"},
    )
    assert d.call(d.shard.on_topics_changed) == 0  # nothing new: no records, no epoch
    after = heartbeat(d, "m1", 1, owned=parts(first))
    assert (after.member_epoch, parts(after)) == (
        2,
        ["orders-a-0", "orders-a-1", "orders-b-0", "orders-b-1", "orders-c-0", "orders-c-1"],
    )
    topics.delete("orders-a")
    assert d.call(d.shard.on_topics_changed) == 1
    assert group(d).resolved_regexes[REGEX].topics == {"orders-b", "orders-c"}


def test_the_periodic_refresh_finds_topics_created_without_a_hook() -> None:
    d = driver(config=GroupCoordinatorConfig(consumer_group_regex_refresh_interval_ms=10_000))
    heartbeat(d, "m1", 0, names=[], regex=REGEX)
    topics = d.topics
    assert isinstance(topics, StaticTopics)
    topics.set("orders-c", C, 1)
    d.advance(9_000)
    assert group(d).group_epoch == 1
    d.advance(1_000)
    assert (group(d).group_epoch, group(d).resolved_regexes[REGEX].timestamp) == (2, START_MS + 10_000)


def test_describe_reports_the_regex() -> None:
    d = driver()
    heartbeat(d, "m1", 0, names=["other"], regex=REGEX)
    described = d.shard.consumer_group_describe(["g"])[0]
    assert [(m.subscribed_topic_names, m.subscribed_topic_regex) for m in described.members] == [
        (["other"], REGEX)
    ]
