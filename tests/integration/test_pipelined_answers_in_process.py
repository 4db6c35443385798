"""Answers to pipelined requests leave in one write (`broker/connection.py`, `COALESCE_BYTES`).

librdkafka sends one Produce request per partition: a producer writing to thousands of partitions
pipelines thousands of small requests on one connection. The broker answers every request of one
read in order and writes the answers together, one system call instead of one per request, up to
about `COALESCE_BYTES` at a time (a client that does not read its answers still meets the write
buffer's limit after about one answer). Produce requests that wait for their fsync
(`flush.messages`) do not hold the connection: those behind them are appended meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from odradek.broker import connection
from odradek.protocol import primitives as p
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import produce
from odradek.protocol.records import build_batch
from odradek.testing.in_process import InMemoryConnection, InProcessBroker
from odradek.testing.raw_client import decode_response, encode_request

PARTITIONS = 40


def one_request_per_partition(topic: str) -> bytes:
    """librdkafka's shape: Produce v10, acks=all, one partition, one batch of one record."""
    batch = build_batch([(None, b"v", [], int(time.time() * 1000))])
    frames = []
    for partition in range(PARTITIONS):
        data = produce.PartitionProduceData(index=partition, records=batch)
        request = produce.ProduceRequest(
            acks=-1,
            timeout_ms=30_000,
            topic_data=[produce.TopicProduceData(name=topic, partition_data=[data])],
        )
        body = encode_request(ApiKey.PRODUCE, 10, request, 100 + partition)
        frames.append(p.INT32.pack(len(body)) + body)
    return b"".join(frames)


def answers(conn: InMemoryConnection) -> list[tuple[int, int, int, int]]:
    """(correlation id, partition, error code, base offset) of every answer written."""
    out = []
    while (frame := conn.next_frame()) is not None:
        correlation, response = decode_response(ApiKey.PRODUCE, 10, frame)
        [topic] = response.responses
        [part] = topic.partition_responses
        out.append((correlation, part.index, part.error_code, part.base_offset))
    return out


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[InProcessBroker]:
    with InProcessBroker(tmp_path) as running:
        running.create_topic("spread", PARTITIONS)
        yield running


def test_requests_of_one_read_are_answered_in_order_with_one_write(broker: InProcessBroker) -> None:
    conn = broker.connect()
    conn.send_bytes(one_request_per_partition("spread"), chunk=1 << 20)
    conn.settle()
    assert answers(conn) == [(100 + i, i, 0, 0) for i in range(PARTITIONS)]
    assert conn.transport.writes == 1


def test_answers_are_written_once_about_coalesce_bytes_gathered(
    broker: InProcessBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection, "COALESCE_BYTES", 1)  # every answer is past the bound
    conn = broker.connect()
    conn.send_bytes(one_request_per_partition("spread"), chunk=1 << 20)
    conn.settle()
    assert answers(conn) == [(100 + i, i, 0, 0) for i in range(PARTITIONS)]
    assert conn.transport.writes == PARTITIONS


def test_produce_requests_waiting_for_their_fsync_are_appended_together_and_answered_in_order(
    broker: InProcessBroker,
) -> None:
    """`flush.messages=1`: a Produce is answered after its fsync (`AfterAppend`); the requests behind
    it are appended meanwhile, so one flush round makes several durable, and the answers keep their
    order and offsets (docs/adr/0008-pipelined-produce-answers.md)."""
    broker.create_topic("durable", 1, **{"flush.messages": "1"})
    batch = build_batch([(None, b"v", [], int(time.time() * 1000))])
    frames = []
    for i in range(10):
        data = produce.PartitionProduceData(index=0, records=batch)
        request = produce.ProduceRequest(
            acks=1,
            timeout_ms=30_000,
            topic_data=[produce.TopicProduceData(name="durable", partition_data=[data])],
        )
        body = encode_request(ApiKey.PRODUCE, 10, request, 200 + i)
        frames.append(p.INT32.pack(len(body)) + body)
    rounds_before = broker.broker.flusher.rounds
    conn = broker.connect()
    conn.send_bytes(b"".join(frames), chunk=1 << 20)
    conn.settle()
    assert answers(conn) == [(200 + i, 0, 0, i) for i in range(10)]
    # a connection serving one request at a time would need one flush round per request
    assert broker.broker.flusher.rounds - rounds_before < 10
