"""Replaying the records a shard wrote rebuilds the state it has (the point of ARCHITECTURE D5).

Random sequences of client operations (classic joins, syncs, heartbeats, leaves, static restarts;
KIP-848 heartbeats, by topic names and regexes, and leaves; commits, offset deletions, group
deletions; topics growing, created and deleted; time passing with its timeouts, rebalances and
retention) run against a shard; after every step, a shard rebuilt from the log alone must agree with
the live one on everything that is persisted: the groups that exist, KIP-848 groups entirely,
classic groups that are Stable or Empty (generation, protocol, leader, members with their instance
ids, metadata and assignments, static members), and every committed offset.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odradek.coordinator.group.classic_group import ClassicGroup
from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.coordinator.group.config import GroupCoordinatorConfig
from odradek.coordinator.group.consumer_group import ConsumerGroup
from odradek.coordinator.group.shard import GroupCoordinatorShard
from odradek.coordinator.group.topics import StaticTopics
from odradek.model.errors import ErrorCode
from odradek.protocol.messages import consumer_group_heartbeat as cgh
from odradek.protocol.messages import delete_groups as dg
from odradek.protocol.messages import heartbeat as hb
from odradek.protocol.messages import leave_group as lvg
from odradek.protocol.messages import offset_commit as oc
from odradek.protocol.messages import offset_delete as od
from odradek.testing.group_coordinator import GroupShardDriver, join_request, sync_request

CLASSIC_GROUPS = ("c1", "c2")
CONSUMER_GROUP = "k"
SLOTS = 4
TOPIC_IDS = {"t": uuid.UUID(int=1), "u": uuid.UUID(int=2)}
CONFIG = GroupCoordinatorConfig(
    group_initial_rebalance_delay_ms=1_000,
    consumer_group_session_timeout_ms=20_000,
    offsets_retention_ms=120_000,
    offsets_retention_check_interval_ms=30_000,
)


@dataclass
class Client:
    """What one client process knows about its membership."""

    member_id: str = ""
    generation: int = -1
    leader_members: list[str] = field(default_factory=list)
    epoch: int = 0
    owned: dict[uuid.UUID, list[int]] = field(default_factory=dict)


class World:
    def __init__(self) -> None:
        self.topics = StaticTopics({"t": (TOPIC_IDS["t"], 3), "u": (TOPIC_IDS["u"], 2)})
        self.d = GroupShardDriver(CONFIG, self.topics)
        self.classic: dict[tuple[str, int], Client] = {}
        self.consumer: dict[int, Client] = {}
        self.instances = {0: "static-0", 1: "static-1"}

    def client(self, group: str, slot: int) -> Client:
        return self.classic.setdefault((group, slot), Client())

    # -- classic ---------------------------------------------------------------------------------

    def join(self, group: str, slot: int, topics: tuple[str, ...], restart: bool) -> None:
        c = self.client(group, slot)
        if restart:
            c.member_id = ""
        instance = self.instances.get(slot)
        request = join_request(
            group, c.member_id, topics=topics, instance_id=instance, session_timeout_ms=6_000
        )
        waiter = self.d.deferred(self.d.shard.join_group, self.d.ctx(9, f"client-{slot}"), request)
        answer = self.d.answer(waiter)
        if answer is not None and answer.error_code == ErrorCode.MEMBER_ID_REQUIRED:
            c.member_id = answer.member_id
            request = join_request(
                group, c.member_id, topics=topics, instance_id=instance, session_timeout_ms=6_000
            )
            waiter = self.d.deferred(self.d.shard.join_group, self.d.ctx(9, f"client-{slot}"), request)
        self.pending_joins.append((group, slot, waiter))

    pending_joins: list[tuple[str, int, Any]]

    def collect_joins(self) -> None:
        still = []
        for group, slot, waiter in self.pending_joins:
            answer = self.d.answer(waiter)
            if answer is None:
                still.append((group, slot, waiter))
            elif answer.error_code == ErrorCode.NO_ERROR:
                c = self.client(group, slot)
                c.member_id, c.generation = answer.member_id, answer.generation_id
                c.leader_members = [m.member_id for m in answer.members]
        self.pending_joins = still

    def sync(self, group: str, slot: int) -> None:
        c = self.client(group, slot)
        assignments = {m: f"{m[:4]}@{c.generation}".encode() for m in c.leader_members}
        request = sync_request(
            group, c.member_id, c.generation, assignments, instance_id=self.instances.get(slot)
        )
        self.d.deferred(self.d.shard.sync_group, self.d.ctx(5), request)

    def heartbeat(self, group: str, slot: int) -> None:
        c = self.client(group, slot)
        request = hb.HeartbeatRequest(
            group_id=group,
            generation_id=c.generation,
            member_id=c.member_id,
            group_instance_id=self.instances.get(slot),
        )
        self.d.call(self.d.shard.heartbeat, self.d.ctx(4), request)

    def leave(self, group: str, slot: int) -> None:
        c = self.client(group, slot)
        identity = lvg.MemberIdentity(member_id=c.member_id, group_instance_id=self.instances.get(slot))
        self.d.call(
            self.d.shard.leave_group, self.d.ctx(5), lvg.LeaveGroupRequest(group_id=group, members=[identity])
        )

    def form(self, group: str, slots: list[int], topics: tuple[str, ...]) -> None:
        """The usual dance in one step: the slots (re)join, the rebalance completes, everyone syncs."""
        for s in slots:
            self.join(group, s, topics, restart=False)
        self.d.advance(3 * CONFIG.group_initial_rebalance_delay_ms)
        self.collect_joins()
        self.sync_all(group)

    def sync_all(self, group: str) -> None:
        clients = [(s, c) for (g, s), c in self.classic.items() if g == group and c.member_id]
        for s, _ in sorted(clients, key=lambda sc: bool(sc[1].leader_members)):  # followers, then the leader
            self.sync(group, s)

    # -- KIP-848 ---------------------------------------------------------------------------------

    def consumer_heartbeat(
        self, slot: int, topics: tuple[str, ...], restart: bool, regex: str | None = None
    ) -> None:
        c = self.consumer.setdefault(slot, Client(member_id=f"k-{slot}"))
        if restart:
            c.epoch, c.owned = 0, {}
        joining = c.epoch == 0
        request = cgh.ConsumerGroupHeartbeatRequest(
            group_id=CONSUMER_GROUP,
            member_id=c.member_id
            if not restart or slot not in self.instances
            else f"k-{slot}-{len(self.d.log)}",
            member_epoch=c.epoch,
            instance_id=self.instances.get(slot),
            rebalance_timeout_ms=10_000 if joining else -1,
            subscribed_topic_names=list(topics) if joining else None,
            subscribed_topic_regex=regex,
            topic_partitions=[cgh.TopicPartitions(topic_id=t, partitions=p) for t, p in c.owned.items()],
        )
        response = self.d.call(self.d.shard.consumer_group_heartbeat, self.d.ctx(0), request)
        if response.error_code == ErrorCode.NO_ERROR:
            c.member_id, c.epoch = response.member_id, response.member_epoch
            if response.assignment is not None:
                c.owned = {tp.topic_id: list(tp.partitions) for tp in response.assignment.topic_partitions}
        elif response.error_code in (ErrorCode.FENCED_MEMBER_EPOCH, ErrorCode.UNKNOWN_MEMBER_ID):
            c.epoch, c.owned = 0, {}

    def consumer_round(self, slots: list[int]) -> None:
        """Members heartbeat twice: joining, reporting revocations, picking up freed partitions."""
        for _ in range(2):
            for slot in slots:
                self.consumer_heartbeat(slot, ("t", "u"), restart=False)

    def consumer_leave(self, slot: int, temporary: bool) -> None:
        c = self.consumer.get(slot)
        if c is None:
            return
        epoch = -2 if temporary and slot in self.instances else -1
        request = cgh.ConsumerGroupHeartbeatRequest(
            group_id=CONSUMER_GROUP,
            member_id=c.member_id,
            member_epoch=epoch,
            instance_id=self.instances.get(slot),
        )
        self.d.call(self.d.shard.consumer_group_heartbeat, self.d.ctx(0), request)
        c.epoch, c.owned = 0, {}

    # -- offsets and administration ----------------------------------------------------------------

    def commit(self, group: str, slot: int | None, topic: str, partition: int, offset: int) -> None:
        generation, member_id = -1, ""
        if slot is not None and group == CONSUMER_GROUP and slot in self.consumer:
            generation, member_id = self.consumer[slot].epoch, self.consumer[slot].member_id
        elif slot is not None and group != CONSUMER_GROUP:
            c = self.client(group, slot)
            generation, member_id = c.generation, c.member_id
        request = oc.OffsetCommitRequest(
            group_id=group,
            generation_id_or_member_epoch=generation,
            member_id=member_id,
            topics=[
                oc.OffsetCommitRequestTopic(
                    name=topic,
                    partitions=[
                        oc.OffsetCommitRequestPartition(partition_index=partition, committed_offset=offset)
                    ],
                )
            ],
        )
        self.d.call(self.d.shard.offset_commit, self.d.ctx(9), request)

    def delete_offsets(self, group: str, topic: str) -> None:
        request = od.OffsetDeleteRequest(
            group_id=group,
            topics=[
                od.OffsetDeleteRequestTopic(
                    name=topic, partitions=[od.OffsetDeleteRequestPartition(partition_index=0)]
                )
            ],
        )
        self.d.call(self.d.shard.offset_delete, self.d.ctx(0), request)

    def delete_group(self, group: str) -> None:
        self.d.call(self.d.shard.delete_groups, dg.DeleteGroupsRequest(groups_names=[group]).groups_names)

    def grow_topic(self, topic: str) -> None:
        info = self.topics.topic(topic)
        assert info is not None
        self.topics.set(topic, info.topic_id, info.num_partitions + 1)

    def toggle_topic(self, topic: str) -> None:
        """Create or delete a topic, and tell the shard (regex subscriptions)."""
        if self.topics.topic(topic) is None:
            self.topics.set(topic, uuid.uuid5(uuid.NAMESPACE_DNS, topic), 2)
        else:
            self.topics.delete(topic)
        self.d.call(self.d.shard.on_topics_changed)


def persisted(shard: GroupCoordinatorShard) -> dict[str, Any]:
    state = shard.state
    groups: dict[str, Any] = {}
    for gid, group in state.groups.items():
        if isinstance(group, ConsumerGroup):
            groups[gid] = group
        elif group.state in (ClassicGroupState.STABLE, ClassicGroupState.EMPTY):
            groups[gid] = _classic_view(group)
        else:
            groups[gid] = "rebalancing"
    return {"groups": groups, "offsets": state.offsets.committed}


def _classic_view(group: ClassicGroup) -> tuple[Any, ...]:
    members = [
        (
            m.member_id,
            m.group_instance_id,
            m.client_id,
            m.client_host,
            m.rebalance_timeout_ms,
            m.session_timeout_ms,
            m.metadata(group.protocol_name),
            m.assignment,
        )
        for m in group.members.values()
    ]
    empty_since = group.state_timestamp_ms if group.state is ClassicGroupState.EMPTY else None
    return (
        group.state,
        group.generation_id,
        group.protocol_type,
        group.protocol_name,
        group.leader_id,
        members,
        group.static_members,
        empty_since,
    )


def _same(live: dict[str, Any], replayed: dict[str, Any]) -> None:
    assert live["offsets"] == replayed["offsets"]
    assert set(live["groups"]) == set(replayed["groups"])
    for gid, view in live["groups"].items():
        if view == "rebalancing":
            continue  # a rebalance in progress is not persisted; the replayed group is its last generation
        assert view == replayed["groups"][gid], gid


group_names = st.sampled_from((*CLASSIC_GROUPS, CONSUMER_GROUP, "simple"))
classic_group = st.sampled_from(CLASSIC_GROUPS)
slot = st.integers(0, SLOTS - 1)
topics = st.sampled_from((("t",), ("t", "u"), ("u",)))
operation = st.one_of(
    st.tuples(st.just("join"), classic_group, slot, topics, st.booleans()),
    st.tuples(
        st.just("form"), classic_group, st.lists(slot, min_size=1, max_size=SLOTS, unique=True), topics
    ),
    st.tuples(st.just("sync_all"), classic_group),
    st.tuples(st.just("consumer_round"), st.lists(slot, min_size=1, max_size=SLOTS, unique=True)),
    st.tuples(st.just("sync"), classic_group, slot),
    st.tuples(st.just("heartbeat"), classic_group, slot),
    st.tuples(st.just("leave"), classic_group, slot),
    st.tuples(st.just("consumer_heartbeat"), slot, topics, st.booleans()),
    st.tuples(
        st.just("consumer_heartbeat"), slot, st.just(()), st.booleans(), st.sampled_from(("", "u.*", "t|v"))
    ),
    st.tuples(st.just("toggle_topic"), st.sampled_from(("v", "u2"))),
    st.tuples(st.just("consumer_leave"), slot, st.booleans()),
    st.tuples(st.just("consumer_leave"), st.sampled_from((0, 1)), st.just(True)),
    st.tuples(
        st.just("commit"),
        group_names,
        st.none() | slot,
        st.sampled_from(("t", "u", "x")),
        st.integers(0, 2),
        st.integers(0, 99),
    ),
    st.tuples(st.just("delete_offsets"), group_names, st.sampled_from(("t", "x"))),
    st.tuples(st.just("delete_group"), group_names),
    st.tuples(st.just("grow_topic"), st.sampled_from(("t", "u"))),
    st.tuples(st.just("advance"), st.sampled_from((200, 1_000, 3_000, 7_000, 20_000, 60_000))),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operation, min_size=1, max_size=60))
def test_replaying_the_log_rebuilds_the_persisted_state(operations: list[tuple[Any, ...]]) -> None:
    world = World()
    world.pending_joins = []
    for op in operations:
        name, *args = op
        if name == "advance":
            world.d.advance(args[0])
        else:
            getattr(world, name)(*args)
        world.collect_joins()
        _same(persisted(world.d.shard), persisted(world.d.replayed()))
