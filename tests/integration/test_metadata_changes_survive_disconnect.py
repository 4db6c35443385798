"""A client that disconnects while its request changes metadata (auto-creating a topic) must not
leave the change half-applied: the records are persisted, so the partitions must be hosted too."""

from __future__ import annotations

import asyncio
from pathlib import Path

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import metadata, produce
from odradek.protocol.records import build_batch
from odradek.testing.in_process import InProcessBroker


def test_auto_create_completes_after_the_client_goes_away(tmp_path: Path) -> None:
    with InProcessBroker(tmp_path, {"num.partitions": "8"}) as b:
        conn = b.connect()
        request = metadata.MetadataRequest(topics=[metadata.MetadataRequestTopic(name="orphan")])
        conn.send(ApiKey.METADATA, 12, request)
        assert conn.protocol.busy is not None  # creating the topic: the request waits
        conn.close()  # the client disconnects mid-request; its task is cancelled
        b.run(asyncio.sleep(0.5))
        assert b.broker.image.topic("orphan") is not None
        assert [p.tp.partition for p in b.broker.partitions.all_partitions()] == list(range(8))

        other = b.connect()
        data = produce.TopicProduceData(
            name="orphan",
            partition_data=[produce.PartitionProduceData(0, build_batch([(None, b"v", [], 1)]))],
        )
        response = other.call(
            ApiKey.PRODUCE, 9, produce.ProduceRequest(acks=1, timeout_ms=1000, topic_data=[data])
        )
        assert response.responses[0].partition_responses[0].error_code == ErrorCode.NO_ERROR
