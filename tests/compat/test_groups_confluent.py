"""Classic consumer groups with librdkafka: assignors, members leaving and crashing, static members."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, TopicPartition
from group_clients import (
    QUICK,
    SESSION_MS,
    MemberProcess,
    create_topic,
    member,
    owned,
    poll_until,
    shares,
)

pytestmark = pytest.mark.compat

FRESH = {
    "range": [[0, 1], [2, 3], [4, 5]],
    "roundrobin": [[0, 3], [1, 4], [2, 5]],
    "cooperative-sticky": [[0, 3], [1, 4], [2, 5]],
}
"""What each assignor gives members c0, c1, c2 joining one generation together over 6 partitions."""


def three_members(
    bootstrap: str, topic: str, strategy: str, revoked: list[list[int]] | None = None
) -> list[Consumer]:
    """c0, c1, c2 subscribed to `topic`; `revoked[i]` collects what member i was asked to give up."""
    members = [
        member(bootstrap, f"g-{topic}", f"c{i}", **QUICK, **{"partition.assignment.strategy": strategy})
        for i in range(3)
    ]
    for i, m in enumerate(members):
        log = revoked[i] if revoked is not None else []
        m.subscribe([topic], on_revoke=lambda c, ps, log=log: log.extend(p.partition for p in ps))
    return members


def close_all(members: list[Consumer]) -> None:
    for m in members:
        m.close()


@pytest.mark.parametrize("strategy", sorted(FRESH))
def test_three_members_share_six_partitions(group_bootstrap: str, topic_name: str, strategy: str) -> None:
    create_topic(group_bootstrap, topic_name, 6)
    members = three_members(group_bootstrap, topic_name, strategy)
    try:
        poll_until(members, shares(members, 6), what="three equal shares")
        assert [owned(m) for m in members] == FRESH[strategy]
    finally:
        close_all(members)


@pytest.mark.parametrize(
    ("strategy", "after", "revoked"),
    [
        # Eager: every member gives up everything at each rebalance.
        ("range", [[0, 1, 2], [3, 4, 5]], [[0, 1], [2, 3]]),
        ("roundrobin", [[0, 2, 4], [1, 3, 5]], [[0, 3], [1, 4]]),
        # Cooperative (incremental): the survivors keep what they had and only gain.
        ("cooperative-sticky", [[0, 3, 5], [1, 2, 4]], [[], []]),
    ],
)
def test_a_member_that_leaves_hands_over_within_the_session_timeout(
    group_bootstrap: str, topic_name: str, strategy: str, after: list[list[int]], revoked: list[list[int]]
) -> None:
    create_topic(group_bootstrap, topic_name, 6)
    given_up: list[list[int]] = [[], [], []]
    members = three_members(group_bootstrap, topic_name, strategy, given_up)
    try:
        poll_until(members, shares(members, 6), what="three equal shares")
        before = [list(log) for log in given_up]
        members.pop().close()  # LeaveGroup: no need to wait for its session to expire
        took = poll_until(members, shares(members, 6), what="two equal shares")
        assert took < SESSION_MS / 1000
        assert [owned(m) for m in members] == after
        survivors = zip(given_up[:2], before[:2], strict=True)
        assert [sorted(log[len(b) :]) for log, b in survivors] == revoked  # during the hand-over
    finally:
        close_all(members)


def test_a_killed_member_is_replaced_after_its_session_timeout(group_bootstrap: str, topic_name: str) -> None:
    create_topic(group_bootstrap, topic_name, 6)
    group = f"g-{topic_name}"
    crashing = MemberProcess(
        group_bootstrap, group, topic_name, "c2", **QUICK, **{"partition.assignment.strategy": "range"}
    )
    members = [
        member(group_bootstrap, group, f"c{i}", **QUICK, **{"partition.assignment.strategy": "range"})
        for i in range(2)
    ]
    try:
        for m in members:
            m.subscribe([topic_name])
        poll_until(members, lambda: owned(members[0]) == [0, 1] and owned(members[1]) == [2, 3])
        crashing.wait_for(2)
        assert crashing.assignment == [4, 5]
        crashing.kill()  # SIGKILL: no LeaveGroup, its heartbeats just stop
        took = poll_until(members, shares(members, 6), what="two equal shares")
        # Its last heartbeat was at most one interval before the kill; then one more rebalance.
        assert SESSION_MS / 1000 - 1 <= took < SESSION_MS / 1000 + 5
        assert [owned(m) for m in members] == [[0, 1, 2], [3, 4, 5]]
    finally:
        crashing.kill()
        close_all(members)


def test_a_static_member_restarts_without_a_rebalance(group_bootstrap: str, topic_name: str) -> None:
    create_topic(group_bootstrap, topic_name, 6)
    group = f"g-{topic_name}"
    events: dict[str, list[tuple[str, list[int]]]] = {}

    def static(name: str) -> Consumer:
        consumer = member(
            group_bootstrap,
            group,
            name,
            **QUICK,
            **{"group.instance.id": name, "partition.assignment.strategy": "range"},
        )
        log = events.setdefault(name, [])
        consumer.subscribe(
            [topic_name],
            on_assign=lambda c, ps: log.append(("assign", sorted(p.partition for p in ps))),
            on_revoke=lambda c, ps: log.append(("revoke", sorted(p.partition for p in ps))),
        )
        return consumer

    members = [static(f"s{i}") for i in range(3)]
    try:
        poll_until(members, shares(members, 6), what="three equal shares")
        assert [owned(m) for m in members] == FRESH["range"]
        members.pop().close()  # a static member does not leave the group when it closes
        stay_static = time.monotonic()
        members.append(static("s2"))  # the same instance, back within its session timeout
        poll_until(members, lambda: owned(members[2]) == [4, 5], what="the static member's partitions back")
        poll_until(members, lambda: time.monotonic() - stay_static > 1.5)  # a rebalance would show by now
        assert [owned(m) for m in members] == FRESH["range"]
        assert events["s0"] == [("assign", [0, 1])]
        assert events["s1"] == [("assign", [2, 3])]
    finally:
        close_all(members)


def test_commits_from_a_group_member(group_bootstrap: str, topic_name: str) -> None:
    """Commits from a live member (generation and member id checked) and OffsetFetch after a rejoin."""
    create_topic(group_bootstrap, topic_name, 2)
    [consumer] = members = [
        member(group_bootstrap, f"g-{topic_name}", "c0", **QUICK, **{"enable.auto.commit": False})
    ]
    try:
        consumer.subscribe([topic_name])
        poll_until(members, lambda: owned(consumer) == [0, 1])
        consumer.commit(
            offsets=[TopicPartition(topic_name, 0, 5), TopicPartition(topic_name, 1, 7)], asynchronous=False
        )
        found = consumer.committed([TopicPartition(topic_name, 0), TopicPartition(topic_name, 1)], timeout=10)
        assert [(tp.partition, tp.offset) for tp in found] == [(0, 5), (1, 7)]
    finally:
        close_all(members)
