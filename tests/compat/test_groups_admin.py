"""Group administration with confluent-kafka's AdminClient: list (with state and type filters),
describe (classic and KIP-848 groups), list and alter offsets, delete."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from confluent_kafka import (
    ConsumerGroupState,
    ConsumerGroupTopicPartitions,
    ConsumerGroupType,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient
from group_clients import QUICK, create_topic, member, owned, poll_until

pytestmark = pytest.mark.compat


@pytest.fixture
def admin(group_bootstrap: str) -> Iterator[AdminClient]:
    yield AdminClient({"bootstrap.servers": group_bootstrap})


def listed(admin: AdminClient, suffix: str, **filters: object) -> dict[str, tuple[object, object]]:
    result = admin.list_consumer_groups(request_timeout=10, **filters).result(15)
    assert result.errors == []
    return {g.group_id: (g.state, g.type) for g in result.valid if g.group_id.endswith(suffix)}


def offsets(admin: AdminClient, group: str) -> list[tuple[int, int]]:
    [future] = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)]).values()
    return sorted((tp.partition, tp.offset) for tp in future.result(15).topic_partitions)


def partition_errors(future: object) -> list[tuple[int, int | None]]:
    result = future.result(15)  # type: ignore[attr-defined]
    return [(tp.partition, tp.error.code() if tp.error else None) for tp in result.topic_partitions]


def error_of(future: object) -> int | None:
    try:
        future.result(15)  # type: ignore[attr-defined]
    except KafkaException as exc:
        return int(exc.args[0].code())
    return None


def test_list_describe_and_delete_classic_and_consumer_groups(
    group_bootstrap: str, admin: AdminClient, topic_name: str
) -> None:
    create_topic(group_bootstrap, topic_name, 3)
    classic_id, consumer_id = f"classic-{topic_name}", f"consumer-{topic_name}"
    classic = member(
        group_bootstrap,
        classic_id,
        "cc",
        **QUICK,
        **{"partition.assignment.strategy": "range", "enable.auto.commit": False},
    )
    consumer = member(
        group_bootstrap, consumer_id, "kc", **{"group.protocol": "consumer", "enable.auto.commit": False}
    )
    try:
        classic.subscribe([topic_name])
        consumer.subscribe([topic_name])
        poll_until([classic, consumer], lambda: owned(classic) == [0, 1, 2] and owned(consumer) == [0, 1, 2])
        classic.commit(offsets=[TopicPartition(topic_name, 0, 3)], asynchronous=False)

        assert listed(admin, topic_name) == {
            classic_id: (ConsumerGroupState.STABLE, ConsumerGroupType.CLASSIC),
            consumer_id: (ConsumerGroupState.STABLE, ConsumerGroupType.CONSUMER),
        }
        assert listed(admin, topic_name, types={ConsumerGroupType.CONSUMER}) == {
            consumer_id: (ConsumerGroupState.STABLE, ConsumerGroupType.CONSUMER)
        }
        assert listed(admin, topic_name, states={ConsumerGroupState.EMPTY}) == {}

        described = {
            g: f.result(15) for g, f in admin.describe_consumer_groups([classic_id, consumer_id]).items()
        }
        c, k = described[classic_id], described[consumer_id]
        assert (c.state, c.type, c.partition_assignor, c.is_simple_consumer_group) == (
            ConsumerGroupState.STABLE,
            ConsumerGroupType.CLASSIC,
            "range",
            False,
        )
        [cm] = c.members
        assert (cm.client_id, cm.host, cm.member_id.startswith("cc-")) == ("cc", "/127.0.0.1", True)
        assert sorted(tp.partition for tp in cm.assignment.topic_partitions) == [0, 1, 2]
        assert (k.state, k.type, k.partition_assignor) == (
            ConsumerGroupState.STABLE,
            ConsumerGroupType.CONSUMER,
            "uniform",
        )
        [km] = k.members
        assert (km.client_id, km.member_id) == ("kc", consumer.memberid())
        assert sorted(tp.partition for tp in km.assignment.topic_partitions) == [0, 1, 2]
        assert sorted(tp.partition for tp in km.target_assignment.topic_partitions) == [0, 1, 2]

        futures = admin.delete_consumer_groups([classic_id, consumer_id])
        assert [error_of(futures[g]) for g in (classic_id, consumer_id)] == [KafkaError.NON_EMPTY_GROUP] * 2
    finally:
        classic.close()
        consumer.close()

    assert listed(admin, topic_name, states={ConsumerGroupState.EMPTY}) == {
        classic_id: (ConsumerGroupState.EMPTY, ConsumerGroupType.CLASSIC),
        consumer_id: (ConsumerGroupState.EMPTY, ConsumerGroupType.CONSUMER),
    }
    futures = admin.delete_consumer_groups([classic_id, consumer_id, f"unknown-{topic_name}"])
    assert [error_of(f) for f in futures.values()] == [None, None, KafkaError.GROUP_ID_NOT_FOUND]
    assert listed(admin, topic_name) == {}
    assert offsets(admin, classic_id) == []  # deleted with the group
    gone = admin.describe_consumer_groups([classic_id])[classic_id].result(15)
    assert (gone.state, gone.members) == (ConsumerGroupState.DEAD, [])


def test_list_and_alter_offsets(group_bootstrap: str, admin: AdminClient, topic_name: str) -> None:
    create_topic(group_bootstrap, topic_name, 2)
    group = f"g-{topic_name}"
    request = ConsumerGroupTopicPartitions(
        group, [TopicPartition(topic_name, 0, 5), TopicPartition(topic_name, 1, 9)]
    )
    [future] = admin.alter_consumer_group_offsets([request]).values()
    assert [(tp.partition, tp.offset, tp.error) for tp in future.result(15).topic_partitions] == [
        (0, 5, None),
        (1, 9, None),
    ]
    assert offsets(admin, group) == [(0, 5), (1, 9)]
    # A "simple" group (commits only) is listed Empty and has no protocol type.
    assert listed(admin, topic_name) == {group: (ConsumerGroupState.EMPTY, ConsumerGroupType.CLASSIC)}
    described = admin.describe_consumer_groups([group])[group].result(15)
    assert (described.state, described.is_simple_consumer_group, described.members) == (
        ConsumerGroupState.EMPTY,
        True,
        [],
    )

    # While a member is active, only the group's own members may commit.
    consumer = member(group_bootstrap, group, "c0", **QUICK, **{"enable.auto.commit": False})
    try:
        consumer.subscribe([topic_name])
        poll_until([consumer], lambda: owned(consumer) == [0, 1])
        again = ConsumerGroupTopicPartitions(group, [TopicPartition(topic_name, 0, 1)])
        [future] = admin.alter_consumer_group_offsets([again]).values()
        assert partition_errors(future) == [(0, KafkaError.UNKNOWN_MEMBER_ID)]
        # The member starts where the offsets say.
        found = consumer.committed([TopicPartition(topic_name, 0), TopicPartition(topic_name, 1)], timeout=10)
        assert [tp.offset for tp in found] == [5, 9]
    finally:
        consumer.close()
    assert offsets(admin, group) == [(0, 5), (1, 9)]

    unknown = ConsumerGroupTopicPartitions(group, [TopicPartition(f"{topic_name}-missing", 0, 1)])
    [future] = admin.alter_consumer_group_offsets([unknown]).values()
    assert partition_errors(future) == [(0, KafkaError.UNKNOWN_TOPIC_OR_PART)]
