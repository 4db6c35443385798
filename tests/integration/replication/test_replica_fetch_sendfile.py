"""A follower's fetch is answered with the log's batches sent by sendfile (`protocol/file_region.py`),
over real TCP: the bytes are exactly those a consumer's fetch of the same offsets gets, across
segment files, whether the socket takes the whole answer at once or a reader that drains it slowly
makes the connection finish it through the transport."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from pathlib import Path

import pytest

from odradek.broker import connection as connection_module
from odradek.broker.broker_client import BrokerConnection, decode_response, encode_request
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.file_region import FileRegion, send_region
from odradek.protocol.messages import fetch, produce
from odradek.protocol.records import build_batch
from odradek.testing.threaded_broker import ThreadedBroker

VERSION = 15
BATCHES = 24
VALUE = 400_000  # ~9.6 MiB in all (more than a loopback socket buffers), over 1 MiB segments


def fetch_request(topic_id: object, replica: int, max_bytes: int = 8 << 20) -> fetch.FetchRequest:
    return fetch.FetchRequest(
        replica_state=fetch.ReplicaState(replica_id=replica),
        max_wait_ms=0,
        max_bytes=max_bytes,
        topics=[
            fetch.FetchTopic(
                topic_id=topic_id,
                partitions=[fetch.FetchPartition(partition=0, fetch_offset=0, partition_max_bytes=max_bytes)],
            )
        ],
    )


def records_of(response: fetch.FetchResponse) -> bytes:
    data = response.responses[0].partitions[0]
    assert data.error_code == 0
    return bytes(data.records or b"")


def test_a_followers_fetch_gets_the_consumers_bytes_by_sendfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sends: list[tuple[int, int]] = []  # (region size, bytes sendfile took at once)
    regions: list[FileRegion] = []

    def counting_send_region(fd: int, region: FileRegion) -> int:
        sent = send_region(fd, region)
        sends.append((region.size, sent))
        regions.append(region)
        return sent

    monkeypatch.setattr(connection_module, "send_region", counting_send_region)
    overrides = {"log.segment.bytes": str(1 << 20), "message.max.bytes": str(1 << 20)}
    with ThreadedBroker(tmp_path, overrides) as running:
        host, port = running.bootstrap.split(":")

        async def main() -> None:
            connection = BrokerConnection(host, int(port), "test", 30)
            try:
                from odradek.protocol.messages import create_topics

                created = await connection.call(
                    ApiKey.CREATE_TOPICS,
                    7,
                    create_topics.CreateTopicsRequest(
                        topics=[
                            create_topics.CreatableTopic(name="t", num_partitions=1, replication_factor=1)
                        ],
                        timeout_ms=10_000,
                    ),
                )
                topic_id = created.topics[0].topic_id
                for i in range(BATCHES):
                    batch = build_batch([(None, bytes([i]) * VALUE, [], 1)])
                    data = produce.TopicProduceData(
                        name="t", partition_data=[produce.PartitionProduceData(0, batch)]
                    )
                    answer = await connection.call(
                        ApiKey.PRODUCE, 9, produce.ProduceRequest(acks=1, timeout_ms=5000, topic_data=[data])
                    )
                    assert answer.responses[0].partition_responses[0].error_code == 0
                consumer = records_of(
                    await connection.call(ApiKey.FETCH, VERSION, fetch_request(topic_id, -1))
                )
                assert not sends  # a consumer's fetch reads the log as before
                follower = records_of(
                    await connection.call(ApiKey.FETCH, VERSION, fetch_request(topic_id, 2))
                )
                assert len(consumer) > 2 * VALUE and follower == consumer
                assert len(sends) > 1 and sum(sent for _, sent in sends) > 0  # several segments, by sendfile
                sends.clear()
                slow = await asyncio.to_thread(slow_fetch, host, int(port), topic_id)
                assert slow == consumer
                assert all(region.fd == -1 for region in regions)  # each region's descriptor closed
                assert any(
                    sent < size for size, sent in sends
                )  # the socket filled: the rest went another way
            finally:
                await connection.close()

        asyncio.run(main())


def slow_fetch(host: str, port: int, topic_id: object) -> bytes:
    """A follower's fetch read through a small receive buffer, a little at a time."""
    with socket.create_connection((host, port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.sendall(encode_request(ApiKey.FETCH, VERSION, fetch_request(topic_id, 2), 7, "slow"))
        time.sleep(0.3)  # the broker fills the socket and leaves the rest to its transport
        head = receive(sock, 4)
        (size,) = struct.unpack(">i", head)
        frame = bytearray()
        while len(frame) < size:
            frame += receive(sock, min(64 * 1024, size - len(frame)))
            time.sleep(0.001)
        correlation_id, response = decode_response(ApiKey.FETCH, VERSION, frame)
        assert correlation_id == 7
        return records_of(response)


def receive(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = sock.recv(n - len(data))
        assert more, "the broker closed the connection"
        data += more
    return data
