"""The runtime and the service over an in-memory log: answers once the records are committed, deferred
answers, committed reads, timers, replay, failures, and requests spanning several ``__consumer_offsets``
partitions."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from odradek.coordinator.context import RequestContext
from odradek.coordinator.group import records as rec
from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.coordinator.group.config import GroupCoordinatorConfig
from odradek.coordinator.group.service import GroupCoordinatorService
from odradek.coordinator.group.topics import StaticTopics
from odradek.model.clock import SystemClock
from odradek.model.errors import ErrorCode
from odradek.protocol.messages import consumer_group_describe as cgd
from odradek.protocol.messages import consumer_group_heartbeat as cgh
from odradek.protocol.messages import delete_groups as dg
from odradek.protocol.messages import describe_groups as dsc
from odradek.protocol.messages import heartbeat as hb
from odradek.protocol.messages import list_groups as lg
from odradek.protocol.messages import offset_commit as oc
from odradek.protocol.messages import offset_fetch as of
from odradek.protocol.messages import txn_offset_commit as toc
from odradek.testing.clock import FakeClock
from odradek.testing.coordinator_log import MemoryCoordinatorLog
from odradek.testing.group_coordinator import join_request, sync_request

T = TypeVar("T")
V9 = RequestContext("client", "/127.0.0.1", 9)
V5 = RequestContext("client", "/127.0.0.1", 5)
V0 = RequestContext("client", "/127.0.0.1", 0)


FakeLog = MemoryCoordinatorLog


async def service(log: FakeLog, clock: Any, partitions: int = 1, **config: Any) -> GroupCoordinatorService:
    cfg = GroupCoordinatorConfig(offsets_topic_num_partitions=partitions, **config)
    svc = GroupCoordinatorService.create(clock, log, StaticTopics(), cfg, random.Random(1))
    for p in range(partitions):
        await svc.load(p, 0, log.entries(p), log.log_end(p))
    return svc


def run(test: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(test())


def commit_request(group: str, offset: int) -> oc.OffsetCommitRequest:
    return oc.OffsetCommitRequest(
        group_id=group,
        topics=[
            oc.OffsetCommitRequestTopic(
                name="t",
                partitions=[oc.OffsetCommitRequestPartition(partition_index=0, committed_offset=offset)],
            )
        ],
    )


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def test_join_sync_dance_with_deferred_answers_timers_and_replay() -> None:
    async def scenario() -> None:
        log, clock = FakeLog(), FakeClock()
        svc = await service(log, clock)
        first = await svc.join_group(V9, join_request("g"))
        assert first.error_code == ErrorCode.MEMBER_ID_REQUIRED
        parked = asyncio.create_task(svc.join_group(V9, join_request("g", first.member_id)))
        await settle()
        assert not parked.done()
        clock.advance(3_000)
        await svc.runtime.fire_due_timers()
        joined = await parked
        assert (joined.error_code, joined.generation_id, joined.leader) == (0, 1, first.member_id)
        synced = await svc.sync_group(V5, sync_request("g", first.member_id, 1, {first.member_id: b"A"}))
        assert synced.assignment == b"A"
        assert len(log.key_values(0)) == 2  # the new group, then the generation with its assignment

        other = await service(log, clock)  # a coordinator move: replay the partition
        group = other.runtime.shard(0).state.groups["g"]
        assert (group.state, group.generation_id, list(group.members)) == (
            ClassicGroupState.STABLE,
            1,
            [first.member_id],
        )
        beat = await other.heartbeat(
            V5, hb.HeartbeatRequest(group_id="g", generation_id=1, member_id=first.member_id)
        )
        assert beat.error_code == ErrorCode.NO_ERROR

    run(scenario)


def test_answers_wait_for_the_commit_and_readers_see_only_committed_offsets() -> None:
    async def scenario() -> None:
        log, clock = FakeLog(auto_commit=False), FakeClock()
        svc = await service(log, clock)
        pending = asyncio.create_task(svc.offset_commit(V9, commit_request("g", 5)))
        await settle()
        assert not pending.done() and len(log.key_values(0)) == 1  # appended, not committed
        assert await fetched(svc, "g") == -1  # readers do not see it yet
        later = asyncio.create_task(svc.offset_commit(V9, commit_request("g", 6)))  # no lock: applied too
        await settle()
        assert len(log.key_values(0)) == 2 and not later.done()
        log.commit(0, 1)  # the first record only
        response = await pending
        assert response.topics[0].partitions[0].error_code == ErrorCode.NO_ERROR
        assert await fetched(svc, "g") == 5 and not later.done()
        log.commit(0)
        await later
        assert await fetched(svc, "g") == 6

    run(scenario)


async def fetched(svc: GroupCoordinatorService, group: str) -> int:
    request = of.OffsetFetchRequest(
        group_id=group, topics=[of.OffsetFetchRequestTopic(name="t", partition_indexes=[0])]
    )
    response = await svc.offset_fetch(RequestContext("c", "h", 7), request)
    return response.topics[0].partitions[0].committed_offset


def test_an_append_committed_at_once_answers_without_waiting_on_the_loop() -> None:
    """A single node's high watermark moves inside the append: no trip through the event loop."""

    async def scenario() -> None:
        log, clock = FakeLog(), FakeClock()
        svc = await service(log, clock)
        call = svc.offset_commit(V9, commit_request("g", 5))
        try:
            call.send(None)  # runs to completion on the first step, or yields to the loop (a failure)
        except StopIteration as done:
            response = done.value
        else:
            raise AssertionError("the commit waited on the event loop")
        assert response.topics[0].partitions[0].error_code == ErrorCode.NO_ERROR
        assert [rec.decode(k, v) for k, v in log.key_values(0)] == [
            rec.offset_commit("g", "t", 0, 5, -1, "", clock.now_ms())
        ]

    run(scenario)


def test_offset_commit_now_answers_without_a_coroutine_as_offset_commit_does() -> None:
    """The handler's path: with the records committed inside the append, the answer itself (no
    coroutine, no future), and the same records and committed offsets as `offset_commit`."""

    async def scenario() -> None:
        logs, clock = (FakeLog(), FakeLog()), FakeClock()
        fast, slow = await service(logs[0], clock), await service(logs[1], clock)
        for offset in (5, 6):
            answer = fast.offset_commit_now(V9, commit_request("g", offset))
            assert isinstance(answer, oc.OffsetCommitResponse)
            assert answer == await slow.offset_commit(V9, commit_request("g", offset))
        # errors come the same way (here: a member the simple group does not have)
        bad = commit_request("g", 7)
        bad.generation_id_or_member_epoch = 3
        answer = fast.offset_commit_now(V9, bad)
        assert isinstance(answer, oc.OffsetCommitResponse)
        assert answer.topics[0].partitions[0].error_code == ErrorCode.UNKNOWN_MEMBER_ID
        assert answer == await slow.offset_commit(V9, bad)
        assert logs[0].key_values(0) == logs[1].key_values(0)
        assert await fetched(fast, "g") == await fetched(slow, "g") == 6

    run(scenario)


def test_offset_commit_now_waits_for_the_commit_and_fails_with_the_partition() -> None:
    async def scenario() -> None:
        log, clock = FakeLog(auto_commit=False), FakeClock()
        svc = await service(log, clock)
        answer = svc.offset_commit_now(V9, commit_request("g", 5))
        assert not isinstance(answer, oc.OffsetCommitResponse)  # appended, not committed yet
        pending = asyncio.ensure_future(answer)
        await settle()
        assert not pending.done() and await fetched(svc, "g") == -1
        log.commit(0)
        assert (await pending).topics[0].partitions[0].error_code == ErrorCode.NO_ERROR
        lost = asyncio.ensure_future(svc.offset_commit_now(V9, commit_request("g", 6)))  # type: ignore[arg-type]
        await settle()
        svc.unload(0)  # e.g. the partition moved away before the commit: never answered as done
        assert (await lost).topics[0].partitions[0].error_code == ErrorCode.NOT_COORDINATOR

    run(scenario)


def test_a_cancelled_caller_does_not_let_the_next_write_overtake_its_append() -> None:
    async def scenario() -> None:
        log, clock = FakeLog(auto_commit=False), FakeClock()
        svc = await service(log, clock)
        first = asyncio.create_task(svc.offset_commit(V9, commit_request("g", 1)))
        await settle()
        first.cancel()
        second = asyncio.create_task(svc.offset_commit(V9, commit_request("g", 2)))
        await settle()
        assert not second.done()
        log.commit(0)
        await second
        assert first.cancelled()
        written = [rec.decode(k, v) for k, v in log.key_values(0)]
        assert [r.value.offset for r in written if r is not None and r.value is not None] == [1, 2]

    run(scenario)


def test_failed_append_unloads_the_partition_and_fails_parked_requests() -> None:
    async def scenario() -> None:
        log, clock = FakeLog(), FakeClock()
        svc = await service(log, clock)
        first = await svc.join_group(V9, join_request("g"))
        parked = asyncio.create_task(svc.join_group(V9, join_request("g", first.member_id)))
        await settle()
        log.failures = [ErrorCode.KAFKA_STORAGE_ERROR]
        failed = await svc.offset_commit(V9, commit_request("simple", 5))
        assert failed.topics[0].partitions[0].error_code == ErrorCode.NOT_COORDINATOR
        assert (await parked).error_code == ErrorCode.NOT_COORDINATOR
        assert svc.runtime.partitions() == []
        beat = await svc.heartbeat(V5, hb.HeartbeatRequest(group_id="g", member_id=first.member_id))
        assert beat.error_code == ErrorCode.NOT_COORDINATOR
        await svc.load(0, 0, log.entries(0))  # the broker reloads: only what was written survives
        assert list(svc.runtime.shard(0).state.groups) == ["g"]
        assert svc.runtime.shard(0).state.offsets.committed == {}

    run(scenario)


def test_timer_task_fires_on_its_own_and_stop_fails_parked_requests() -> None:
    async def scenario() -> None:
        log = FakeLog()
        svc = await service(log, SystemClock(), group_initial_rebalance_delay_ms=20)
        await svc.start()
        try:
            ids = [(await svc.join_group(V9, join_request("g"))).member_id for _ in range(2)]
            joins = [asyncio.create_task(svc.join_group(V9, join_request("g", m))) for m in ids]
            joined = await asyncio.wait_for(asyncio.gather(*joins), 5)  # the timer task ends the delay
            assert [j.generation_id for j in joined] == [1, 1]
            follower = next(m for m in ids if m != joined[0].leader)
            parked = asyncio.create_task(svc.sync_group(V5, sync_request("g", follower, 1)))
            await settle()
            assert not parked.done()
        finally:
            await svc.stop()
        assert (await parked).error_code == ErrorCode.NOT_COORDINATOR
        assert svc.runtime.partitions() == []

    run(scenario)


def test_requests_for_partitions_not_loaded_get_not_coordinator() -> None:
    async def scenario() -> None:
        svc = await service(FakeLog(), FakeClock())
        svc.unload(0)
        assert (await svc.join_group(V9, join_request("g", "m"))).error_code == ErrorCode.NOT_COORDINATOR
        assert (await svc.join_group(RequestContext("c", "h", 5), join_request("g"))).protocol_name == ""
        assert (await svc.sync_group(V5, sync_request("g", "m", 1))).error_code == ErrorCode.NOT_COORDINATOR
        described = await svc.describe_groups(V5, dsc.DescribeGroupsRequest(groups=["g"]))
        assert described.groups[0].error_code == ErrorCode.NOT_COORDINATOR
        old = await svc.offset_fetch(
            RequestContext("c", "h", 7),
            of.OffsetFetchRequest(
                group_id="g", topics=[of.OffsetFetchRequestTopic(name="t", partition_indexes=[0])]
            ),
        )
        assert old.error_code == ErrorCode.NOT_COORDINATOR
        assert old.topics[0].partitions[0].error_code == ErrorCode.NOT_COORDINATOR
        assert (await svc.list_groups(V5, lg.ListGroupsRequest())).groups == []

    run(scenario)


def test_requests_naming_several_groups_are_split_by_partition() -> None:
    async def scenario() -> None:
        log, clock = FakeLog(), FakeClock()
        svc = await service(log, clock, partitions=3)
        names = ["a", "b", "c", "d"]  # "a" -> 97 % 3 = 1, "b" -> 2, "c" -> 0, "d" -> 1
        assert [svc.partition_for(n) for n in names] == [1, 2, 0, 1]
        for i, name in enumerate(names):
            await svc.offset_commit(V9, commit_request(name, i))
        assert sorted(len(log.key_values(p)) for p in range(3)) == [1, 1, 2]
        svc.unload(2)
        fetched = await svc.offset_fetch(
            RequestContext("c", "h", 8),
            of.OffsetFetchRequest(
                groups=[of.OffsetFetchRequestGroup(group_id=n, topics=None) for n in names]
            ),
        )
        assert [
            (g.group_id, g.error_code, [p.committed_offset for t in g.topics for p in t.partitions])
            for g in fetched.groups
        ] == [
            ("a", 0, [0]),
            ("b", ErrorCode.NOT_COORDINATOR, []),
            ("c", 0, [2]),
            ("d", 0, [3]),
        ]
        listed = await svc.list_groups(V5, lg.ListGroupsRequest())
        assert sorted(g.group_id for g in listed.groups) == ["a", "c", "d"]
        deleted = await svc.delete_groups(V5, dg.DeleteGroupsRequest(groups_names=["d", "b", "a"]))
        assert [(r.group_id, r.error_code) for r in deleted.results] == [
            ("d", 0),
            ("b", ErrorCode.NOT_COORDINATOR),
            ("a", 0),
        ]
        single = await svc.offset_fetch(
            RequestContext("c", "h", 7),
            of.OffsetFetchRequest(
                group_id="c", topics=[of.OffsetFetchRequestTopic(name="t", partition_indexes=[0, 1])]
            ),
        )
        assert [
            (t.name, [(p.partition_index, p.committed_offset) for p in t.partitions]) for t in single.topics
        ] == [("t", [(0, 2), (1, -1)])]

    run(scenario)


def test_every_answer_encodes_at_its_request_version() -> None:
    """The shard fills version-dependent fields (e.g. no null protocol name before JoinGroup v7)."""
    from odradek.protocol import codec
    from odradek.protocol.messages import consumer_group_describe as cgd
    from odradek.protocol.messages import consumer_group_heartbeat as cgh
    from odradek.protocol.messages import join_group as jg
    from odradek.protocol.messages import leave_group as lvg
    from odradek.protocol.messages import offset_delete as od
    from odradek.protocol.messages import sync_group as sg

    async def scenario() -> None:
        log, clock = FakeLog(), FakeClock()
        svc = await service(log, clock, group_initial_rebalance_delay_ms=0)
        await svc.start()
        encoded = 0

        def check(schema: Any, version: int, response: Any) -> None:
            nonlocal encoded
            low, high = schema.valid
            if low <= version <= high:
                codec.encode_bytes(schema, version, response)
                encoded += 1

        try:
            for version in range(10):
                ctx = RequestContext("c", "/1.2.3.4", version)
                group = f"g{version}"
                first = await svc.join_group(ctx, join_request(group))
                check(jg.RESPONSE, version, first)
                member = first.member_id
                if first.error_code == ErrorCode.MEMBER_ID_REQUIRED:
                    joined = await asyncio.wait_for(svc.join_group(ctx, join_request(group, member)), 5)
                    check(jg.RESPONSE, version, joined)
                check(jg.RESPONSE, version, await svc.join_group(ctx, join_request(group, "unknown")))
                sync_ctx = RequestContext("c", "h", min(version, 5))
                synced = await svc.sync_group(sync_ctx, sync_request(group, member, 1, {member: b"x"}))
                check(sg.RESPONSE, sync_ctx.api_version, synced)
                beat_ctx = RequestContext("c", "h", min(version, 4))
                beat = await svc.heartbeat(
                    beat_ctx, hb.HeartbeatRequest(group_id=group, generation_id=1, member_id=member)
                )
                check(hb.RESPONSE, beat_ctx.api_version, beat)
                commit_ctx = RequestContext("c", "h", max(2, version))
                check(
                    oc.RESPONSE,
                    commit_ctx.api_version,
                    await svc.offset_commit(commit_ctx, commit_request(group, 1)),
                )
                fetch_ctx = RequestContext("c", "h", max(1, version))
                if fetch_ctx.api_version >= 8:
                    fetch = of.OffsetFetchRequest(
                        groups=[of.OffsetFetchRequestGroup(group_id=group, topics=None)]
                    )
                else:
                    fetch = of.OffsetFetchRequest(
                        group_id=group,
                        topics=[of.OffsetFetchRequestTopic(name="t", partition_indexes=[0, 1])],
                    )
                check(of.RESPONSE, fetch_ctx.api_version, await svc.offset_fetch(fetch_ctx, fetch))
                list_ctx = RequestContext("c", "h", min(version, 5))
                check(
                    lg.RESPONSE, list_ctx.api_version, await svc.list_groups(list_ctx, lg.ListGroupsRequest())
                )
                describe_ctx = RequestContext("c", "h", min(version, 6))
                described = await svc.describe_groups(
                    describe_ctx, dsc.DescribeGroupsRequest(groups=[group, "none"])
                )
                check(dsc.RESPONSE, describe_ctx.api_version, described)
                leave_ctx = RequestContext("c", "h", min(version, 5))
                leave = lvg.LeaveGroupRequest(
                    group_id=group, member_id=member, members=[lvg.MemberIdentity(member_id=member)]
                )
                check(lvg.RESPONSE, leave_ctx.api_version, await svc.leave_group(leave_ctx, leave))
                check(od.RESPONSE, 0, await svc.offset_delete(ctx, od.OffsetDeleteRequest(group_id=group)))
                delete_ctx = RequestContext("c", "h", min(version, 2))
                deleted = await svc.delete_groups(
                    delete_ctx, dg.DeleteGroupsRequest(groups_names=[group, "none"])
                )
                check(dg.RESPONSE, delete_ctx.api_version, deleted)
            v0 = RequestContext("c", "h", 0)
            heartbeat = cgh.ConsumerGroupHeartbeatRequest(
                group_id="k",
                member_id="m",
                member_epoch=0,
                rebalance_timeout_ms=1,
                subscribed_topic_names=["t"],
                topic_partitions=[],
            )
            check(cgh.RESPONSE, 0, await svc.consumer_group_heartbeat(v0, heartbeat))
            check(
                cgh.RESPONSE,
                0,
                await svc.consumer_group_heartbeat(v0, cgh.ConsumerGroupHeartbeatRequest(group_id="k")),
            )
            described_k = await svc.consumer_group_describe(
                v0, cgd.ConsumerGroupDescribeRequest(group_ids=["k", "x"])
            )
            check(cgd.RESPONSE, 0, described_k)
        finally:
            await svc.stop()
        assert encoded == 119  # every API at every version it has, from v0 to v9

    run(scenario)


def test_stop_right_after_a_write_does_not_hang() -> None:
    """The write wakes the timer task as stop cancels it: the cancellation must not be lost."""

    async def scenario() -> None:
        svc = await service(FakeLog(), FakeClock())
        await svc.start()
        await settle()
        await svc.offset_commit(V9, commit_request("g", 1))
        stopping = asyncio.create_task(svc.stop())
        done, _ = await asyncio.wait([stopping], timeout=2)  # unlike wait_for, never cancels stop()
        assert done == {stopping}

    run(scenario)


def test_consumer_groups_are_read_as_committed_and_loading_keeps_the_tail_pending() -> None:
    async def scenario() -> None:
        log, clock = FakeLog(auto_commit=False), FakeClock()
        svc = await service(log, clock)
        join = cgh.ConsumerGroupHeartbeatRequest(
            group_id="k",
            member_id="m",
            member_epoch=0,
            rebalance_timeout_ms=1,
            subscribed_topic_names=["t"],
            topic_partitions=[],
        )
        joining = asyncio.create_task(svc.consumer_group_heartbeat(RequestContext("c", "h", 0), join))
        await settle()
        assert not joining.done() and "k" in svc.runtime.shard(0).state.groups  # applied at once
        described = await svc.consumer_group_describe(V0, cgd.ConsumerGroupDescribeRequest(group_ids=["k"]))
        assert described.groups[0].error_code == ErrorCode.GROUP_ID_NOT_FOUND  # not committed yet
        listed = await svc.list_groups(V5, lg.ListGroupsRequest())
        assert listed.groups == []
        # a coordinator that loads the same log now sees the uncommitted tail as pending too
        other = await service(log, clock)
        again = await other.consumer_group_describe(V0, cgd.ConsumerGroupDescribeRequest(group_ids=["k"]))
        assert again.groups[0].error_code == ErrorCode.GROUP_ID_NOT_FOUND
        log.commit(0)
        assert (await joining).error_code == ErrorCode.NO_ERROR
        described = await svc.consumer_group_describe(V0, cgd.ConsumerGroupDescribeRequest(group_ids=["k"]))
        assert described.groups[0].error_code == ErrorCode.NO_ERROR
        assert [m.member_id for m in described.groups[0].members] == ["m"]
        again = await other.consumer_group_describe(V0, cgd.ConsumerGroupDescribeRequest(group_ids=["k"]))
        assert again.groups[0].error_code == ErrorCode.NO_ERROR

    run(scenario)


def test_an_answer_waits_for_the_fsync_when_the_topic_asks_for_it() -> None:
    async def scenario() -> None:
        log, clock = FakeLog(), FakeClock()
        svc = await service(log, clock)
        log.durable_gate = asyncio.Event()
        pending = asyncio.create_task(svc.offset_commit(V9, commit_request("g", 5)))
        await settle()
        assert not pending.done()
        log.durable_gate.set()
        assert (await pending).topics[0].partitions[0].error_code == ErrorCode.NO_ERROR

    run(scenario)


def test_a_partition_that_refuses_writes_changes_nothing_and_keeps_its_timers() -> None:
    async def scenario() -> None:
        log, clock = FakeLog(), FakeClock()
        svc = await service(log, clock)
        first = await svc.join_group(V9, join_request("g"))
        written = len(log.key_values(0))
        log.not_writable = ErrorCode.NOT_ENOUGH_REPLICAS  # e.g. too few in-sync replicas
        refused = await svc.offset_commit(V9, commit_request("g", 5))
        assert refused.topics[0].partitions[0].error_code == ErrorCode.NOT_COORDINATOR
        assert len(log.key_values(0)) == written and svc.runtime.partitions() == [0]  # still loaded
        clock.advance(60_000)  # the pending member's join timer is due
        assert await svc.runtime.fire_due_timers() is False  # held back, not lost
        log.not_writable = None
        assert await svc.runtime.fire_due_timers() is True
        beat = await svc.heartbeat(V5, hb.HeartbeatRequest(group_id="g", member_id=first.member_id))
        assert beat.error_code == ErrorCode.UNKNOWN_MEMBER_ID  # its timer expired it

    run(scenario)


def txn_commit_request(offset: int) -> toc.TxnOffsetCommitRequest:
    return toc.TxnOffsetCommitRequest(
        transactional_id="tx",
        group_id="g",
        producer_id=7,
        producer_epoch=0,
        generation_id=-1,
        topics=[
            toc.TxnOffsetCommitRequestTopic("t", [toc.TxnOffsetCommitRequestPartition(0, offset, -1, "")])
        ],
    )


def test_a_transactional_write_whose_verification_no_longer_holds_writes_nothing() -> None:
    """Kafka's scheduleTransactionalWriteOperation: the verification taken before the transaction
    coordinator was asked is checked when the offsets are appended; voided meanwhile (the
    transaction's marker reached the partition), the answer is its error for every partition, with
    nothing run or appended and the partition still served (the group shard cannot undo a write)."""

    async def scenario() -> None:
        log, clock = FakeLog(), FakeClock()
        svc = await service(log, clock)
        checks: list[ErrorCode] = []

        def voided() -> ErrorCode:
            checks.append(ErrorCode.INVALID_TXN_STATE)
            return ErrorCode.INVALID_TXN_STATE

        refused = await svc.txn_offset_commit(V9, txn_commit_request(5), voided)
        assert [p.error_code for t in refused.topics for p in t.partitions] == [ErrorCode.INVALID_TXN_STATE]
        assert checks == [ErrorCode.INVALID_TXN_STATE]
        assert log.log_end(0) == 0 and svc.is_active(0)
        assert 7 not in svc.runtime.shard(0).state.offsets.pending  # no offsets pending for it
        accepted = await svc.txn_offset_commit(V9, txn_commit_request(6), lambda: ErrorCode.NO_ERROR)
        assert [p.error_code for t in accepted.topics for p in t.partitions] == [ErrorCode.NO_ERROR]
        assert log.log_end(0) == 1

    run(scenario)
