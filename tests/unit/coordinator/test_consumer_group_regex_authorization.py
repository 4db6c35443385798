"""KIP-848 regex subscriptions under an authorizer (KAFKA-18813): a regex matches only the topics
the member resolving it may DESCRIBE, also when topics are created later; a regex the coordinator
resolved before it started is resolved again by the next member's heartbeat."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from odradek.coordinator.context import RequestContext
from odradek.coordinator.group.consumer_group import ConsumerGroup
from odradek.coordinator.group.topics import StaticTopics
from odradek.protocol.messages import consumer_group_heartbeat as cgh
from odradek.testing.group_coordinator import GroupShardDriver

REGEX = "(^orders-.*)"
ALICE_MAY: Callable[[str], bool] = lambda topic: topic != "orders-secret"  # noqa: E731


def driver() -> GroupShardDriver:
    return GroupShardDriver(
        topics=StaticTopics({"orders-a": (uuid.UUID(int=1), 1), "orders-secret": (uuid.UUID(int=2), 1)})
    )


def join(d: GroupShardDriver, member: str, may_describe: Callable[[str], bool] | None) -> None:
    request = cgh.ConsumerGroupHeartbeatRequest(
        group_id="g",
        member_id=member,
        member_epoch=0,
        rebalance_timeout_ms=30_000,
        subscribed_topic_names=[],
        subscribed_topic_regex=REGEX,
        topic_partitions=[],
    )
    response = d.call(
        d.shard.consumer_group_heartbeat, RequestContext("c", "/127.0.0.1", 1, may_describe), request
    )
    assert response.error_code == 0


def topics(d: GroupShardDriver) -> set[str]:
    group = d.shard.state.groups["g"]
    assert isinstance(group, ConsumerGroup)
    return set(group.resolved_regexes[REGEX].topics)


def test_a_regex_matches_only_topics_the_member_may_describe() -> None:
    d = driver()
    join(d, "m1", ALICE_MAY)
    assert topics(d) == {"orders-a"}
    view = d.topics
    assert isinstance(view, StaticTopics)
    view.set("orders-b", uuid.UUID(int=3), 1)
    view.set("orders-secret-2", uuid.UUID(int=4), 1)
    d.call(d.shard.on_topics_changed)  # no member at hand: the resolving member's rights still apply
    assert topics(d) == {"orders-a", "orders-b", "orders-secret-2"} - {"orders-secret"}


def test_without_an_authorizer_every_topic_matches() -> None:
    d = driver()
    join(d, "m1", None)
    assert topics(d) == {"orders-a", "orders-secret"}


def test_a_regex_resolved_before_the_coordinator_started_waits_for_a_heartbeat() -> None:
    d = driver()
    join(d, "m1", None)
    d.shard.state.regex_permissions.clear()  # as after loading the group from its records
    view = d.topics
    assert isinstance(view, StaticTopics)
    view.set("orders-b", uuid.UUID(int=3), 1)
    d.call(d.shard.on_topics_changed)
    assert topics(d) == {"orders-a", "orders-secret"}  # left as it was: nobody's rights to apply
    join(d, "m2", ALICE_MAY)
    assert topics(d) == {"orders-a", "orders-b"}
