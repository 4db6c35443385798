"""A handler's unexpected exception answers UNKNOWN_SERVER_ERROR in the API's own response shape, and
the connection stays up (Kafka's handleError), for raw requests and for a real client (librdkafka).

The broker runs in this process (`ThreadedBroker`), so a test can make a handler fail on purpose."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from odradek.broker.app import Broker
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import create_topics, list_offsets, metadata, produce
from odradek.protocol.records import build_batch
from odradek.testing.raw_client import RawClient
from odradek.testing.threaded_broker import ThreadedBroker

E = ErrorCode.UNKNOWN_SERVER_ERROR


@pytest.fixture
def running(tmp_path: Path) -> Iterator[ThreadedBroker]:
    with ThreadedBroker(tmp_path, {"num.partitions": "2"}) as broker:
        yield broker


def fail(running: ThreadedBroker, key: ApiKey, handler: Callable[..., Any]) -> None:
    def swap(broker: Broker) -> None:
        spec = broker.dispatcher.spec(key)
        assert spec is not None
        broker.dispatcher.specs[key] = dataclasses.replace(spec, handler=handler)

    running.call(swap)


def boom(ctx: Any, request: Any) -> Any:
    raise RuntimeError("a bug in a handler")


async def boom_later(ctx: Any, request: Any) -> Any:
    await asyncio.sleep(0.01)
    raise RuntimeError("a bug after the handler's first wait")


def create_topic(client: RawClient, name: str) -> None:
    request = create_topics.CreateTopicsRequest(
        topics=[create_topics.CreatableTopic(name=name, num_partitions=2, replication_factor=1)],
        timeout_ms=5000,
    )
    [created] = client.call(ApiKey.CREATE_TOPICS, 7, request).topics
    assert created.error_code == 0


def test_a_failing_handler_answers_per_partition_and_the_connection_stays(
    running: ThreadedBroker, caplog: pytest.LogCaptureFixture
) -> None:
    with RawClient.connect(running.bootstrap) as client:
        create_topic(client, "t")
        fail(running, ApiKey.LIST_OFFSETS, boom)
        request = list_offsets.ListOffsetsRequest(
            replica_id=-1,
            topics=[
                list_offsets.ListOffsetsTopic(
                    name="t",
                    partitions=[
                        list_offsets.ListOffsetsPartition(partition_index=p, timestamp=-1) for p in (0, 1)
                    ],
                )
            ],
        )
        with caplog.at_level(logging.ERROR, "odradek.broker.dispatcher"):
            response = client.call(ApiKey.LIST_OFFSETS, 8, request)
        assert [
            (t.name, [(p.partition_index, p.error_code, p.offset) for p in t.partitions])
            for t in response.topics
        ] == [("t", [(0, E, -1), (1, E, -1)])]
        assert "a bug in a handler" in caplog.text  # the traceback is logged
        answer = client.call(ApiKey.METADATA, 12, metadata.MetadataRequest(topics=None))
        assert [t.name for t in answer.topics] == ["t"]


def test_a_handler_failing_after_it_waited_answers_too(running: ThreadedBroker) -> None:
    fail(running, ApiKey.CREATE_TOPICS, boom_later)
    with RawClient.connect(running.bootstrap) as client:
        request = create_topics.CreateTopicsRequest(
            topics=[create_topics.CreatableTopic(name="x", num_partitions=1, replication_factor=1)],
            timeout_ms=5000,
        )
        [topic] = client.call(ApiKey.CREATE_TOPICS, 7, request).topics
        assert (topic.name, topic.error_code) == ("x", E)
        assert client.call(ApiKey.METADATA, 12, metadata.MetadataRequest(topics=None)).topics == []


def test_produce_with_acks_0_has_no_answer_so_the_connection_closes(running: ThreadedBroker) -> None:
    with RawClient.connect(running.bootstrap) as client:
        create_topic(client, "t")
        fail(running, ApiKey.PRODUCE, boom)
        batch = build_batch([(None, b"v", [], 0)])
        data = produce.TopicProduceData(name="t", partition_data=[produce.PartitionProduceData(0, batch)])
        client.send(ApiKey.PRODUCE, 9, produce.ProduceRequest(acks=0, timeout_ms=1000, topic_data=[data]))
        assert client.closed_by_peer()


def test_a_real_client_gets_unknown_server_error_and_keeps_working(running: ThreadedBroker) -> None:
    admin = AdminClient({"bootstrap.servers": running.bootstrap})
    fail(running, ApiKey.CREATE_TOPICS, boom)
    [future] = admin.create_topics([NewTopic("orders", 1, 1)], operation_timeout=5).values()
    with pytest.raises(KafkaException) as failed:
        future.result(timeout=10)
    assert failed.value.args[0].code() == KafkaError.UNKNOWN
    assert "orders" not in admin.list_topics(timeout=10).topics  # same client, same connection, still served
