"""`GroupCoordinatorShard`: the pure group coordinator of one ``__consumer_offsets`` partition.

Every method takes the generated request object (or, for requests naming several groups, the part
for this shard), the `RequestContext` and ``now_ms``, and returns a `CoordinatorResult`: records to
append to the partition, the response (None when deferred) and completions of earlier deferred
requests. JoinGroup and SyncGroup take the `WaiterId` under which a deferred answer will be completed.
`expire_timers` runs the shard's due timers; `replay` rebuilds state from the partition's log.

The shard never reads a clock, does no I/O and never awaits: the runtime (`odradek.coordinator.runtime`)
runs calls one at a time, appends records and delivers responses once they are committed; read-only
calls (describe, list, fetch offsets) run against the committed view of the state. An append that
fails unloads the partition (`revert_on_failure` is False: classic groups change outside the
timeline collections), and the broker loads it again from the log. See README.md for the state tables.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterable
from typing import ClassVar

from odradek.coordinator.context import RequestContext
from odradek.coordinator.group import (
    admin,
    classic_join,
    classic_session,
    classic_sync,
    consumer_heartbeat,
    deleted_topics,
    retention,
)
from odradek.coordinator.group import records as rec
from odradek.coordinator.group.classic_group import ClassicGroup
from odradek.coordinator.group.classic_rebalance import (
    heartbeat_key,
    on_join_timer,
    on_sync_timer,
    prepare_rebalance,
)
from odradek.coordinator.group.config import GroupCoordinatorConfig
from odradek.coordinator.group.consumer_group import ConsumerGroup, MemberState
from odradek.coordinator.group.offset_commit import offset_commit, offset_delete
from odradek.coordinator.group.offset_fetch import fetch_offsets
from odradek.coordinator.group.state import Op, ShardState, TimerKey, TimerKind
from odradek.coordinator.group.topics import TopicsView
from odradek.coordinator.group.txn_offset_commit import txn_offset_commit
from odradek.coordinator.result import CoordinatorResult, WaiterId
from odradek.coordinator.shard import LogEntry, LogRecord
from odradek.coordinator.timeline import SnapshotRegistry
from odradek.coordinator.timer import Expired
from odradek.protocol.messages import consumer_group_describe as cgd
from odradek.protocol.messages import consumer_group_heartbeat as cgh
from odradek.protocol.messages import delete_groups as dg
from odradek.protocol.messages import describe_groups as dsc
from odradek.protocol.messages import heartbeat as hb
from odradek.protocol.messages import join_group as jg
from odradek.protocol.messages import leave_group as lvg
from odradek.protocol.messages import list_groups as lg
from odradek.protocol.messages import offset_commit as oc
from odradek.protocol.messages import offset_delete as od
from odradek.protocol.messages import offset_fetch as of
from odradek.protocol.messages import sync_group as sg
from odradek.protocol.messages import txn_offset_commit as toc


class GroupCoordinatorShard:
    revert_on_failure: ClassVar[bool] = False

    def __init__(
        self,
        config: GroupCoordinatorConfig,
        topics: TopicsView,
        rng: random.Random | None = None,
        registry: SnapshotRegistry | None = None,
    ) -> None:
        self.state = ShardState(config, topics, rng or random.Random(), registry or SnapshotRegistry())

    def _op(self, now_ms: int) -> Op:
        return Op(self.state, now_ms)

    # -- classic groups --------------------------------------------------------------------------

    def join_group(
        self, ctx: RequestContext, request: jg.JoinGroupRequest, waiter: WaiterId, now_ms: int
    ) -> CoordinatorResult[jg.JoinGroupResponse]:
        op = self._op(now_ms)
        return op.out.build(classic_join.join_group(op, ctx, request, waiter))

    def sync_group(
        self, ctx: RequestContext, request: sg.SyncGroupRequest, waiter: WaiterId, now_ms: int
    ) -> CoordinatorResult[sg.SyncGroupResponse]:
        op = self._op(now_ms)
        return op.out.build(classic_sync.sync_group(op, ctx, request, waiter))

    def heartbeat(
        self, ctx: RequestContext, request: hb.HeartbeatRequest, now_ms: int
    ) -> CoordinatorResult[hb.HeartbeatResponse]:
        op = self._op(now_ms)
        return op.out.build(classic_session.heartbeat(op, ctx, request))

    def leave_group(
        self, ctx: RequestContext, request: lvg.LeaveGroupRequest, now_ms: int
    ) -> CoordinatorResult[lvg.LeaveGroupResponse]:
        op = self._op(now_ms)
        return op.out.build(classic_session.leave_group(op, ctx, request))

    # -- KIP-848 groups --------------------------------------------------------------------------

    def consumer_group_heartbeat(
        self, ctx: RequestContext, request: cgh.ConsumerGroupHeartbeatRequest, now_ms: int
    ) -> CoordinatorResult[cgh.ConsumerGroupHeartbeatResponse]:
        op = self._op(now_ms)
        return op.out.build(consumer_heartbeat.consumer_group_heartbeat(op, ctx, request))

    def consumer_group_describe(self, group_ids: Iterable[str]) -> list[cgd.DescribedGroup]:
        return [admin.consumer_group_describe(self.state, gid) for gid in group_ids]

    # -- offsets ---------------------------------------------------------------------------------

    def offset_commit(
        self, ctx: RequestContext, request: oc.OffsetCommitRequest, now_ms: int
    ) -> CoordinatorResult[oc.OffsetCommitResponse]:
        op = Op(self.state, now_ms)  # (`_op`, inlined: one per commit)
        return op.out.build(offset_commit(op, ctx, request))

    def txn_offset_commit(
        self, ctx: RequestContext, request: toc.TxnOffsetCommitRequest, now_ms: int
    ) -> CoordinatorResult[toc.TxnOffsetCommitResponse]:
        op = self._op(now_ms)
        return op.out.build(txn_offset_commit(op, ctx, request))

    def offset_fetch(
        self, ctx: RequestContext, group: of.OffsetFetchRequestGroup, require_stable: bool
    ) -> of.OffsetFetchResponseGroup:
        return fetch_offsets(self.state, ctx.api_version, group, require_stable)

    def offset_delete(
        self, ctx: RequestContext, request: od.OffsetDeleteRequest, now_ms: int
    ) -> CoordinatorResult[od.OffsetDeleteResponse]:
        op = self._op(now_ms)
        return op.out.build(offset_delete(op, ctx, request))

    def on_topics_deleted(self, topics: Collection[str], now_ms: int) -> CoordinatorResult[int]:
        """Tombstones for the offsets (committed and pending) of deleted topics, at most
        `deleted_topics.MAX_TOMBSTONES_PER_WRITE` per call; the response is how many were written."""
        op = self._op(now_ms)
        return op.out.build(deleted_topics.on_topics_deleted(op, topics))

    def on_topics_changed(self, now_ms: int) -> CoordinatorResult[int]:
        """Topics were created or deleted: resolve the regex subscriptions again; the response is how
        many groups got a new epoch (their next heartbeat computes the new target assignment)."""
        op = self._op(now_ms)
        return op.out.build(consumer_heartbeat.refresh_regexes(op))

    # -- administration --------------------------------------------------------------------------

    def list_groups(self, states_filter: Iterable[str], types_filter: Iterable[str]) -> list[lg.ListedGroup]:
        return admin.list_groups(self.state, states_filter, types_filter)

    def describe_groups(self, ctx: RequestContext, group_ids: Iterable[str]) -> list[dsc.DescribedGroup]:
        return [admin.describe_group(self.state, ctx.api_version, gid) for gid in group_ids]

    def delete_groups(
        self, group_ids: Iterable[str], now_ms: int
    ) -> CoordinatorResult[list[dg.DeletableGroupResult]]:
        op = self._op(now_ms)
        return op.out.build([admin.delete_group(op, gid) for gid in group_ids])

    # -- timers ----------------------------------------------------------------------------------

    def next_deadline(self) -> int | None:
        return self.state.timers.next_deadline()

    def deadline_bound(self) -> int | None:
        return self.state.timers.deadline_bound()

    def expire_timers(self, now_ms: int) -> CoordinatorResult[None]:
        op = self._op(now_ms)
        for timer in self.state.timers.expire(now_ms):
            _TIMERS[timer.key[0]](op, timer)
        return op.out.build(None)

    # -- log -------------------------------------------------------------------------------------

    encode = staticmethod(rec.encode)
    """A record's key and value bytes (the records module's `encode` itself: one call less per record)."""

    def replay(self, entry: LogEntry) -> None:
        if isinstance(entry, LogRecord):
            record = rec.decode(entry.key, entry.value)
            if record is not None:
                self.state.apply(record, entry.producer_id)
        else:
            self.state.offsets.replay_end_transaction(entry.producer_id, entry.committed)

    def on_loaded(self, now_ms: int) -> CoordinatorResult[None]:
        """Start the timers of the loaded groups (members get a full session to come back)."""
        op = self._op(now_ms)
        for group in list(self.state.groups.values()):
            if isinstance(group, ConsumerGroup):
                for member in group.members.values():
                    key = (TimerKind.CONSUMER_SESSION, group.group_id, member.member_id)
                    op.schedule(key, self.state.config.consumer_group_session_timeout_ms)
                    if member.state is MemberState.UNREVOKED_PARTITIONS:
                        key = (TimerKind.CONSUMER_REBALANCE, group.group_id, member.member_id)
                        op.schedule(key, member.rebalance_timeout_ms, member.member_epoch)
                continue
            for classic in group.members.values():
                op.schedule(heartbeat_key(group, classic.member_id), classic.session_timeout_ms)
            if len(group.members) > self.state.config.group_max_size:
                prepare_rebalance(op, group)
        op.schedule((TimerKind.GROUP_EXPIRATION,), self.state.config.offsets_retention_check_interval_ms)
        op.schedule((TimerKind.REGEX_REFRESH,), self.state.config.consumer_group_regex_refresh_interval_ms)
        return op.out.build(None)


def _classic(
    handler: Callable[[Op, ClassicGroup, Expired[TimerKey]], None],
) -> Callable[[Op, Expired[TimerKey]], None]:
    def run(op: Op, timer: Expired[TimerKey]) -> None:
        group = op.state.classic(timer.key[1])
        if group is not None:
            handler(op, group, timer)

    return run


def _consumer(
    handler: Callable[[Op, ConsumerGroup, Expired[TimerKey]], None],
) -> Callable[[Op, Expired[TimerKey]], None]:
    def run(op: Op, timer: Expired[TimerKey]) -> None:
        group = op.state.consumer(timer.key[1])
        if group is not None:
            handler(op, group, timer)

    return run


def _on_regex_refresh_timer(op: Op) -> None:
    consumer_heartbeat.refresh_regexes(op)
    op.schedule((TimerKind.REGEX_REFRESH,), op.config.consumer_group_regex_refresh_interval_ms)


_TIMERS: dict[str, Callable[[Op, Expired[TimerKey]], None]] = {
    TimerKind.CLASSIC_JOIN: _classic(lambda op, g, t: on_join_timer(op, g)),
    TimerKind.CLASSIC_HEARTBEAT: _classic(
        lambda op, g, t: classic_session.on_heartbeat_timer(op, g, t.key[2])
    ),
    TimerKind.CLASSIC_SYNC: _classic(lambda op, g, t: on_sync_timer(op, g)),
    TimerKind.CONSUMER_SESSION: _consumer(
        lambda op, g, t: consumer_heartbeat.on_session_timer(op, g, t.key[2])
    ),
    TimerKind.CONSUMER_REBALANCE: _consumer(
        lambda op, g, t: consumer_heartbeat.on_rebalance_timer(op, g, t.key[2], t.data)
    ),
    TimerKind.GROUP_EXPIRATION: lambda op, t: retention.on_expiration_timer(op),
    TimerKind.REGEX_REFRESH: lambda op, t: _on_regex_refresh_timer(op),
}
"""Timer kind -> what its expiry does."""
