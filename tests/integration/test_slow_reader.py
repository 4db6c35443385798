"""A client that pipelines requests and does not read the answers must not make the broker buffer
them all: once the socket's write buffer is full, the connection stops answering (and reading) until
the client drains it, so a connection costs about one response beyond the buffer limit."""

from __future__ import annotations

from pathlib import Path

from odradek.protocol import primitives as p
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import fetch, produce
from odradek.protocol.records import build_batch
from odradek.testing.fake_transport import feed
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


def produce_frame(topic: str, value: bytes, correlation_id: int) -> bytes:
    batch = build_batch([(None, value, [], 1)])
    data = produce.TopicProduceData(name=topic, partition_data=[produce.PartitionProduceData(0, batch)])
    body = encode_request(
        ApiKey.PRODUCE, 9, produce.ProduceRequest(acks=1, timeout_ms=1000, topic_data=[data]), correlation_id
    )
    return p.INT32.pack(len(body)) + body


def test_requests_queued_behind_a_long_poll_are_bounded_in_bytes(tmp_path: Path) -> None:
    with InProcessBroker(tmp_path) as b:
        b.create_topic("quiet")
        b.create_topic("big")
        conn = b.connect()
        parked = fetch.FetchRequest(
            max_wait_ms=30_000,
            min_bytes=1,
            topics=[
                fetch.FetchTopic(
                    topic="quiet", partitions=[fetch.FetchPartition(partition=0, partition_max_bytes=1024)]
                )
            ],
        )
        body = encode_request(ApiKey.FETCH, 12, parked, 1)
        conn.send_bytes(p.INT32.pack(len(body)) + body)
        assert conn.protocol.busy is not None  # parked in a long poll
        # 40 x 1 MB produce requests queue behind it; the broker stops reading long before 40 MB
        frames = b"".join(produce_frame("big", bytes([i]) * 1_000_000, 100 + i) for i in range(40))
        delivered = b.run(feed(conn.protocol, conn.transport, frames, 256 * 1024, paused_timeout=0.2))
        assert not conn.transport.reading
        assert delivered < 12 * 1_000_000
        # data for the parked fetch ends the wait; the queue drains and reading resumes
        other = b.connect()
        other.send_bytes(produce_frame("quiet", b"wake", 7))
        conn.settle()
        assert conn.transport.reading
        rest = b.run(feed(conn.protocol, conn.transport, frames[delivered:], 256 * 1024, paused_timeout=5))
        assert delivered + rest == len(frames)
        conn.settle()
        assert response_ids(bytes(conn.transport.written)) == [1, *range(100, 140)]
