"""Random and mutated request bytes pushed through a real broker's connection handler, in process.

One `Broker` (real storage in a temporary directory, real handler table) runs in an event loop for
the module; each example opens a `KafkaConnection` over a `FakeTransport`, feeds it bytes in random
chunk sizes, and checks that:

* nothing escapes: no exception reaches the event loop and no handler fails (a handler failure is
  logged at ERROR and turned into a closed connection, which would hide broker bugs);
* the connection either answered, closed, or is still waiting in a long poll; every answer is a
  whole frame carrying the correlation id of a request that was sent, in request order;
* memory stays bounded: the peak traced while handling at most ~1 KiB of input stays below
  `MEMORY_LIMIT` (announcing a 100 MiB frame must not allocate 100 MiB).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import struct
import tracemalloc
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from odradek.broker.app import Broker
from odradek.broker.connection import KafkaConnection
from odradek.broker.handlers import all_specs
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import api_versions, fetch, list_offsets, metadata, produce
from odradek.protocol.records import build_batch
from odradek.testing.fake_transport import FakeTransport, feed
from odradek.testing.in_process import InProcessBroker
from odradek.testing.raw_client import encode_request

TOPIC = "fuzz"
MAX_REQUEST = 100 * 1024 * 1024  # Kafka's default socket.request.max.bytes
MEMORY_LIMIT = 6 * 1024 * 1024
SERVED = [ApiKey.PRODUCE, ApiKey.FETCH, ApiKey.LIST_OFFSETS, ApiKey.METADATA, ApiKey.API_VERSIONS]
PLACEHOLDER_ID = uuid.UUID(int=0x0DDBA11_0DDBA11_0DDBA11_0DDBA11)
"""Stands for the topic's id in templates; replaced by the real one before feeding."""


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Harness:
    broker: InProcessBroker
    errors: _Errors
    topic_id: uuid.UUID
    loop_errors: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    broker = InProcessBroker(tmp_path_factory.mktemp("fuzz-broker"), {"auto.create.topics.enable": "false"})
    errors = _Errors()
    logging.getLogger("odradek").addHandler(errors)
    try:
        with broker:
            h = Harness(broker, errors, broker.create_topic(TOPIC, 2))
            broker.loop.set_exception_handler(lambda _loop, context: h.loop_errors.append(context))
            yield h
    finally:
        logging.getLogger("odradek").removeHandler(errors)


# --- inputs ----------------------------------------------------------------------------------

BATCH = build_batch(
    [(b"key", b"value", [("h", b"1")], 1_700_000_000_000), (None, None, [], 1_700_000_000_001)]
)


def _fetch(version: int) -> bytes:
    topic = fetch.FetchTopic(
        topic=TOPIC, partitions=[fetch.FetchPartition(partition=0, fetch_offset=0, partition_max_bytes=4096)]
    )
    if version >= 13:
        topic.topic_id = PLACEHOLDER_ID
    request = fetch.FetchRequest(max_wait_ms=5, min_bytes=1, max_bytes=8192, topics=[topic])
    return encode_request(ApiKey.FETCH, version, request, 11)


def _produce(version: int, acks: int) -> bytes:
    data = produce.TopicProduceData(name=TOPIC, partition_data=[produce.PartitionProduceData(1, BATCH)])
    if version >= 13:
        data.topic_id = PLACEHOLDER_ID
    request = produce.ProduceRequest(acks=acks, timeout_ms=1000, topic_data=[data])
    return encode_request(ApiKey.PRODUCE, version, request, 12)


@functools.cache
def templates() -> list[bytes]:
    """Valid request frames (without size) for mutation."""
    out = [
        encode_request(ApiKey.API_VERSIONS, v, api_versions.ApiVersionsRequest("fuzz", "1"), 1)
        for v in (0, 3, 4)
    ]
    for v in (0, 4, 9, 12):
        req = metadata.MetadataRequest(topics=[metadata.MetadataRequestTopic(name=TOPIC)])
        out.append(encode_request(ApiKey.METADATA, v, req, 2))
    out.append(encode_request(ApiKey.METADATA, 12, metadata.MetadataRequest(topics=None), 3))
    for v in (1, 7, 10):
        req = list_offsets.ListOffsetsRequest(
            replica_id=-1,
            topics=[
                list_offsets.ListOffsetsTopic(
                    name=TOPIC,
                    partitions=[list_offsets.ListOffsetsPartition(partition_index=0, timestamp=-1)],
                )
            ],
        )
        out.append(encode_request(ApiKey.LIST_OFFSETS, v, req, 4))
    out += [_fetch(v) for v in (4, 12, 13, 17)]
    out += [_produce(v, acks) for v in (3, 9, 13) for acks in (1, 0)]
    # every other API the broker serves, as its default request at its lowest and highest version;
    # not the ones whose valid mutations may create thousands of partitions (legitimately slow)
    for spec in all_specs():
        if spec.key in SERVED or spec.key in (ApiKey.CREATE_TOPICS, ApiKey.CREATE_PARTITIONS):
            continue
        for v in sorted({spec.min_version, spec.max_version}):
            out.append(encode_request(spec.key, v, spec.request.root.cls(), 6))
    return out


def frame(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


@st.composite
def mutated(draw: st.DrawFn, template: bytes) -> bytes:
    data = bytearray(template)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "flip", "flip", "set", "set", "cut", "insert", "truncate"]))
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set":
            data[i] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF]))
        elif kind == "cut":
            del data[i : i + draw(st.integers(1, 16))]
        elif kind == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[i:]
    return bytes(data)


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    """A byte stream of up to ~1 KiB: random bytes, or frames (valid, mutated, random body)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=1024))
    pieces = []
    all_templates = templates()
    for _ in range(draw(st.integers(1, 4))):
        choice = draw(st.integers(0, 9))
        template = draw(st.sampled_from(all_templates))
        if choice < 6:
            body = draw(mutated(template))
        elif choice < 8:
            key = draw(st.sampled_from(SERVED) | st.integers(-1, 80))
            head = struct.pack(">hhi", key, draw(st.integers(-1, 20)), 99)
            body = head + draw(st.binary(max_size=200))
        else:
            body = template
        if draw(st.integers(0, 19)) == 0:  # a size that lies
            pieces.append(struct.pack(">i", draw(st.integers(-(2**31), 2**31 - 1))) + body)
        else:
            pieces.append(frame(body))
    return b"".join(pieces)


# --- the check -------------------------------------------------------------------------------


def request_ids(data: bytes) -> tuple[list[tuple[int, int]], bool]:
    """(api_key, correlation_id) of each whole frame in `data`, and whether the stream ended cleanly."""
    out = []
    pos = 0
    while len(data) - pos >= 4:
        (size,) = struct.unpack_from(">i", data, pos)
        if size < 0 or len(data) - pos - 4 < size:
            return out, False
        body = data[pos + 4 : pos + 4 + size]
        key, cid = (
            (struct.unpack_from(">h", body)[0], struct.unpack_from(">i", body, 4)[0])
            if size >= 8
            else (-1, -1)
        )
        out.append((key, cid))
        pos += 4 + size
    return out, pos == len(data)


def response_ids(written: bytes) -> list[int]:
    ids = []
    pos = 0
    while pos < len(written):
        assert len(written) - pos >= 8, "partial response frame"
        (size,) = struct.unpack_from(">i", written, pos)
        assert size >= 4 and pos + 4 + size <= len(written), "response frame does not fit"
        ids.append(struct.unpack_from(">i", written, pos + 4)[0])
        pos += 4 + size
    return ids


async def run_one(broker: Broker, data: bytes, chunk: int) -> tuple[FakeTransport, bool]:
    loop = asyncio.get_running_loop()
    conn = KafkaConnection(broker.dispatcher, MAX_REQUEST, set(), None)
    transport = FakeTransport(conn, loop)
    conn.connection_made(transport)
    await feed(conn, transport, data, chunk)
    for _ in range(20):  # let queued work finish (answers to synchronous requests are immediate)
        if conn.busy is None or transport.closed:
            break
        await asyncio.sleep(0.001)
    waiting = conn.busy is not None and not transport.closed
    closed_by_broker = transport.closed
    if not transport.closed:
        transport.close()  # the client goes away
    for _ in range(3):
        await asyncio.sleep(0)
    assert conn.closed
    assert conn.busy is None or conn.busy.done()
    return transport, closed_by_broker or waiting


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=streams(), chunk=st.integers(1, 2048))
def test_connection_survives_any_bytes(harness: Harness, data: bytes, chunk: int) -> None:
    data = data.replace(PLACEHOLDER_ID.bytes, harness.topic_id.bytes)
    tracemalloc.start()
    try:
        transport, closed_or_waiting = harness.broker.run(run_one(harness.broker.broker, data, chunk))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert harness.loop_errors == []
    assert [r.getMessage() for r in harness.errors.records] == []
    assert peak < MEMORY_LIMIT, f"peak {peak} bytes for {len(data)} bytes of input"

    requests, clean_end = request_ids(data)
    answered = response_ids(bytes(transport.written))
    event(f"answered {min(len(answered), 2)}+, {'closed/waiting' if closed_or_waiting else 'open'}")
    sent_ids = [cid for _key, cid in requests]
    # answers come in request order: they are a subsequence of the request ids
    it = iter(sent_ids)
    assert all(any(cid == s for s in it) for cid in answered), (answered, sent_ids)
    if not closed_or_waiting and clean_end:
        # every request except Produce (acks=0 has no answer) was answered
        unanswered = len(sent_ids) - len(answered)
        assert unanswered <= sum(1 for key, _ in requests if key == ApiKey.PRODUCE)


def test_harness_answers_a_valid_request(harness: Harness) -> None:
    """The fuzz check above can fail: a valid request gets exactly one well-formed answer."""
    body = encode_request(ApiKey.API_VERSIONS, 3, api_versions.ApiVersionsRequest("t", "1"), 77)
    transport, closed_or_waiting = harness.broker.run(run_one(harness.broker.broker, frame(body), 7))
    assert not closed_or_waiting
    assert response_ids(bytes(transport.written)) == [77]
    garbage = frame(struct.pack(">hhi", ApiKey.METADATA, 12, 5) + b"\xff" * 30)
    transport, closed_or_waiting = harness.broker.run(run_one(harness.broker.broker, garbage, 1024))
    assert closed_or_waiting and transport.written == b""
