"""Deleting a topic drops the offsets groups committed on it (Kafka's onPartitionsDeleted): the
AdminClient no longer lists them, a restart does not bring them back, and a re-created topic of the
same name starts with no committed offsets."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from confluent_kafka import OFFSET_INVALID, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient
from group_clients import GROUP_BROKER, QUICK, committed, create_topic, member, poll_until

from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat


def group_offsets(bootstrap: str, group: str) -> list[tuple[str, int, int]]:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    [future] = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)]).values()
    return sorted((tp.topic, tp.partition, tp.offset) for tp in future.result(15).topic_partitions)


def test_offsets_of_a_deleted_topic_are_gone_also_after_a_restart(
    broker_factory: Callable[..., BrokerProcess], topic_name: str
) -> None:
    broker = broker_factory(GROUP_BROKER)
    bootstrap = broker.bootstrap
    doomed, kept, group = f"{topic_name}-t", f"{topic_name}-u", f"g-{topic_name}"
    create_topic(bootstrap, doomed, 2)
    create_topic(bootstrap, kept, 1)
    consumer = member(bootstrap, group, "c0", **QUICK, **{"enable.auto.commit": False})
    consumer.subscribe([doomed, kept])
    poll_until([consumer], lambda: len(consumer.assignment()) == 3)
    consumer.commit(
        offsets=[TopicPartition(doomed, 0, 4), TopicPartition(doomed, 1, 3), TopicPartition(kept, 0, 2)],
        asynchronous=False,
    )
    consumer.close()
    assert group_offsets(bootstrap, group) == [(doomed, 0, 4), (doomed, 1, 3), (kept, 0, 2)]

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.delete_topics([doomed])[doomed].result(15)
    assert group_offsets(bootstrap, group) == [(kept, 0, 2)]

    broker.restart()
    assert group_offsets(bootstrap, group) == [(kept, 0, 2)]
    create_topic(bootstrap, doomed, 2)
    assert committed(bootstrap, group, doomed, 2) == [OFFSET_INVALID, OFFSET_INVALID]
    assert committed(bootstrap, group, kept, 1) == [2]
