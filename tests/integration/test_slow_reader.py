"""A client that pipelines requests and does not read the answers must not make the broker buffer
them all: once the socket's write buffer is full, the connection stops answering (and reading) until
the client drains it, so a connection costs about one response beyond the buffer limit."""

from __future__ import annotations

from pathlib import Path

from odradek.protocol import primitives as p
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import fetch, produce
from odradek.protocol.records import build_batch
from odradek.testing.in_process import InProcessBroker
from odradek.testing.raw_client import encode_request

HIGH_WATER = 64 * 1024


def fetch_frame(correlation_id: int) -> bytes:
    request = fetch.FetchRequest(
        max_bytes=4 << 20,
        topics=[
            fetch.FetchTopic(
                topic="big",
                partitions=[fetch.FetchPartition(partition=0, fetch_offset=0, partition_max_bytes=4 << 20)],
            )
        ],
    )
    body = encode_request(ApiKey.FETCH, 12, request, correlation_id)
    return p.INT32.pack(len(body)) + body


def response_ids(data: bytes) -> list[int]:
    ids, pos = [], 0
    while pos < len(data):
        (size,) = p.INT32.unpack_from(data, pos)
        ids.append(p.INT32.unpack_from(data, pos + 4)[0])
        pos += 4 + size
    return ids


def test_unread_responses_do_not_pile_up(tmp_path: Path) -> None:
    with InProcessBroker(tmp_path) as b:
        b.create_topic("big")
        writer = b.connect()
        for i in range(4):  # ~1 MiB in the log
            batch = build_batch([(None, bytes([i]) * 250_000, [], 1)])
            data = produce.TopicProduceData(
                name="big", partition_data=[produce.PartitionProduceData(0, batch)]
            )
            response = writer.call(
                ApiKey.PRODUCE, 9, produce.ProduceRequest(acks=1, timeout_ms=1000, topic_data=[data])
            )
            assert response.responses[0].partition_responses[0].error_code == 0

        slow = b.connect(high_water=HIGH_WATER)
        slow.send_bytes(b"".join(fetch_frame(cid) for cid in range(1, 21)))
        slow.settle()
        # one ~1 MiB answer went out, then the connection stopped: not twenty of them
        assert response_ids(bytes(slow.transport.written)) == [1]
        assert not slow.transport.reading
        answered = 1
        while answered < 20:
            slow.transport.drain()
            slow.settle()
            ids = response_ids(bytes(slow.transport.written))
            assert ids == list(range(1, len(ids) + 1))
            assert len(ids) == answered + 1  # one more answer per drain
            answered = len(ids)
        assert len(slow.transport.written) > 20 * 1_000_000
