"""Group requests a well-behaved client would not send, against a real `Broker` in process.

Each test checks the exact error and then that the group is still consistent: DescribeGroups shows
what it should, and its legitimate members carry on (heartbeats, commits). Parked JoinGroups are
sent without waiting (`InMemoryConnection.send`) and read back once another request completed them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from odradek.coordinator.partitioning import coordinator_partition
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import consumer_group_heartbeat as cgh
from odradek.protocol.messages import delete_groups as dg
from odradek.protocol.messages import describe_groups as dsc
from odradek.protocol.messages import find_coordinator as fc
from odradek.protocol.messages import heartbeat as hb
from odradek.protocol.messages import join_group as jg
from odradek.protocol.messages import leave_group as lg
from odradek.protocol.messages import offset_commit as oc
from odradek.protocol.messages import offset_fetch as of
from odradek.protocol.messages import sync_group as sg
from odradek.testing.group_coordinator import join_request, sync_request
from odradek.testing.in_process import InMemoryConnection, InProcessBroker
from odradek.testing.raw_client import decode_response

E = ErrorCode
JOIN_V, SYNC_V, HEARTBEAT_V, COMMIT_V, FETCH_V = 9, 5, 4, 9, 9


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessBroker]:
    with InProcessBroker(Path(tmp_path_factory.mktemp("groups-bad-input"))) as b:
        b.create_topic("t", 3)
        conn = b.connect()
        found = conn.call(
            ApiKey.FIND_COORDINATOR, 4, fc.FindCoordinatorRequest(key_type=0, coordinator_keys=["x"])
        )
        assert [c.error_code for c in found.coordinators] == [0]  # creates __consumer_offsets
        yield b


@pytest.fixture
def group() -> str:
    return f"g-{uuid.uuid4().hex[:8]}"


class Member:
    """One classic member on its own connection."""

    def __init__(self, broker: InProcessBroker, group: str, instance_id: str | None = None) -> None:
        self.conn: InMemoryConnection = broker.connect()
        self.group = group
        self.instance_id = instance_id
        self.member_id = ""
        self.generation = -1

    def join(self, **kw: Any) -> jg.JoinGroupResponse:
        """JoinGroup, repeating it once with the member id the coordinator requires (KIP-394)."""
        response = self.call_join(**kw)
        if response.error_code == E.MEMBER_ID_REQUIRED:
            self.member_id = response.member_id
            response = self.call_join(**kw)
        return self.joined(response)

    def call_join(self, **kw: Any) -> jg.JoinGroupResponse:
        request = join_request(self.group, self.member_id, instance_id=self.instance_id, **kw)
        response: jg.JoinGroupResponse = self.conn.call(ApiKey.JOIN_GROUP, JOIN_V, request)
        return response

    def send_join(self, **kw: Any) -> None:
        """A JoinGroup that will be parked: answered later, read with `parked_answer`."""
        self.conn.send(
            ApiKey.JOIN_GROUP,
            JOIN_V,
            join_request(self.group, self.member_id, instance_id=self.instance_id, **kw),
        )

    def parked_answer(self) -> jg.JoinGroupResponse:
        self.conn.settle()
        frame = self.conn.next_frame()
        assert frame is not None, "the parked JoinGroup is still waiting"
        _, response = decode_response(ApiKey.JOIN_GROUP, JOIN_V, frame)
        return self.joined(response)

    def joined(self, response: jg.JoinGroupResponse) -> jg.JoinGroupResponse:
        if response.error_code == 0:
            self.member_id, self.generation = response.member_id, response.generation_id
        return response

    def sync(self, assignments: dict[str, bytes] | None = None, **kw: Any) -> sg.SyncGroupResponse:
        request = sync_request(
            self.group, self.member_id, self.generation, assignments, instance_id=self.instance_id, **kw
        )
        response: sg.SyncGroupResponse = self.conn.call(ApiKey.SYNC_GROUP, SYNC_V, request)
        return response

    def heartbeat(self, member_id: str | None = None, generation: int | None = None) -> int:
        request = hb.HeartbeatRequest(
            group_id=self.group,
            generation_id=self.generation if generation is None else generation,
            member_id=self.member_id if member_id is None else member_id,
            group_instance_id=self.instance_id,
        )
        return int(self.conn.call(ApiKey.HEARTBEAT, HEARTBEAT_V, request).error_code)

    def commit(self, offset: int, generation: int | None = None, member_id: str | None = None) -> int:
        request = oc.OffsetCommitRequest(
            group_id=self.group,
            generation_id_or_member_epoch=self.generation if generation is None else generation,
            member_id=self.member_id if member_id is None else member_id,
            group_instance_id=self.instance_id,
            topics=[
                oc.OffsetCommitRequestTopic(name="t", partitions=[oc.OffsetCommitRequestPartition(0, offset)])
            ],
        )
        [[part]] = [t.partitions for t in self.conn.call(ApiKey.OFFSET_COMMIT, COMMIT_V, request).topics]
        return int(part.error_code)


def stable_member(broker: InProcessBroker, group: str, instance_id: str | None = None) -> Member:
    m = Member(broker, group, instance_id)
    assert m.join().error_code == 0
    assert (m.generation, m.sync({m.member_id: b"mine"}).assignment) == (1, b"mine")
    return m


def describe(broker: InProcessBroker, group: str) -> tuple[str, list[str]]:
    response = broker.connect().call(ApiKey.DESCRIBE_GROUPS, 5, dsc.DescribeGroupsRequest(groups=[group]))
    [described] = response.groups
    return described.group_state, sorted(m.member_id for m in described.members)


def test_a_new_member_needs_an_id_and_forms_a_generation(broker: InProcessBroker, group: str) -> None:
    m = Member(broker, group)
    first = m.call_join()
    assert (first.error_code, first.member_id.startswith("raw-client-"), first.generation_id) == (
        E.MEMBER_ID_REQUIRED,
        True,
        -1,
    )
    m.member_id = first.member_id
    second = m.joined(m.call_join())
    assert (second.error_code, second.generation_id, second.leader, second.protocol_name) == (
        0,
        1,
        m.member_id,
        "range",
    )
    assert [x.member_id for x in second.members] == [m.member_id]
    assert m.sync({m.member_id: b"a"}).assignment == b"a"
    assert m.heartbeat() == 0
    assert describe(broker, group) == ("Stable", [m.member_id])


def test_unknown_members_and_stale_generations_are_refused(broker: InProcessBroker, group: str) -> None:
    m = stable_member(broker, group)
    assert m.heartbeat(member_id="nobody") == E.UNKNOWN_MEMBER_ID
    assert m.heartbeat(generation=0) == E.ILLEGAL_GENERATION
    assert m.commit(5, generation=7) == E.ILLEGAL_GENERATION
    assert m.commit(5, member_id="nobody") == E.UNKNOWN_MEMBER_ID
    stale = sync_request(group, m.member_id, 5, {m.member_id: b"x"})
    assert m.conn.call(ApiKey.SYNC_GROUP, SYNC_V, stale).error_code == E.ILLEGAL_GENERATION
    unknown = sync_request(group, "nobody", 1)
    assert m.conn.call(ApiKey.SYNC_GROUP, SYNC_V, unknown).error_code == E.UNKNOWN_MEMBER_ID
    # Nothing changed: the member carries on.
    assert (m.heartbeat(), m.commit(5)) == (0, 0)
    assert describe(broker, group) == ("Stable", [m.member_id])


def test_an_inconsistent_protocol_is_refused(broker: InProcessBroker, group: str) -> None:
    m = stable_member(broker, group)
    other = Member(broker, group)
    assert other.join(protocol_type="connect").error_code == E.INCONSISTENT_GROUP_PROTOCOL
    assert other.join(protocols=("roundrobin",)).error_code == E.INCONSISTENT_GROUP_PROTOCOL
    assert m.sync(protocol_type="connect", protocol_name="range").error_code == E.INCONSISTENT_GROUP_PROTOCOL
    assert (
        m.sync(protocol_type="consumer", protocol_name="sticky").error_code == E.INCONSISTENT_GROUP_PROTOCOL
    )
    assert m.heartbeat() == 0
    assert describe(broker, group) == ("Stable", [m.member_id])


def test_a_rebalance_is_announced_then_completes(broker: InProcessBroker, group: str) -> None:
    a = stable_member(broker, group)
    b = Member(broker, group)
    first = b.call_join()
    b.member_id = first.member_id
    b.send_join()  # parked until a rejoins
    assert a.heartbeat() == E.REBALANCE_IN_PROGRESS
    assert a.commit(3) == 0  # generation 1 may still commit while the group prepares the rebalance
    assert describe(broker, group)[0] == "PreparingRebalance"
    a.send_join()  # completes the join phase: both answers arrive
    joined = [a.parked_answer(), b.parked_answer()]
    assert [(r.error_code, r.generation_id, r.leader) for r in joined] == [(0, 2, a.member_id)] * 2
    assert sorted(m.member_id for m in joined[0].members) == sorted([a.member_id, b.member_id])
    assert joined[1].members == []  # only the leader gets the members
    assert b.commit(4) == E.REBALANCE_IN_PROGRESS  # generation 2 has no assignment yet
    b.conn.send(ApiKey.SYNC_GROUP, SYNC_V, sync_request(group, b.member_id, 2))  # parked for the leader
    assert a.sync({a.member_id: b"A", b.member_id: b"B"}).assignment == b"A"
    b.conn.settle()
    frame = b.conn.next_frame()
    assert frame is not None
    assert decode_response(ApiKey.SYNC_GROUP, SYNC_V, frame)[1].assignment == b"B"
    assert (a.heartbeat(), b.heartbeat(), b.commit(4)) == (0, 0, 0)
    assert describe(broker, group) == ("Stable", sorted([a.member_id, b.member_id]))


def test_a_static_member_replaced_by_a_new_instance_is_fenced(broker: InProcessBroker, group: str) -> None:
    old = stable_member(broker, group, instance_id="i1")
    new = Member(broker, group, instance_id="i1")
    replaced = new.join()  # a static member joins at once (no member id round trip)
    assert (replaced.error_code, replaced.generation_id) == (0, 1)
    assert new.member_id != old.member_id
    assert old.heartbeat() == E.FENCED_INSTANCE_ID
    assert old.commit(1) == E.FENCED_INSTANCE_ID
    assert new.sync().assignment == b"mine"  # the Stable group kept its assignment: no rebalance
    assert new.heartbeat() == 0
    assert describe(broker, group) == ("Stable", [new.member_id])


def test_commits_for_unknown_topics_and_oversize_metadata(broker: InProcessBroker, group: str) -> None:
    conn = broker.connect()
    request = oc.OffsetCommitRequest(
        group_id=group,
        topics=[
            oc.OffsetCommitRequestTopic(
                name="t",
                partitions=[
                    oc.OffsetCommitRequestPartition(0, 7, committed_metadata="ok"),
                    oc.OffsetCommitRequestPartition(1, 7, committed_metadata="x" * 4097),
                    oc.OffsetCommitRequestPartition(99, 7),
                ],
            ),
            oc.OffsetCommitRequestTopic(name="missing", partitions=[oc.OffsetCommitRequestPartition(0, 7)]),
        ],
    )
    response = conn.call(ApiKey.OFFSET_COMMIT, COMMIT_V, request)
    assert [(t.name, [(p.partition_index, p.error_code) for p in t.partitions]) for t in response.topics] == [
        ("t", [(0, 0), (1, E.OFFSET_METADATA_TOO_LARGE), (99, E.UNKNOWN_TOPIC_OR_PARTITION)]),
        ("missing", [(0, E.UNKNOWN_TOPIC_OR_PARTITION)]),
    ]
    by_id = oc.OffsetCommitRequest(
        group_id=group,
        topics=[
            oc.OffsetCommitRequestTopic(
                topic_id=uuid.uuid4(), partitions=[oc.OffsetCommitRequestPartition(0, 1)]
            )
        ],
    )
    [topic] = conn.call(ApiKey.OFFSET_COMMIT, 10, by_id).topics
    assert [p.error_code for p in topic.partitions] == [E.UNKNOWN_TOPIC_ID]
    fetched = conn.call(
        ApiKey.OFFSET_FETCH,
        FETCH_V,
        of.OffsetFetchRequest(groups=[of.OffsetFetchRequestGroup(group_id=group, topics=None)]),
    )
    [g] = fetched.groups
    assert [
        (t.name, [(p.partition_index, p.committed_offset, p.metadata) for p in t.partitions])
        for t in g.topics
    ] == [("t", [(0, 7, "ok")])]


def test_find_coordinator_key_types(broker: InProcessBroker) -> None:
    conn = broker.connect()
    batched = conn.call(
        ApiKey.FIND_COORDINATOR, 4, fc.FindCoordinatorRequest(key_type=0, coordinator_keys=["a", "b"])
    )
    assert [(c.key, c.error_code, c.node_id) for c in batched.coordinators] == [("a", 0, 1), ("b", 0, 1)]
    single = conn.call(ApiKey.FIND_COORDINATOR, 0, fc.FindCoordinatorRequest(key="a"))
    assert (single.error_code, single.node_id) == (0, 1)
    txn = conn.call(ApiKey.FIND_COORDINATOR, 3, fc.FindCoordinatorRequest(key="tx", key_type=1))
    assert (txn.error_code, txn.node_id) == (0, 1)
    bad = conn.call(ApiKey.FIND_COORDINATOR, 6, fc.FindCoordinatorRequest(key_type=7, coordinator_keys=["a"]))
    assert [c.error_code for c in bad.coordinators] == [E.INVALID_REQUEST]


def test_leave_delete_and_describe_errors(broker: InProcessBroker, group: str) -> None:
    m = stable_member(broker, group)
    conn = broker.connect()
    deleted = conn.call(
        ApiKey.DELETE_GROUPS, 2, dg.DeleteGroupsRequest(groups_names=[group, f"{group}-none"])
    )
    assert [(r.group_id, r.error_code) for r in deleted.results] == [
        (group, E.NON_EMPTY_GROUP),
        (f"{group}-none", E.GROUP_ID_NOT_FOUND),
    ]
    leave = lg.LeaveGroupRequest(
        group_id=group,
        members=[lg.MemberIdentity(member_id="nobody"), lg.MemberIdentity(member_id=m.member_id)],
    )
    left = conn.call(ApiKey.LEAVE_GROUP, 5, leave)
    assert (left.error_code, [(x.member_id, x.error_code) for x in left.members]) == (
        0,
        [("nobody", E.UNKNOWN_MEMBER_ID), (m.member_id, 0)],
    )
    assert describe(broker, group) == ("Empty", [])
    unknown = conn.call(ApiKey.DESCRIBE_GROUPS, 6, dsc.DescribeGroupsRequest(groups=[f"{group}-none"]))
    assert [(g.group_state, g.error_code) for g in unknown.groups] == [("Dead", E.GROUP_ID_NOT_FOUND)]
    assert (
        conn.call(ApiKey.DELETE_GROUPS, 2, dg.DeleteGroupsRequest(groups_names=[group])).results[0].error_code
        == 0
    )


def test_consumer_protocol_bad_input(broker: InProcessBroker, group: str) -> None:
    conn = broker.connect()

    def heartbeat(**kw: Any) -> cgh.ConsumerGroupHeartbeatResponse:
        request = cgh.ConsumerGroupHeartbeatRequest(
            group_id=group, member_id=uuid.uuid4().hex, member_epoch=0, rebalance_timeout_ms=30_000,
            subscribed_topic_names=["t"], topic_partitions=[],
        )  # fmt: skip
        for name, value in kw.items():
            setattr(request, name, value)
        response: cgh.ConsumerGroupHeartbeatResponse = conn.call(ApiKey.CONSUMER_GROUP_HEARTBEAT, 1, request)
        return response

    assert heartbeat(server_assignor="sticky").error_code == E.UNSUPPORTED_ASSIGNOR
    assert heartbeat(subscribed_topic_regex="(t").error_code == E.INVALID_REGULAR_EXPRESSION
    assert heartbeat(member_epoch=5).error_code == E.UNKNOWN_MEMBER_ID
    joined = heartbeat()
    assert (joined.error_code, joined.member_epoch) == (0, 1)
    assert heartbeat(member_id=joined.member_id, member_epoch=7).error_code == E.FENCED_MEMBER_EPOCH
    # A classic JoinGroup cannot enter a consumer group that has members.
    assert Member(broker, group).join().error_code == E.INCONSISTENT_GROUP_PROTOCOL
    # ... and a consumer group heartbeat cannot take over a classic group that has members.
    classic = stable_member(broker, f"{group}-classic")
    taken = heartbeat(group_id=classic.group)
    assert taken.error_code == E.GROUP_ID_NOT_FOUND
    assert classic.heartbeat() == 0


def test_metadata_too_large_for_the_group_record(broker: InProcessBroker, group: str) -> None:
    """A member whose subscription metadata cannot fit in one `__consumer_offsets` record (1 MiB).

    The group record cannot be written, so the coordinator drops that shard's memory and answers
    NOT_COORDINATOR; the next FindCoordinator reloads it from the log, where a Stable group of the
    same partition is intact and carries on."""
    partition = coordinator_partition(group, 50)
    same_shard = next(
        f"{group}-{i}" for i in range(10_000) if coordinator_partition(f"{group}-{i}", 50) == partition
    )
    neighbour = stable_member(broker, same_shard)
    big = Member(broker, group)
    joined = big.join(metadata=b"\x00\x01" + b"x" * (2 << 20))
    assert (joined.error_code, joined.generation_id) == (0, 1)
    assert big.sync({big.member_id: b"a"}).error_code == E.NOT_COORDINATOR
    assert neighbour.heartbeat() == E.NOT_COORDINATOR  # until a client looks the coordinator up again
    conn = broker.connect()
    found = conn.call(
        ApiKey.FIND_COORDINATOR, 4, fc.FindCoordinatorRequest(key_type=0, coordinator_keys=[group])
    )
    assert [c.error_code for c in found.coordinators] == [0]
    assert describe(broker, group) == ("Empty", [])  # as last written: the new group, before any member
    assert (neighbour.heartbeat(), neighbour.commit(9)) == (0, 0)
    assert describe(broker, same_shard) == ("Stable", [neighbour.member_id])
