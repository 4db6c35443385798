"""Client-side steps of the KIP-848 protocol (ConsumerGroupHeartbeat) against a `GroupShardDriver`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from odradek.coordinator.group.consumer_group import ConsumerGroup
from odradek.coordinator.group.topics import StaticTopics
from odradek.protocol.messages import consumer_group_heartbeat as cgh
from odradek.testing.group_coordinator import GroupShardDriver

T = uuid.UUID(int=1)
U = uuid.UUID(int=2)
NAMES = {T: "t", U: "u"}


def driver(topics: dict[str, tuple[uuid.UUID, int]] | None = None, **kw: Any) -> GroupShardDriver:
    return GroupShardDriver(topics=StaticTopics(topics if topics is not None else {"t": (T, 7)}), **kw)


def owned(parts: Iterable[str] | None) -> list[cgh.TopicPartitions] | None:
    """``["t-0", "t-3"]`` -> the request's TopicPartitions."""
    if parts is None:
        return None
    by_topic: dict[uuid.UUID, list[int]] = {}
    ids = {v: k for k, v in NAMES.items()}
    for item in parts:
        topic, p = item.rsplit("-", 1)
        by_topic.setdefault(ids[topic], []).append(int(p))
    return [cgh.TopicPartitions(topic_id=t, partitions=sorted(ps)) for t, ps in sorted(by_topic.items())]


def heartbeat(
    d: GroupShardDriver,
    member_id: str,
    epoch: int,
    owned_partitions: Iterable[str] | None = None,
    *,
    group: str = "g",
    topics: list[str] | None = None,
    rebalance_timeout_ms: int = -1,
    instance_id: str | None = None,
    assignor: str | None = None,
    client_id: str = "client",
    regex: str | None = None,
) -> cgh.ConsumerGroupHeartbeatResponse:
    request = cgh.ConsumerGroupHeartbeatRequest(
        group_id=group,
        member_id=member_id,
        member_epoch=epoch,
        instance_id=instance_id,
        rebalance_timeout_ms=rebalance_timeout_ms,
        subscribed_topic_names=topics,
        subscribed_topic_regex=regex,
        server_assignor=assignor,
        topic_partitions=owned(owned_partitions),
    )
    response: cgh.ConsumerGroupHeartbeatResponse = d.call(
        d.shard.consumer_group_heartbeat, d.ctx(0, client_id), request
    )
    return response


def join(
    d: GroupShardDriver, member_id: str, topics: list[str] | None = None, **kw: Any
) -> cgh.ConsumerGroupHeartbeatResponse:
    return heartbeat(d, member_id, 0, [], topics=topics or ["t"], rebalance_timeout_ms=30_000, **kw)


def parts(response: cgh.ConsumerGroupHeartbeatResponse) -> list[str] | None:
    """The response's assignment as ``["t-0", ...]``; None when it carries none."""
    if response.assignment is None:
        return None
    return sorted(
        f"{NAMES[tp.topic_id]}-{p}" for tp in response.assignment.topic_partitions for p in tp.partitions
    )


def group(d: GroupShardDriver, group_id: str = "g") -> ConsumerGroup:
    g = d.shard.state.groups[group_id]
    assert isinstance(g, ConsumerGroup)
    return g


def targets(d: GroupShardDriver) -> dict[str, list[str]]:
    return {
        m: sorted(f"{NAMES[t]}-{p}" for t, ps in a.items() for p in ps)
        for m, a in group(d).target_assignment.items()
    }


def members(d: GroupShardDriver) -> dict[str, tuple[int, str, list[str], list[str]]]:
    """member -> (epoch, state, assigned, pending revocation)."""
    return {
        m.member_id: (
            m.member_epoch,
            m.state.name,
            sorted(f"{NAMES[t]}-{p}" for t, ps in m.assigned.items() for p in ps),
            sorted(f"{NAMES[t]}-{p}" for t, ps in m.pending_revocation.items() for p in ps),
        )
        for m in group(d).members.values()
    }
