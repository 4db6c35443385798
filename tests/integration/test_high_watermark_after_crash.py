"""After kill -9 the replication-offset checkpoint is older than the log; a leader alone in its ISR
must still expose everything it acknowledged (its high watermark is its own log end offset)."""

from __future__ import annotations

from collections.abc import Callable

from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import fetch, metadata, produce
from odradek.protocol.records import build_batch
from odradek.testing.broker_process import BrokerProcess
from odradek.testing.raw_client import RawClient


def fetch_partition(client: RawClient, topic: str) -> fetch.PartitionData:
    request = fetch.FetchRequest(
        max_wait_ms=0,
        topics=[
            fetch.FetchTopic(
                topic=topic, partitions=[fetch.FetchPartition(partition=0, partition_max_bytes=1 << 20)]
            )
        ],
    )
    [[part]] = [t.partitions for t in client.call(ApiKey.FETCH, 12, request).responses]
    return part


def test_acknowledged_records_are_readable_after_kill_9(broker_factory: Callable[..., BrokerProcess]) -> None:
    broker = broker_factory({"num.partitions": "1"})
    with RawClient.connect(broker.bootstrap) as client:
        client.call(
            ApiKey.METADATA, 12, metadata.MetadataRequest(topics=[metadata.MetadataRequestTopic(name="t")])
        )
        for i in range(3):
            records = build_batch([(b"k", b"v%d" % i, [], 1_700_000_000_000)])
            data = produce.TopicProduceData(
                name="t", partition_data=[produce.PartitionProduceData(0, records)]
            )
            answer = client.call(
                ApiKey.PRODUCE, 9, produce.ProduceRequest(acks=-1, timeout_ms=5000, topic_data=[data])
            )
            assert answer.responses[0].partition_responses[0].base_offset == i
    broker.restart(kill=True)  # long before the 60 s checkpoint: it still says high watermark 0
    with RawClient.connect(broker.bootstrap) as client:
        part = fetch_partition(client, "t")
        assert (part.error_code, part.high_watermark, part.log_start_offset) == (0, 3, 0)
