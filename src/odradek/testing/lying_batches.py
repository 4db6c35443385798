"""Record batches whose header lies about their records, for tests no real client can write.

`build_batch` (protocol/records.py) writes an honest header; `with_header` then overwrites chosen
header fields and recomputes the CRC32C, so the batch passes the CRC check and only the lie
remains. `produce_raw` sends one batch to one partition through `RawClient` at a chosen Produce
version and returns the partition's answer; `fetch_raw` reads a partition's batches back as stored
(at a chosen Fetch version), so a test sees the header the broker kept.

    batch = with_header(build_batch(records), max_timestamp=-1)   # what Debian's sarama sends
    answer = produce_raw(bootstrap, "topic", batch, version=3)
"""

from __future__ import annotations

import struct

from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import fetch, produce
from odradek.protocol.records import CRC_OFFSET, HEADER, crc_of, read_header
from odradek.testing.raw_client import RawClient

_CRC = struct.Struct(">I")


def with_header(batch: bytes, **fields: int) -> bytes:
    """`batch` with the named `BatchHeader` fields overwritten and a CRC that matches again."""
    header = read_header(batch)._replace(**fields)
    out = bytearray(batch)
    HEADER.pack_into(out, 0, *header)
    _CRC.pack_into(out, CRC_OFFSET, crc_of(out, 0, len(out)))
    return bytes(out)


def produce_raw(
    bootstrap: str,
    topic: str,
    batch: bytes,
    *,
    version: int = 9,
    partition: int = 0,
    transactional_id: str | None = None,
    acks: int = -1,
) -> produce.PartitionProduceResponse:
    """Produce `batch` to one partition with a raw request; the partition's response."""
    data = produce.TopicProduceData(
        name=topic, partition_data=[produce.PartitionProduceData(partition, batch)]
    )
    request = produce.ProduceRequest(
        transactional_id=transactional_id, acks=acks, timeout_ms=5000, topic_data=[data]
    )
    with RawClient.connect(bootstrap) as client:
        response = client.call(ApiKey.PRODUCE, version, request)
    [[answer]] = [t.partition_responses for t in response.responses]
    assert isinstance(answer, produce.PartitionProduceResponse)
    return answer


def fetch_raw(
    bootstrap: str, topic: str, *, version: int = 12, partition: int = 0, offset: int = 0
) -> tuple[int, bytes]:
    """(error code, record bytes) of one partition read with a raw Fetch at `version`, as stored."""
    wanted = fetch.FetchPartition(partition=partition, fetch_offset=offset, partition_max_bytes=64 << 20)
    request = fetch.FetchRequest(
        max_wait_ms=0, max_bytes=64 << 20, topics=[fetch.FetchTopic(topic=topic, partitions=[wanted])]
    )
    with RawClient.connect(bootstrap) as client:
        [[part]] = [t.partitions for t in client.call(ApiKey.FETCH, version, request).responses]
    records = part.records
    data = b"".join(bytes(c) for c in records) if isinstance(records, list) else bytes(records or b"")
    return part.error_code, data
