"""A test driver for `GroupCoordinatorShard`: what the runtime does, in memory and on a fake clock.

Every result's records are encoded to bytes and appended to ``log`` (the partition, as the broker
would write it); responses, immediate and deferred, land in ``responses`` under the request's
`WaiterId`. `replayed` builds a fresh shard from the log, which is how tests check that records alone
rebuild the state.
"""

from __future__ import annotations

import random
from typing import Any, TypeVar

from odradek.coordinator.context import RequestContext
from odradek.coordinator.group.config import GroupCoordinatorConfig
from odradek.coordinator.group.shard import GroupCoordinatorShard
from odradek.coordinator.group.topics import StaticTopics, TopicsView
from odradek.coordinator.result import CoordinatorRecord, CoordinatorResult, WaiterId
from odradek.coordinator.shard import LogRecord
from odradek.protocol import codec
from odradek.protocol.messages import consumer_protocol_subscription, join_group, sync_group

T = TypeVar("T")
START_MS = 1_700_000_000_000


class GroupShardDriver:
    def __init__(
        self,
        config: GroupCoordinatorConfig | None = None,
        topics: TopicsView | None = None,
        seed: int = 0,
        now_ms: int = START_MS,
    ) -> None:
        self.config = config or GroupCoordinatorConfig()
        self.topics = topics if topics is not None else StaticTopics()
        self.shard = GroupCoordinatorShard(self.config, self.topics, random.Random(seed))
        self.now = now_ms
        self.log: list[LogRecord] = []
        self.records: list[CoordinatorRecord] = []
        self.responses: dict[WaiterId, Any] = {}
        self._last_waiter = 0
        self.apply(self.shard.on_loaded(self.now))

    @staticmethod
    def ctx(version: int, client_id: str = "client", host: str = "/127.0.0.1") -> RequestContext:
        return RequestContext(client_id, host, version)

    def new_waiter(self) -> WaiterId:
        self._last_waiter += 1
        return WaiterId(self._last_waiter)

    def apply(self, result: CoordinatorResult[T]) -> T | None:
        """What the runtime does with a result, with every append committed at once."""
        for record in result.records:
            key, value = self.shard.encode(record)
            self.log.append(LogRecord(key, value))
            self.records.append(record)
        registry = self.shard.state.registry
        if result.records:
            registry.seal(len(self.log))
            registry.commit(len(self.log))
        else:
            registry.settle()
        for completion in result.completions:
            assert completion.waiter not in self.responses, f"waiter {completion.waiter} answered twice"
            self.responses[completion.waiter] = completion.response
        return result.response

    def deferred(self, call: Any, *args: Any) -> WaiterId:
        """Run a deferrable call (JoinGroup, SyncGroup); its answer, now or later, goes to ``responses``."""
        waiter = self.new_waiter()
        response = self.apply(call(*args, waiter, self.now))
        if response is not None:
            assert waiter not in self.responses
            self.responses[waiter] = response
        return waiter

    def answer(self, waiter: WaiterId) -> Any:
        """The response for ``waiter``, or None while it is parked."""
        return self.responses.get(waiter)

    def call(self, call: Any, *args: Any) -> Any:
        """Run a non-deferred shard call that writes (takes ``now``) and return its response."""
        return self.apply(call(*args, self.now))

    def advance(self, ms: int) -> None:
        """Move the clock and fire the timers that became due (in deadline order)."""
        target = self.now + ms
        while True:
            deadline = self.shard.next_deadline()
            if deadline is None or deadline > target:
                break
            self.now = max(self.now, deadline)
            self.apply(self.shard.expire_timers(self.now))
        self.now = target

    def replayed(self) -> GroupCoordinatorShard:
        shard = GroupCoordinatorShard(self.config, self.topics, random.Random(0))
        for entry in self.log:
            shard.replay(entry)
        return shard


# -- request builders ----------------------------------------------------------------------------


def subscription(*topics: str, version: int = 1) -> bytes:
    """ConsumerProtocolSubscription bytes (with its int16 version prefix), as consumers send in JoinGroup."""
    value = consumer_protocol_subscription.ConsumerProtocolSubscription(topics=list(topics))
    body = codec.encode_bytes(consumer_protocol_subscription.SCHEMA, version, value)
    return version.to_bytes(2, "big") + body


def join_request(
    group: str,
    member_id: str = "",
    *,
    topics: tuple[str, ...] = ("t",),
    protocols: tuple[str, ...] = ("range",),
    instance_id: str | None = None,
    session_timeout_ms: int = 10_000,
    rebalance_timeout_ms: int = 30_000,
    protocol_type: str = "consumer",
    metadata: bytes | None = None,
) -> join_group.JoinGroupRequest:
    meta = subscription(*topics) if metadata is None else metadata
    return join_group.JoinGroupRequest(
        group_id=group,
        session_timeout_ms=session_timeout_ms,
        rebalance_timeout_ms=rebalance_timeout_ms,
        member_id=member_id,
        group_instance_id=instance_id,
        protocol_type=protocol_type,
        protocols=[join_group.JoinGroupRequestProtocol(name=p, metadata=meta) for p in protocols],
    )


def sync_request(
    group: str,
    member_id: str,
    generation_id: int,
    assignments: dict[str, bytes] | None = None,
    *,
    instance_id: str | None = None,
    protocol_type: str | None = None,
    protocol_name: str | None = None,
) -> sync_group.SyncGroupRequest:
    return sync_group.SyncGroupRequest(
        group_id=group,
        generation_id=generation_id,
        member_id=member_id,
        group_instance_id=instance_id,
        protocol_type=protocol_type,
        protocol_name=protocol_name,
        assignments=[
            sync_group.SyncGroupRequestAssignment(member_id=m, assignment=a)
            for m, a in (assignments or {}).items()
        ],
    )
