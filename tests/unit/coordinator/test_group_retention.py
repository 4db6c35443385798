"""Offsets retention (KIP-211) and the expiry of empty groups."""

from __future__ import annotations

from consumer_steps import driver as consumer_driver
from consumer_steps import heartbeat as consumer_heartbeat
from consumer_steps import join as consumer_join
from group_steps import heartbeat, join, leave, stable_group
from offset_steps import commit, end_transaction, fetch, fetched, transactional_commit

from odradek.coordinator.group import records as rec
from odradek.coordinator.group.config import GroupCoordinatorConfig
from odradek.testing.group_coordinator import START_MS, GroupShardDriver

CONFIG = GroupCoordinatorConfig(offsets_retention_ms=60_000, offsets_retention_check_interval_ms=10_000)


def offsets(d: GroupShardDriver, group: str = "g") -> dict[str, int]:
    return {tp: v[0] for tp, v in fetched(fetch(d, None, group=group)).items()}


def test_offsets_of_an_empty_group_expire_after_the_retention_since_it_became_empty() -> None:
    d = GroupShardDriver(CONFIG)  # retention checks run every 10s from the start
    (a,) = stable_group(d, 1)
    commit(d, {"t-0": 5}, generation=1, member_id=a)
    for _ in range(10):  # 80s in the group: a Stable group keeps the offsets of its subscribed topics
        d.advance(8_000)
        heartbeat(d, a, 1)
    leave(d, (a, None))
    assert d.now - START_MS == 86_000  # the group is Empty from here; offsets expire 60s later, at 146s
    d.advance(149_999 - 86_000)
    assert offsets(d) == {"t-0": 5}  # the commit is 144s old, but the check at 140s saw 54s of Empty
    d.advance(1)  # the check at 150s
    assert offsets(d) == {}
    assert "g" not in d.shard.state.groups
    assert d.records[-2:] == [rec.offset_commit_tombstone("g", "t", 0), rec.group_metadata_tombstone("g")]


def test_simple_group_offsets_expire_since_their_commit_and_the_group_goes_with_them() -> None:
    d = GroupShardDriver(CONFIG)
    commit(d, {"t-0": 1})
    d.advance(30_000)
    commit(d, {"t-1": 2})
    d.advance(30_000)  # t-0 is 60s old at the 60s check
    assert offsets(d) == {"t-1": 2}
    d.advance(30_000)
    assert offsets(d) == {} and "g" not in d.shard.state.groups


def test_explicit_retention_time_wins() -> None:
    d = GroupShardDriver(CONFIG)
    commit(d, {"t-0": 1}, version=2, retention_time_ms=15_000)
    d.advance(10_000)
    assert offsets(d) == {"t-0": 1}
    d.advance(10_000)
    assert offsets(d) == {}


def test_stable_consumer_protocol_group_keeps_subscribed_topics_and_expires_others() -> None:
    d = GroupShardDriver(CONFIG)
    (a,) = stable_group(d, 1)  # subscribed to t
    commit(d, {"t-0": 1, "old-0": 2}, generation=1, member_id=a)
    for _ in range(10):
        d.advance(8_000)
        heartbeat(d, a, 1)
    assert offsets(d) == {"t-0": 1}


def test_group_of_another_protocol_keeps_offsets_while_it_has_members() -> None:
    d = GroupShardDriver(CONFIG)
    (a,) = stable_group(d, 1, protocol_type="connect")
    commit(d, {"old-0": 2}, generation=1, member_id=a)
    for _ in range(10):
        d.advance(8_000)
        heartbeat(d, a, 1)
    assert offsets(d) == {"old-0": 2}


def test_consumer_group_expires_offsets_of_unsubscribed_topics() -> None:
    d = consumer_driver(config=CONFIG)
    consumer_join(d, "a")
    commit(d, {"t-0": 1, "old-0": 2}, generation=1, member_id="a")
    for _ in range(7):
        d.advance(10_000)
        consumer_heartbeat(d, "a", 1, None)
    assert offsets(d) == {"t-0": 1}
    consumer_heartbeat(d, "a", -1)
    for _ in range(7):
        d.advance(10_000)
    assert offsets(d) == {}
    assert "g" not in d.shard.state.groups


def test_empty_group_without_offsets_is_removed_at_the_next_check() -> None:
    d = GroupShardDriver(CONFIG)
    join(d)  # MEMBER_ID_REQUIRED: an Empty group is created and never joined
    assert "g" in d.shard.state.groups
    d.advance(10_000)
    assert "g" not in d.shard.state.groups
    assert d.records[-1] == rec.group_metadata_tombstone("g")


def test_pending_transactional_offsets_do_not_expire() -> None:
    d = GroupShardDriver(CONFIG)
    commit(d, {"t-0": 1})
    transactional_commit(d, producer_id=3, group="g", tp="t-0", offset=9)
    d.advance(70_000)
    assert offsets(d) == {"t-0": 1}
    end_transaction(d, 3, committed=True)
    assert offsets(d) == {"t-0": 9}
