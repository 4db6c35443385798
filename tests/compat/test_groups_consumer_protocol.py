"""KIP-848 consumer groups with librdkafka (``group.protocol=consumer``): server-side assignment with
the assignor the client names, reconciliation when members come and go, commits at member epochs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from group_clients import committed, create_topic, member, owned, poll_until, shares

pytestmark = pytest.mark.compat

FRESH = {
    "uniform": [[0, 3], [1, 4], [2, 5]],
    "range": [[0, 1], [2, 3], [4, 5]],
}
"""Members m0, m1, m2 (ordered by instance id), all in the group when six partitions appear."""


def consumer_member(bootstrap: str, group: str, index: int, assignor: str, static: bool = True) -> Consumer:
    conf = {"group.protocol": "consumer", "group.remote.assignor": assignor, "enable.auto.commit": False}
    if static:
        conf["group.instance.id"] = f"m{index}"
    return member(bootstrap, group, f"c{index}", **conf)


def members_of(admin: AdminClient, group: str) -> int:
    return len(admin.describe_consumer_groups([group])[group].result(10).members)


@pytest.mark.parametrize("assignor", sorted(FRESH))
def test_the_server_assignor_the_client_names_shares_six_partitions(
    group_bootstrap: str, topic_name: str, assignor: str
) -> None:
    group = f"g-{topic_name}"
    members = [consumer_member(group_bootstrap, group, i, assignor) for i in range(3)]
    admin = AdminClient({"bootstrap.servers": group_bootstrap})
    try:
        for m in members:
            m.subscribe([topic_name])  # the topic does not exist yet: nothing to assign
        poll_until(members, lambda: members_of(admin, group) == 3, what="three members")
        assert [owned(m) for m in members] == [[], [], []]
        create_topic(group_bootstrap, topic_name, 6)  # one target assignment for all three
        poll_until(members, shares(members, 6), what="three equal shares")
        assert [owned(m) for m in members] == FRESH[assignor]
        description = admin.describe_consumer_groups([group])[group].result(10)
        assert (str(description.state), len(description.members)) == ("ConsumerGroupState.STABLE", 3)
    finally:
        for m in members:
            m.close()


@pytest.mark.parametrize("assignor", sorted(FRESH))
def test_members_leaving_and_joining_are_reconciled(
    group_bootstrap: str, topic_name: str, assignor: str
) -> None:
    """Each step revokes before it assigns; the survivors keep what they had (both assignors are sticky)."""
    group = f"g-{topic_name}"
    create_topic(group_bootstrap, topic_name, 6)
    first = consumer_member(group_bootstrap, group, 0, assignor, static=False)
    members = [first]
    try:
        first.subscribe([topic_name])
        poll_until(members, lambda: owned(first) == [0, 1, 2, 3, 4, 5], what="the first member owning all")
        second = consumer_member(group_bootstrap, group, 1, assignor, static=False)
        second.subscribe([topic_name])
        members.append(second)
        poll_until(members, shares(members, 6), what="two equal shares")
        assert [owned(m) for m in members] == [[0, 1, 2], [3, 4, 5]]
        third = consumer_member(group_bootstrap, group, 2, assignor, static=False)
        third.subscribe([topic_name])
        members.append(third)
        poll_until(members, shares(members, 6), what="three equal shares")
        assert [owned(m) for m in members] == [[0, 1], [3, 4], [2, 5]]
        members.pop(0).close()  # leaves with epoch -1: its partitions move at once
        took = poll_until(members, shares(members, 6), what="two equal shares again")
        assert took < 5
        # Each keeps its two and takes one of the leaver's (which one depends on the member id order).
        layout = [owned(m) for m in members]
        assert sorted(layout) in ([[0, 2, 5], [1, 3, 4]], [[0, 3, 4], [1, 2, 5]])
        assert {3, 4} <= set(layout[0]) and {2, 5} <= set(layout[1])
    finally:
        for m in members:
            m.close()


def test_commits_at_the_member_epoch(group_bootstrap: str, topic_name: str) -> None:
    group = f"g-{topic_name}"
    create_topic(group_bootstrap, topic_name, 2)
    consumer = consumer_member(group_bootstrap, group, 0, "uniform", static=False)
    try:
        consumer.subscribe([topic_name])
        poll_until([consumer], lambda: owned(consumer) == [0, 1])
        offsets = [TopicPartition(topic_name, 0, 11), TopicPartition(topic_name, 1, 22)]
        consumer.commit(offsets=offsets, asynchronous=False)
        found = consumer.committed([TopicPartition(topic_name, p) for p in (0, 1)], timeout=10)
        assert [(tp.partition, tp.offset) for tp in found] == [(0, 11), (1, 22)]
    finally:
        consumer.close()
    assert committed(group_bootstrap, group, topic_name, 2) == [11, 22]


def test_a_regex_subscription_is_resolved_by_the_broker(group_bootstrap: str, topic_name: str) -> None:
    """librdkafka sends ``subscribe(["^p-.*"])`` as SubscribedTopicRegex ``(^p-.*)``: the coordinator
    picks the matching topics, and a matching topic created later joins the assignment."""
    group = f"g-{topic_name}"
    for suffix in ("a", "b"):
        create_topic(group_bootstrap, f"{topic_name}-{suffix}", 2)
    create_topic(group_bootstrap, f"{topic_name}x", 2)  # no "-": does not match
    members = [consumer_member(group_bootstrap, group, i, "uniform", static=False) for i in range(2)]

    def layout() -> list[list[tuple[str, int]]]:
        return [
            sorted((tp.topic.removeprefix(topic_name), tp.partition) for tp in m.assignment())
            for m in members
        ]

    def split(suffixes: str) -> Callable[[], bool]:
        """Every partition of the suffixed topics owned once, in equal shares; nothing else."""
        wanted = sorted((f"-{s}", p) for s in suffixes for p in (0, 1))

        def check() -> bool:
            now = layout()
            return sorted(tp for parts in now for tp in parts) == wanted and all(
                len(x) == len(suffixes) for x in now
            )

        return check

    try:
        for m in members:
            m.subscribe([f"^{topic_name}-.*"])
        poll_until(members, split("ab"), what="the two matching topics split between the two members")
        create_topic(group_bootstrap, f"{topic_name}-c", 2)
        poll_until(members, split("abc"), what="the new matching topic assigned too")
        admin = AdminClient({"bootstrap.servers": group_bootstrap})
        description = admin.describe_consumer_groups([group])[group].result(10)
        assert len(description.members) == 2
    finally:
        for m in members:
            m.close()
