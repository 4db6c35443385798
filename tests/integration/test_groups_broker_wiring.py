"""The group coordinator inside a broker: `__consumer_offsets` created on first use with the configured
partition count, groups and offsets reloaded at start, offsets retention driven by the broker's
settings, and the shards following the topic's real partition count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from odradek.broker.coordinator_loader import entries as log_entries
from odradek.broker.group_coordinator import coordinator_config
from odradek.coordinator.partitioning import coordinator_partition
from odradek.metadata.topic_names import GROUP_METADATA_TOPIC_NAME
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import consumer_group_heartbeat as cgh
from odradek.protocol.messages import delete_topics as dt
from odradek.protocol.messages import describe_groups as dsc
from odradek.protocol.messages import find_coordinator as fc
from odradek.protocol.messages import heartbeat as hb
from odradek.protocol.messages import list_groups as lg
from odradek.protocol.messages import offset_commit as oc
from odradek.protocol.messages import offset_fetch as of
from odradek.testing.clock import FakeClock
from odradek.testing.group_coordinator import join_request, sync_request
from odradek.testing.in_process import InMemoryConnection, InProcessBroker


def find(conn: InMemoryConnection, group: str) -> int:
    response = conn.call(
        ApiKey.FIND_COORDINATOR, 4, fc.FindCoordinatorRequest(key_type=0, coordinator_keys=[group])
    )
    return int(response.coordinators[0].error_code)


def commit(
    conn: InMemoryConnection, group: str, offset: int, generation: int = -1, member_id: str = ""
) -> int:
    request = oc.OffsetCommitRequest(
        group_id=group,
        generation_id_or_member_epoch=generation,
        member_id=member_id,
        topics=[
            oc.OffsetCommitRequestTopic(name="t", partitions=[oc.OffsetCommitRequestPartition(0, offset)])
        ],
    )
    return int(conn.call(ApiKey.OFFSET_COMMIT, 9, request).topics[0].partitions[0].error_code)


def fetched(conn: InMemoryConnection, group: str) -> int:
    request = of.OffsetFetchRequest(
        groups=[
            of.OffsetFetchRequestGroup(
                group_id=group, topics=[of.OffsetFetchRequestTopics(name="t", partition_indexes=[0])]
            )
        ]
    )
    return int(conn.call(ApiKey.OFFSET_FETCH, 9, request).groups[0].topics[0].partitions[0].committed_offset)


def test_the_offsets_topic_is_created_on_first_use(tmp_path: Path) -> None:
    with InProcessBroker(tmp_path, {"offsets.topic.num.partitions": "4"}) as b:
        conn = b.connect()
        assert b.broker.image.topic(GROUP_METADATA_TOPIC_NAME) is None
        assert conn.call(ApiKey.LIST_GROUPS, 5, lg.ListGroupsRequest()).groups == []  # does not create it
        assert find(conn, "g") == 0
        topic = b.broker.image.topic(GROUP_METADATA_TOPIC_NAME)
        assert topic is not None and len(topic.partitions) == 4
        assert b.broker.groups.service.runtime.partitions() == [0, 1, 2, 3]
        assert b.broker.log_config(GROUP_METADATA_TOPIC_NAME).cleanup_policy == ("compact",)


def test_groups_and_offsets_are_reloaded_at_start(tmp_path: Path) -> None:
    with InProcessBroker(tmp_path) as b:
        b.create_topic("t", 1)
        conn = b.connect()
        assert find(conn, "g") == 0
        first = conn.call(ApiKey.JOIN_GROUP, 9, join_request("g"))
        joined = conn.call(ApiKey.JOIN_GROUP, 9, join_request("g", first.member_id))
        member = joined.member_id
        assert (
            conn.call(ApiKey.SYNC_GROUP, 5, sync_request("g", member, 1, {member: b"a"})).assignment == b"a"
        )
        assert commit(conn, "g", 42, 1, member) == 0
        assert commit(conn, "simple", 7) == 0
    with InProcessBroker(tmp_path) as b:  # the same data directory: loaded at start, no FindCoordinator
        conn = b.connect()
        assert (fetched(conn, "g"), fetched(conn, "simple")) == (42, 7)
        [group] = conn.call(ApiKey.DESCRIBE_GROUPS, 5, dsc.DescribeGroupsRequest(groups=["g"])).groups
        assert (group.group_state, [m.member_id for m in group.members]) == ("Stable", [member])
        beat = hb.HeartbeatRequest(group_id="g", generation_id=1, member_id=member)
        assert conn.call(ApiKey.HEARTBEAT, 4, beat).error_code == 0  # a member gets a new session on load


def test_offsets_expire_after_the_retention(tmp_path: Path) -> None:
    clock = FakeClock()
    overrides = {"offsets.retention.minutes": "1", "offsets.retention.check.interval.ms": "1000"}
    with InProcessBroker(tmp_path, overrides, clock=clock) as b:
        b.create_topic("t", 1)
        conn = b.connect()
        assert find(conn, "simple") == 0
        assert commit(conn, "simple", 7) == 0
        runtime = b.broker.groups.service.runtime
        clock.advance(59_000)
        b.run(runtime.fire_due_timers())
        assert fetched(conn, "simple") == 7
        clock.advance(2_000)
        b.run(runtime.fire_due_timers())
        assert fetched(conn, "simple") == -1  # expired, and the empty "simple" group with it
        assert conn.call(ApiKey.LIST_GROUPS, 5, lg.ListGroupsRequest()).groups == []


def test_the_shards_follow_the_topics_partition_count(tmp_path: Path) -> None:
    """`offsets.topic.num.partitions` only sizes a new topic; an existing one keeps its count."""
    with InProcessBroker(tmp_path) as b:
        b.create_topic(GROUP_METADATA_TOPIC_NAME, 3)
        b.create_topic("t", 1)
        conn = b.connect()
        assert find(conn, "some-group") == 0
        service = b.broker.groups.service
        assert service.runtime.partitions() == [0, 1, 2]
        assert service.partition_for("some-group") == coordinator_partition("some-group", 3)
        assert commit(conn, "some-group", 5) == 0
        assert fetched(conn, "some-group") == 5


def test_coordinator_settings_come_from_the_broker_configs(tmp_path: Path) -> None:
    overrides = {
        "offsets.retention.minutes": "3",
        "group.min.session.timeout.ms": "1000",
        "group.consumer.assignors": "range",
        "offset.metadata.max.bytes": "10",
    }
    with InProcessBroker(tmp_path, overrides) as b:
        config = coordinator_config(b.broker)
    assert (
        config.offsets_retention_ms,
        config.group_min_session_timeout_ms,
        config.consumer_group_assignors,
        config.offset_metadata_max_bytes,
        config.group_initial_rebalance_delay_ms,
        config.offsets_topic_num_partitions,
    ) == (180_000, 1000, ("range",), 10, 0, 50)


def test_a_compacted_offsets_topic_reloads_the_latest_offsets(tmp_path: Path) -> None:
    clock = FakeClock()
    with InProcessBroker(tmp_path, clock=clock) as b:
        # Created by hand to roll segments by time (the broker's own settings only allow 1 MiB segments).
        b.create_topic(GROUP_METADATA_TOPIC_NAME, 1, **{"cleanup.policy": "compact", "segment.ms": "1000"})
        b.create_topic("t", 1)
        conn = b.connect()
        assert find(conn, "g") == 0
        for offset in range(200):
            assert commit(conn, "g", offset) == 0
            if offset % 20 == 19:
                clock.advance(2_000)  # the next commit rolls a new segment
        assert commit(conn, "other", 5) == 0
        assert b.broker.cleaner is not None
        assert b.run(b.broker.cleaner.run_pass()), "nothing was compacted"
        partition = b.broker.partitions.get(GROUP_METADATA_TOPIC_NAME, 0)
        assert partition is not None
        assert sum(1 for _ in log_entries(partition.log)) < 30  # of 201 commits to two keys
    with InProcessBroker(tmp_path, clock=clock) as b:
        conn = b.connect()
        assert (fetched(conn, "g"), fetched(conn, "other")) == (199, 5)


def test_the_consumer_protocol_can_be_disabled(tmp_path: Path) -> None:
    with InProcessBroker(tmp_path, {"group.coordinator.rebalance.protocols": "classic"}) as b:
        b.create_topic("t", 1)
        conn = b.connect()
        assert find(conn, "g") == 0
        request = cgh.ConsumerGroupHeartbeatRequest(
            group_id="g",
            member_id="m",
            member_epoch=0,
            rebalance_timeout_ms=1000,
            subscribed_topic_names=["t"],
            topic_partitions=[],
        )
        assert (
            conn.call(ApiKey.CONSUMER_GROUP_HEARTBEAT, 1, request).error_code == ErrorCode.UNSUPPORTED_VERSION
        )


def test_a_created_topic_matching_a_regex_subscription_is_assigned(tmp_path: Path) -> None:
    """The broker feeds topic creation to the coordinator: no waiting for the periodic refresh."""
    with InProcessBroker(tmp_path, {"offsets.topic.num.partitions": "1"}, clock=FakeClock()) as b:
        first = b.create_topic("orders-a", 1)
        b.create_topic("other", 1)
        conn = b.connect()
        assert find(conn, "g") == 0
        request = cgh.ConsumerGroupHeartbeatRequest(
            group_id="g",
            member_id="m",
            member_epoch=0,
            rebalance_timeout_ms=1000,
            subscribed_topic_names=[],
            subscribed_topic_regex="(^orders-.*)",
            topic_partitions=[],
        )
        joined = conn.call(ApiKey.CONSUMER_GROUP_HEARTBEAT, 1, request)
        assert joined.assignment is not None
        assert [(t.topic_id, t.partitions) for t in joined.assignment.topic_partitions] == [(first, [0])]
        second = b.create_topic("orders-b", 2)
        beat = cgh.ConsumerGroupHeartbeatRequest(
            group_id="g",
            member_id="m",
            member_epoch=joined.member_epoch,
            topic_partitions=[cgh.TopicPartitions(topic_id=first, partitions=[0])],
        )
        after = conn.call(ApiKey.CONSUMER_GROUP_HEARTBEAT, 1, beat)
        assert after.assignment is not None
        assert (
            after.member_epoch,
            sorted((t.topic_id, t.partitions) for t in after.assignment.topic_partitions),
        ) == (
            joined.member_epoch + 1,
            sorted([(first, [0]), (second, [0, 1])]),
        )


def test_topic_changes_succeed_even_when_the_group_coordinator_fails_to_follow(tmp_path: Path) -> None:
    with InProcessBroker(tmp_path) as b:

        async def broken(*_: object) -> None:
            raise RuntimeError("coordinator bug")

        b.broker.groups.on_topics_deleted = broken  # type: ignore[method-assign]
        b.broker.groups.on_topics_changed = broken  # type: ignore[method-assign]
        topic_id = b.create_topic("survives", 2)  # would raise if the failure reached CreateTopics
        assert b.broker.image.topic("survives") is not None
        deleted = b.connect().call(ApiKey.DELETE_TOPICS, 4, dt.DeleteTopicsRequest(topic_names=["survives"]))
        assert [r.error_code for r in deleted.responses] == [ErrorCode.NO_ERROR]
        assert b.broker.image.topics_by_id.get(topic_id) is None


def test_a_commit_waiting_for_its_fsync_is_answered_whole_after_it(tmp_path: Path) -> None:
    """With `flush.messages` 1 a commit is answered only after the fsync (the handler's awaitable
    path); the broker's own refusals (an unknown topic) are merged into that later answer."""
    with InProcessBroker(tmp_path, {"log.flush.interval.messages": "1"}) as b:
        b.create_topic("t", 1)
        conn = b.connect()
        assert find(conn, "g") == 0
        service = b.broker.groups.service
        answers: list[object] = []
        now = service.offset_commit_now

        def spy(ctx: Any, request: oc.OffsetCommitRequest) -> Any:
            answers.append(answer := now(ctx, request))
            return answer

        service.offset_commit_now = spy  # type: ignore[method-assign]
        request = oc.OffsetCommitRequest(
            group_id="g",
            topics=[
                oc.OffsetCommitRequestTopic(name="t", partitions=[oc.OffsetCommitRequestPartition(0, 42)]),
                oc.OffsetCommitRequestTopic(name="nope", partitions=[oc.OffsetCommitRequestPartition(0, 1)]),
            ],
        )
        response = conn.call(ApiKey.OFFSET_COMMIT, 9, request)
        assert len(answers) == 1 and not isinstance(answers[0], oc.OffsetCommitResponse)  # it waited
        assert {(t.name, p.partition_index, p.error_code) for t in response.topics for p in t.partitions} == {
            ("t", 0, ErrorCode.NO_ERROR),
            ("nope", 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
        }
        assert fetched(conn, "g") == 42
