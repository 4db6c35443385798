"""ListOffsets over raw sockets: every special timestamp, exact offsets, timestamps and epochs."""

from __future__ import annotations

import pytest

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import list_offsets, metadata, produce
from odradek.protocol.records import build_batch
from odradek.testing.raw_client import RawClient

LATEST, EARLIEST, MAX_TIMESTAMP, EARLIEST_LOCAL, LATEST_TIERED = -1, -2, -3, -4, -5


def query(
    client: RawClient, topic: str, timestamps: list[int], version: int = 10
) -> list[tuple[int, int, int, int]]:
    request = list_offsets.ListOffsetsRequest(
        replica_id=-1,
        topics=[
            list_offsets.ListOffsetsTopic(
                name=topic,
                partitions=[list_offsets.ListOffsetsPartition(partition_index=0, timestamp=0)],
            )
        ],
    )
    out = []
    for ts in timestamps:
        request.topics[0].partitions[0].timestamp = ts
        [[part]] = [t.partitions for t in client.call(ApiKey.LIST_OFFSETS, version, request).topics]
        out.append((part.error_code, part.offset, part.timestamp, part.leader_epoch))
    return out


@pytest.fixture
def client(bootstrap: str, topic_name: str) -> RawClient:
    c = RawClient.connect(bootstrap)
    c.call(
        ApiKey.METADATA, 12, metadata.MetadataRequest(topics=[metadata.MetadataRequestTopic(name=topic_name)])
    )
    for stamps in ([1000, 3000, 2000], [5000, 4000, 5000], [2500]):
        batch = build_batch([(None, f"at {ts}".encode(), [], ts) for ts in stamps])
        data = produce.TopicProduceData(
            name=topic_name, partition_data=[produce.PartitionProduceData(0, batch)]
        )
        response = c.call(
            ApiKey.PRODUCE, 9, produce.ProduceRequest(acks=-1, timeout_ms=1000, topic_data=[data])
        )
        assert response.responses[0].partition_responses[0].error_code == 0
    return c


def test_special_timestamps(client: RawClient, topic_name: str) -> None:
    with client:
        assert query(
            client, topic_name, [EARLIEST, LATEST, MAX_TIMESTAMP, EARLIEST_LOCAL, LATEST_TIERED]
        ) == [
            (0, 0, -1, 0),
            (0, 7, -1, 0),
            (0, 3, 5000, 0),  # the first record holding the largest timestamp
            (0, 0, -1, 0),
            (0, -1, -1, -1),  # nothing is tiered
        ]


def test_first_offset_at_or_after_a_timestamp(client: RawClient, topic_name: str) -> None:
    with client:
        answers = query(client, topic_name, [0, 1000, 1001, 2000, 2500, 3001, 4500, 5000, 5001])
        assert answers == [
            (0, 0, 1000, 0),
            (0, 0, 1000, 0),
            (0, 1, 3000, 0),
            (0, 1, 3000, 0),
            (0, 1, 3000, 0),
            (0, 3, 5000, 0),
            (0, 3, 5000, 0),
            (0, 3, 5000, 0),
            (0, -1, -1, -1),  # past every timestamp
        ]


def test_unknown_partition_and_bad_timestamp(client: RawClient, topic_name: str) -> None:
    with client:
        request = list_offsets.ListOffsetsRequest(
            replica_id=-1,
            topics=[
                list_offsets.ListOffsetsTopic(
                    name=topic_name,
                    partitions=[
                        list_offsets.ListOffsetsPartition(partition_index=3, timestamp=-1),
                        list_offsets.ListOffsetsPartition(partition_index=0, timestamp=-7),
                    ],
                )
            ],
        )
        [[unknown, bad]] = [t.partitions for t in client.call(ApiKey.LIST_OFFSETS, 10, request).topics]
        assert unknown.error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        assert bad.error_code == ErrorCode.INVALID_REQUEST
