"""`GroupCoordinatorService`: the group coordinator's API for the broker's request handlers.

Each method takes the request context and the generated request object and returns the generated
response object, so a handler only decodes, calls and encodes. The service routes each group to the
shard of its ``__consumer_offsets`` partition (`partition_for`, Kafka's hash), splits requests naming
several groups (OffsetFetch v8+, DescribeGroups, DeleteGroups, ConsumerGroupDescribe, ListGroups) and
joins the answers, and turns "this broker does not hold that partition" into the error responses Kafka
gives (NOT_COORDINATOR, after which clients look the coordinator up again).

The broker also calls `load(partition, epoch, entries, end_offset)` when it becomes the leader of an
``__consumer_offsets`` partition and `unload` when it stops being one, `on_topics_deleted` when
topics are deleted, `on_topics_changed` when topics are created or deleted (regex subscriptions),
`complete_transaction` when a transaction that committed offsets ends (its marker is written through
the runtime), and `start`/`stop` with its own lifecycle. Writes wait for their records to be
committed; reads (OffsetFetch, DescribeGroups, ListGroups, ConsumerGroupDescribe) see committed state.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Collection, Iterable
from typing import TypeVar

from odradek.coordinator.context import RequestContext
from odradek.coordinator.group.classic_rebalance import join_response
from odradek.coordinator.group.config import GroupCoordinatorConfig
from odradek.coordinator.group.deleted_topics import MAX_TOMBSTONES_PER_WRITE
from odradek.coordinator.group.offset_commit import failed_response as offset_commit_failed
from odradek.coordinator.group.shard import GroupCoordinatorShard
from odradek.coordinator.group.topics import TopicsView
from odradek.coordinator.group.txn_offset_commit import failed_response as txn_offset_commit_failed
from odradek.coordinator.log import CoordinatorLog
from odradek.coordinator.partitioning import coordinator_partition
from odradek.coordinator.runtime import CoordinatorNotAvailable, CoordinatorRuntime, Entries
from odradek.model.clock import Clock
from odradek.model.errors import ErrorCode
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

T = TypeVar("T")
R = TypeVar("R")
FIRST_MULTI_GROUP_OFFSET_FETCH = 8
Shard = GroupCoordinatorShard


class GroupCoordinatorService:
    def __init__(
        self, runtime: CoordinatorRuntime[GroupCoordinatorShard], config: GroupCoordinatorConfig
    ) -> None:
        self.runtime = runtime
        self.config = config

    @classmethod
    def create(
        cls,
        clock: Clock,
        log: CoordinatorLog,
        topics: TopicsView,
        config: GroupCoordinatorConfig | None = None,
        rng: random.Random | None = None,
    ) -> GroupCoordinatorService:
        config = config or GroupCoordinatorConfig()
        rng = rng or random.Random()
        runtime: CoordinatorRuntime[GroupCoordinatorShard] = CoordinatorRuntime(
            clock,
            log,
            lambda _partition, _epoch, registry: GroupCoordinatorShard(config, topics, rng, registry),
            name="group-coordinator",
        )
        return cls(runtime, config)

    def partition_for(self, group_id: str) -> int:
        return coordinator_partition(group_id, self.config.offsets_topic_num_partitions)

    async def start(self) -> None:
        await self.runtime.start()

    async def stop(self) -> None:
        await self.runtime.stop()

    async def load(
        self, partition: int, epoch: int, entries: Entries, end_offset: int = 0, *, in_thread: bool = False
    ) -> None:
        await self.runtime.load(partition, epoch, entries, end_offset, in_thread=in_thread)

    def unload(self, partition: int) -> None:
        self.runtime.unload(partition)

    # -- classic groups --------------------------------------------------------------------------

    async def join_group(self, ctx: RequestContext, r: jg.JoinGroupRequest) -> jg.JoinGroupResponse:
        return await _or_error(
            self.runtime.write_deferred(
                self.partition_for(r.group_id), lambda s, w, t: s.join_group(ctx, r, w, t)
            ),
            lambda code: join_response(ctx.api_version, code, member_id=r.member_id),
        )

    async def sync_group(self, ctx: RequestContext, r: sg.SyncGroupRequest) -> sg.SyncGroupResponse:
        return await _or_error(
            self.runtime.write_deferred(
                self.partition_for(r.group_id), lambda s, w, t: s.sync_group(ctx, r, w, t)
            ),
            lambda code: sg.SyncGroupResponse(error_code=code),
        )

    async def heartbeat(self, ctx: RequestContext, r: hb.HeartbeatRequest) -> hb.HeartbeatResponse:
        return await _or_error(
            self.runtime.write(self.partition_for(r.group_id), lambda s, t: s.heartbeat(ctx, r, t)),
            lambda code: hb.HeartbeatResponse(error_code=code),
        )

    async def leave_group(self, ctx: RequestContext, r: lvg.LeaveGroupRequest) -> lvg.LeaveGroupResponse:
        return await _or_error(
            self.runtime.write(self.partition_for(r.group_id), lambda s, t: s.leave_group(ctx, r, t)),
            lambda code: lvg.LeaveGroupResponse(error_code=code),
        )

    # -- KIP-848 groups --------------------------------------------------------------------------

    async def consumer_group_heartbeat(
        self, ctx: RequestContext, r: cgh.ConsumerGroupHeartbeatRequest
    ) -> cgh.ConsumerGroupHeartbeatResponse:
        return await _or_error(
            self.runtime.write(
                self.partition_for(r.group_id), lambda s, t: s.consumer_group_heartbeat(ctx, r, t)
            ),
            lambda code: cgh.ConsumerGroupHeartbeatResponse(error_code=code),
        )

    async def consumer_group_describe(
        self, ctx: RequestContext, r: cgd.ConsumerGroupDescribeRequest
    ) -> cgd.ConsumerGroupDescribeResponse:
        groups = self._per_partition(
            r.group_ids,
            lambda p, ids: self.runtime.read(p, lambda s: s.consumer_group_describe(ids)),
            lambda gid, code: cgd.DescribedGroup(group_id=gid, error_code=code),
        )
        return cgd.ConsumerGroupDescribeResponse(groups=groups)

    # -- offsets ---------------------------------------------------------------------------------

    async def offset_commit(self, ctx: RequestContext, r: oc.OffsetCommitRequest) -> oc.OffsetCommitResponse:
        answer = self.offset_commit_now(ctx, r)
        return answer if isinstance(answer, oc.OffsetCommitResponse) else await answer

    def offset_commit_now(
        self, ctx: RequestContext, r: oc.OffsetCommitRequest
    ) -> oc.OffsetCommitResponse | Awaitable[oc.OffsetCommitResponse]:
        """`offset_commit` without a coroutine when its records are committed inside the append (one
        replica, no fsync to wait for): the answer itself; otherwise an awaitable giving it once they
        are committed. A synchronous commit's path (the broker's handler calls this)."""
        try:
            response, waiting = self.runtime.write_now(
                self.partition_for(r.group_id), lambda s, t: s.offset_commit(ctx, r, t)
            )
        except CoordinatorNotAvailable as e:
            return offset_commit_failed(r, e.code)
        if waiting is None:
            return response
        return _once_committed(waiting, response, lambda code: offset_commit_failed(r, code))

    async def txn_offset_commit(
        self,
        ctx: RequestContext,
        r: toc.TxnOffsetCommitRequest,
        verified: Callable[[], ErrorCode] | None = None,
    ) -> toc.TxnOffsetCommitResponse:
        """`verified`: the KIP-890 check the broker took before asking the transaction coordinator,
        which must still hold when the offsets are appended (else its error for every partition)."""
        return await _or_error(
            self.runtime.write(
                self.partition_for(r.group_id), lambda s, t: s.txn_offset_commit(ctx, r, t), verified
            ),
            lambda code: txn_offset_commit_failed(r, code),
        )

    def is_active(self, partition: int) -> bool:
        return self.runtime.is_active(partition)

    async def complete_transaction(
        self, partition: int, producer_id: int, producer_epoch: int, committed: bool, coordinator_epoch: int
    ) -> ErrorCode:
        """Write a transaction's COMMIT/ABORT marker to `partition` of the offsets topic (loaded here):
        its pending offsets become committed, or vanish, once the marker is committed."""
        return await self.runtime.write_marker(
            partition, producer_id, producer_epoch, committed, coordinator_epoch
        )

    async def offset_fetch(self, ctx: RequestContext, r: of.OffsetFetchRequest) -> of.OffsetFetchResponse:
        if ctx.api_version >= FIRST_MULTI_GROUP_OFFSET_FETCH:
            groups = self._per_partition(
                r.groups,
                lambda p, gs: self.runtime.read(
                    p, lambda s: [s.offset_fetch(ctx, g, r.require_stable) for g in gs]
                ),
                lambda g, code: of.OffsetFetchResponseGroup(group_id=g.group_id, error_code=code),
                key=lambda g: g.group_id,
            )
            return of.OffsetFetchResponse(groups=groups)
        single = of.OffsetFetchRequestGroup(
            group_id=r.group_id,
            topics=None
            if r.topics is None
            else [
                of.OffsetFetchRequestTopics(name=t.name, partition_indexes=t.partition_indexes)
                for t in r.topics
            ],
        )
        try:
            group = self.runtime.read(
                self.partition_for(r.group_id), lambda s: s.offset_fetch(ctx, single, r.require_stable)
            )
        except CoordinatorNotAvailable as e:
            return of.OffsetFetchResponse(error_code=e.code, topics=_failed_topics(r, e.code))
        return of.OffsetFetchResponse(
            error_code=group.error_code,
            topics=[
                of.OffsetFetchResponseTopic(
                    name=t.name,
                    partitions=[
                        of.OffsetFetchResponsePartition(
                            partition_index=p.partition_index,
                            committed_offset=p.committed_offset,
                            committed_leader_epoch=p.committed_leader_epoch,
                            metadata=p.metadata,
                            error_code=p.error_code,
                        )
                        for p in t.partitions
                    ],
                )
                for t in group.topics
            ],
        )

    async def offset_delete(self, ctx: RequestContext, r: od.OffsetDeleteRequest) -> od.OffsetDeleteResponse:
        return await _or_error(
            self.runtime.write(self.partition_for(r.group_id), lambda s, t: s.offset_delete(ctx, r, t)),
            lambda code: od.OffsetDeleteResponse(error_code=code),
        )

    async def on_topics_deleted(self, topics: Collection[str]) -> int:
        """Drop the offsets of deleted topics on every loaded shard (tombstones, then memory); returns
        how many were dropped. A shard that is not loaded (or fails meanwhile) is skipped: its offsets
        come back when it loads, and expire with the retention."""
        dropped = 0
        for partition in self.runtime.partitions():
            while True:
                try:
                    written = await self.runtime.write(partition, lambda s, t: s.on_topics_deleted(topics, t))
                except CoordinatorNotAvailable:
                    break
                dropped += written
                if written < MAX_TOMBSTONES_PER_WRITE:
                    break
        return dropped

    async def on_topics_changed(self) -> int:
        """Topics were created or deleted: every loaded shard resolves its groups' regex subscriptions
        again; returns how many groups got a new epoch. A shard not loaded is skipped: it refreshes
        with its periodic timer once loaded."""
        bumped = 0
        for partition in self.runtime.partitions():
            try:
                bumped += await self.runtime.write(partition, lambda s, t: s.on_topics_changed(t))
            except CoordinatorNotAvailable:
                continue
        return bumped

    # -- administration --------------------------------------------------------------------------

    async def list_groups(self, ctx: RequestContext, r: lg.ListGroupsRequest) -> lg.ListGroupsResponse:
        groups: list[lg.ListedGroup] = []
        states, types = r.states_filter, r.types_filter
        for partition in self.runtime.partitions():
            try:
                groups += self.runtime.read(partition, lambda s: s.list_groups(states, types))
            except CoordinatorNotAvailable:
                continue
        return lg.ListGroupsResponse(groups=groups)

    async def describe_groups(
        self, ctx: RequestContext, r: dsc.DescribeGroupsRequest
    ) -> dsc.DescribeGroupsResponse:
        groups = self._per_partition(
            r.groups,
            lambda p, ids: self.runtime.read(p, lambda s: s.describe_groups(ctx, ids)),
            lambda gid, code: dsc.DescribedGroup(group_id=gid, error_code=code),
        )
        return dsc.DescribeGroupsResponse(groups=groups)

    async def delete_groups(self, ctx: RequestContext, r: dg.DeleteGroupsRequest) -> dg.DeleteGroupsResponse:
        results = await self._per_partition_async(
            r.groups_names,
            lambda p, ids: self.runtime.write(p, lambda s, t: s.delete_groups(ids, t)),
            lambda gid, code: dg.DeletableGroupResult(group_id=gid, error_code=code),
        )
        return dg.DeleteGroupsResponse(results=results)

    # -- helpers ---------------------------------------------------------------------------------

    def _per_partition(
        self,
        items: Iterable[T],
        run: Callable[[int, list[T]], list[R]],
        failed: Callable[[T, ErrorCode], R],
        key: Callable[[T], str] = str,
    ) -> list[R]:
        """Run the read ``run`` once per partition on its share of ``items``; answers come back in
        request order."""
        shares = self._shares(items, key)
        out: list[R | None] = [None] * sum(len(share) for share in shares.values())
        for partition, indexes in shares.items():
            share = [items_i for _, items_i in indexes]
            try:
                answers = run(partition, share)
            except CoordinatorNotAvailable as e:
                answers = [failed(item, e.code) for item in share]
            for (i, _), answer in zip(indexes, answers, strict=True):
                out[i] = answer
        return [a for a in out if a is not None]

    async def _per_partition_async(
        self,
        items: Iterable[T],
        run: Callable[[int, list[T]], Awaitable[list[R]]],
        failed: Callable[[T, ErrorCode], R],
        key: Callable[[T], str] = str,
    ) -> list[R]:
        """`_per_partition` for writes."""
        shares = self._shares(items, key)
        out: list[R | None] = [None] * sum(len(share) for share in shares.values())
        for partition, indexes in shares.items():
            share = [items_i for _, items_i in indexes]
            try:
                answers = await run(partition, share)
            except CoordinatorNotAvailable as e:
                answers = [failed(item, e.code) for item in share]
            for (i, _), answer in zip(indexes, answers, strict=True):
                out[i] = answer
        return [a for a in out if a is not None]

    def _shares(self, items: Iterable[T], key: Callable[[T], str]) -> dict[int, list[tuple[int, T]]]:
        """(position, item) of the items, by the partition of their group."""
        shares: dict[int, list[tuple[int, T]]] = {}
        for i, item in enumerate(items):
            shares.setdefault(self.partition_for(key(item)), []).append((i, item))
        return shares


async def _or_error(call: Awaitable[T], failed: Callable[[ErrorCode], T]) -> T:
    try:
        return await call
    except CoordinatorNotAvailable as e:
        return failed(e.code)


async def _once_committed(waiting: Awaitable[None], response: T, failed: Callable[[ErrorCode], T]) -> T:
    try:
        await waiting
    except CoordinatorNotAvailable as e:
        return failed(e.code)
    return response


def _failed_topics(r: of.OffsetFetchRequest, code: ErrorCode) -> list[of.OffsetFetchResponseTopic]:
    return [
        of.OffsetFetchResponseTopic(
            name=t.name,
            partitions=[
                of.OffsetFetchResponsePartition(partition_index=p, committed_offset=-1, error_code=code)
                for p in t.partition_indexes
            ],
        )
        for t in r.topics or []
    ]
