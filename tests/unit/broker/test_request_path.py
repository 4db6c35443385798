"""The request path of one connection (`connection.py`, `dispatcher.py`): a coroutine handler that
answers without waiting is answered inside the read (no task, no second coroutine); one that waits
finishes in a task, and requests behind it wait their turn; headers of every shape (client id,
none, an empty one, tagged fields) reach the handler the same; bad headers close the connection;
a request cut across reads, or several in one read, are answered in order; a client closing
while its request waits cancels it; the idle sweep (connections.max.idle.ms) counts only sweeps
with nothing read, nothing in progress and no answer bytes written."""

from __future__ import annotations

import asyncio
import logging
import struct
from types import SimpleNamespace
from typing import Any

import pytest

from odradek.broker.api import ApiSpec
from odradek.broker.connection import KafkaConnection
from odradek.broker.context import RequestContext
from odradek.broker.dispatcher import CloseConnection, Dispatcher
from odradek.broker.metrics import BrokerMetrics
from odradek.model.errors import ErrorCode
from odradek.protocol import codec
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import heartbeat as msg
from odradek.testing.fake_transport import FakeTransport, deliver, feed

VERSION = 4  # flexible
REQUEST = msg.HeartbeatRequest(group_id="g", generation_id=1, member_id="m")


def header(correlation_id: int, client_id: bytes | None, tags: bytes = b"\x00") -> bytes:
    head = struct.pack(">hhi", ApiKey.HEARTBEAT, VERSION, correlation_id)
    if client_id is None:
        return head + struct.pack(">h", -1) + tags
    return head + struct.pack(">h", len(client_id)) + client_id + tags


def frame(correlation_id: int, client_id: bytes | None = b"rdkafka", tags: bytes = b"\x00") -> bytes:
    body = header(correlation_id, client_id, tags) + codec.encode_bytes(msg.REQUEST, VERSION, REQUEST)
    return struct.pack(">i", len(body)) + body


class Handlers:
    """Heartbeat handlers of several kinds; `seen` records (client id, correlation id) per call."""

    def __init__(self) -> None:
        self.seen: list[tuple[str | None, int]] = []
        self.gate: asyncio.Future[None] | None = None

    def answer(self, ctx: RequestContext, request: msg.HeartbeatRequest) -> msg.HeartbeatResponse:
        assert request == REQUEST
        self.seen.append((ctx.client_id, ctx.correlation_id))
        return msg.HeartbeatResponse(error_code=0)

    async def at_once(self, ctx: RequestContext, request: msg.HeartbeatRequest) -> msg.HeartbeatResponse:
        return self.answer(ctx, request)

    async def waiting(self, ctx: RequestContext, request: msg.HeartbeatRequest) -> msg.HeartbeatResponse:
        if self.gate is not None:
            await self.gate
        return self.answer(ctx, request)

    async def failing(self, ctx: RequestContext, request: msg.HeartbeatRequest) -> msg.HeartbeatResponse:
        raise RuntimeError("boom")

    async def closing(self, ctx: RequestContext, request: msg.HeartbeatRequest) -> msg.HeartbeatResponse:
        raise CloseConnection("deliberately")


def dispatcher(handler: Any, charged: list[int] | None = None) -> Dispatcher:
    """`charged`: gets the correlation id of each request whose time is charged to its quota."""
    spec = ApiSpec(ApiKey.HEARTBEAT, 0, 4, msg.REQUEST, msg.RESPONSE, handler)
    charges = charged if charged is not None else []
    quotas = SimpleNamespace(record_request_time=lambda ctx, _s: charges.append(ctx.correlation_id))
    return Dispatcher([spec], ports=SimpleNamespace(quotas=quotas))  # type: ignore[arg-type]


def joined(chunks: Any) -> bytes:
    assert isinstance(chunks, list)
    return b"".join(bytes(c) for c in chunks)


def answers(written: bytes | bytearray) -> list[tuple[int, int]]:
    """(correlation id, error code) of every response written."""
    out, pos = [], 0
    while pos < len(written):
        (size,) = struct.unpack_from(">i", written, pos)
        (correlation_id,) = struct.unpack_from(">i", written, pos + 4)
        response, _end = codec.decode(msg.RESPONSE, VERSION, bytes(written[pos + 9 : pos + 4 + size]), 0)
        out.append((correlation_id, response.error_code))
        pos += 4 + size
    return out


def test_a_coroutine_answering_at_once_is_answered_by_handle_itself() -> None:
    handlers = Handlers()
    chunks = dispatcher(handlers.at_once).handle(bytearray(frame(7)[4:]), "h", 1)
    assert isinstance(chunks, list)  # not a coroutine
    assert answers(joined(chunks)) == [(7, 0)]
    assert handlers.seen == [("rdkafka", 7)]


def test_a_coroutine_that_waits_is_finished_by_whoever_awaits_the_result() -> None:
    handlers = Handlers()

    async def run() -> Any:
        handlers.gate = asyncio.get_running_loop().create_future()
        pending = dispatcher(handlers.waiting).handle(bytearray(frame(8)[4:]), "h", 1)
        assert not isinstance(pending, list) and pending is not None
        task = asyncio.ensure_future(pending)
        await asyncio.sleep(0)
        assert not task.done() and handlers.seen == []
        handlers.gate.set_result(None)
        return await task

    chunks = asyncio.run(run())
    assert answers(joined(chunks)) == [(8, 0)]


def test_a_coroutine_failing_before_it_waits_is_answered_unknown_server_error() -> None:
    chunks = dispatcher(Handlers().failing).handle(bytearray(frame(9)[4:]), "h", 1)
    assert isinstance(chunks, list)
    assert answers(joined(chunks)) == [(9, ErrorCode.UNKNOWN_SERVER_ERROR)]


def test_a_coroutine_closing_the_connection_before_it_waits_raises_from_handle() -> None:
    with pytest.raises(CloseConnection, match="deliberately"):
        dispatcher(Handlers().closing).handle(bytearray(frame(9)[4:]), "h", 1)


@pytest.mark.parametrize(
    ("client_id", "tags", "expected"),
    [
        (b"rdkafka", b"\x00", "rdkafka"),
        (b"", b"\x00", ""),
        (None, b"\x00", None),
        (b"caf\xc3\xa9", b"\x00", "café"),
        (b"rdkafka", b"\x01\x05\x02ab", "rdkafka"),  # one unknown tagged field in the header
        (b"x" * 300, b"\x00", "x" * 300),
    ],
)
def test_every_header_shape_reaches_the_handler(client_id: bytes | None, tags: bytes, expected: str) -> None:
    handlers = Handlers()
    chunks = dispatcher(handlers.answer).handle(bytearray(frame(3, client_id, tags)[4:]), "h", 1)
    assert answers(joined(chunks)) == [(3, 0)]
    assert handlers.seen == [(expected, 3)]


@pytest.mark.parametrize(
    "raw",
    [
        header(1, b"\xff\xfe"),  # client id not UTF-8
        struct.pack(">hhih", ApiKey.HEARTBEAT, VERSION, 1, 50) + b"short",  # client id past the end
        struct.pack(">hhih", ApiKey.HEARTBEAT, VERSION, 1, -2) + b"\x00" * 8,  # negative length
        struct.pack(">hhi", ApiKey.HEARTBEAT, VERSION, 1) + b"\x00",  # client id length cut
        header(1, b"rdkafka", b"\x01\x05\x09ab"),  # a tagged field running past the end
    ],
)
def test_bad_headers_close_the_connection(raw: bytes) -> None:
    handlers = Handlers()
    with pytest.raises(CloseConnection):
        dispatcher(handlers.answer).handle(bytearray(raw), "h", 1)
    assert handlers.seen == []


def connect(
    handler: Any, charged: list[int] | None = None, high_water: int | None = None
) -> tuple[KafkaConnection, FakeTransport]:
    conn = KafkaConnection(dispatcher(handler, charged), 1 << 20, set())
    transport = FakeTransport(conn, asyncio.get_running_loop(), high_water=high_water)
    conn.connection_made(transport)
    return conn, transport


def test_a_lone_request_is_answered_inside_its_read_with_one_write() -> None:
    handlers = Handlers()

    async def run() -> None:
        charged: list[int] = []
        conn, transport = connect(handlers.at_once, charged)
        for correlation_id in (1, 2, 3):
            deliver(conn, frame(correlation_id))
            assert conn.busy is None  # no task
            # the request's time is charged once, after the coroutine ran (its time included)
            assert charged == [c for _client, c in handlers.seen]
        assert transport.writes == 3
        assert answers(transport.written) == [(1, 0), (2, 0), (3, 0)]

    asyncio.run(run())


@pytest.mark.parametrize("chunk", [1, 3, 7, 4096])
def test_requests_cut_across_reads_or_sharing_one_are_answered_in_order(chunk: int) -> None:
    handlers = Handlers()
    data = b"".join(frame(i, b"c" * (i % 5)) for i in range(1, 21))

    async def run() -> None:
        conn, transport = connect(handlers.at_once)
        await feed(conn, transport, data, chunk=chunk)
        assert answers(transport.written) == [(i, 0) for i in range(1, 21)]
        assert not transport.closed

    asyncio.run(run())


def test_queued_requests_follow_the_waiting_one_once_it_answers() -> None:
    handlers = Handlers()

    async def run() -> None:
        gate = handlers.gate = asyncio.get_running_loop().create_future()
        conn, transport = connect(handlers.waiting)
        deliver(conn, frame(1))
        handlers.gate = None
        deliver(conn, frame(2))
        deliver(conn, frame(3) + frame(4))
        assert transport.written == b""
        gate.set_result(None)
        for _ in range(5):
            await asyncio.sleep(0)
        assert answers(transport.written) == [(1, 0), (2, 0), (3, 0), (4, 0)]
        assert conn.busy is None and conn.queued() == 0

    asyncio.run(run())


def test_a_client_closing_while_its_request_waits_cancels_it_and_nothing_is_written() -> None:
    handlers = Handlers()

    async def run() -> None:
        handlers.gate = asyncio.get_running_loop().create_future()
        conn, transport = connect(handlers.waiting)
        deliver(conn, frame(1) + frame(2)[:5])  # one request, and the start of another
        task = conn.busy
        assert task is not None
        conn.connection_lost(None)
        await asyncio.sleep(0)
        assert task.cancelled() and conn.closed
        assert transport.written == b"" and handlers.seen == []

    asyncio.run(run())


def test_a_large_request_arriving_in_pieces_is_answered_once_whole() -> None:
    handlers = Handlers()
    # above the shared receive buffer (filled in place): a long client id and a 40 KB tagged field
    big = frame(5, b"x" * 30_000, b"\x01\x05" + bytes([0xC0, 0xB8, 0x02]) + b"t" * 40_000)

    async def run() -> None:
        conn, transport = connect(handlers.at_once)
        await feed(conn, transport, big + frame(6), chunk=16_384)
        assert answers(transport.written) == [(5, 0), (6, 0)]

    asyncio.run(run())
    assert handlers.seen == [("x" * 30_000, 5), ("rdkafka", 6)]


def test_a_waiting_answer_closed_unfinished_closes_its_handler_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """(An event loop shutting down closes unfinished coroutines, in any order.)"""
    finished: list[str] = []

    async def handler(ctx: RequestContext, request: msg.HeartbeatRequest) -> msg.HeartbeatResponse:
        try:
            await asyncio.get_running_loop().create_future()
        finally:
            finished.append("handler")
        return msg.HeartbeatResponse()

    async def run() -> None:
        for handler_first in (False, True):
            pending: Any = dispatcher(handler).handle(bytearray(frame(1)[4:]), "h", 1)
            pending.send(None)  # up to the handler's wait
            if handler_first:
                pending.cr_await.gi_frame.f_locals["coro"].close()  # the handler's, before its caller
            pending.close()

    with caplog.at_level(logging.INFO, logger="odradek"):
        asyncio.run(run())
    assert finished == ["handler", "handler"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_each_request_is_counted_and_timed_once_per_api_version() -> None:
    handlers = Handlers()
    metrics = BrokerMetrics()
    spec = ApiSpec(ApiKey.HEARTBEAT, 0, 4, msg.REQUEST, msg.RESPONSE, handlers.at_once)
    served = Dispatcher([spec], ports=None, metrics=metrics)  # type: ignore[arg-type]
    for correlation_id in range(3):
        assert answers(joined(served.handle(bytearray(frame(correlation_id)[4:]), "h", 1))) == [
            (correlation_id, 0)
        ]
    old = bytearray(struct.pack(">hhih", ApiKey.HEARTBEAT, 0, 9, -1) + b"\x00\x01g\x00\x00\x00\x01\x00\x01m")
    served.handle(old, "h", 1)  # v0: another version's metrics
    assert metrics.requests.labels("HEARTBEAT", "4").value == 3
    assert sum(metrics.request_seconds.labels("HEARTBEAT", "4").counts) == 3
    assert metrics.requests.labels("HEARTBEAT", "0").value == 1
    assert metrics.request_metrics(int(ApiKey.HEARTBEAT), 4)[0] is metrics.requests.labels("HEARTBEAT", "4")


def test_the_idle_sweep_counts_quiet_sweeps_and_a_read_starts_over() -> None:
    async def run() -> None:
        conn, _transport = connect(Handlers().at_once)
        assert [conn.idle_sweep() for _ in range(3)] == [1, 2, 3]
        deliver(conn, frame(1))
        assert [conn.idle_sweep() for _ in range(2)] == [1, 2]

    asyncio.run(run())


def test_an_answer_draining_to_a_slow_reader_is_activity_one_not_read_is_not() -> None:
    """Kafka's Selector counts a write on the socket as activity: a long answer still being written
    keeps its connection past connections.max.idle.ms; a client that stopped reading does not."""

    async def run() -> None:
        conn, transport = connect(Handlers().at_once, high_water=1 << 20)  # the peer reads nothing yet
        deliver(conn, frame(1))
        assert transport.buffered > 3
        assert conn.idle_sweep() == 0  # the answer was written since the last sweep
        for _ in range(3):
            transport.drain(1)  # the client reads a little of it between sweeps
            assert conn.idle_sweep() == 0
        assert [conn.idle_sweep() for _ in range(3)] == [1, 2, 3]  # it stopped reading
        transport.drain()
        assert conn.idle_sweep() == 0  # the rest went out
        assert [conn.idle_sweep() for _ in range(2)] == [1, 2]

    asyncio.run(run())


def test_a_request_waiting_for_its_answer_is_not_idle() -> None:
    """A long-polling Fetch (fetch.max.wait.ms beyond connections.max.idle.ms) keeps its connection."""
    handlers = Handlers()

    async def run() -> None:
        gate = handlers.gate = asyncio.get_running_loop().create_future()
        conn, transport = connect(handlers.waiting)
        deliver(conn, frame(1))
        assert [conn.idle_sweep() for _ in range(5)] == [0] * 5
        gate.set_result(None)
        for _ in range(3):
            await asyncio.sleep(0)
        assert answers(transport.written) == [(1, 0)]
        assert conn.idle_sweep() == 1

    asyncio.run(run())


def test_an_idle_connection_is_closed_once_while_its_answers_flush(caplog: pytest.LogCaptureFixture) -> None:
    """A transport closes after its buffered answers are written; sweeps meanwhile do not close (and
    log) it again."""

    async def run() -> None:
        conn, transport = connect(Handlers().at_once)
        with caplog.at_level(logging.INFO, logger="odradek.broker.connection"):
            conn.close_idle()
            conn.close_idle()
        assert transport.closed

    asyncio.run(run())
    closing = [r for r in caplog.records if r.getMessage().endswith("idle for connections.max.idle.ms")]
    assert len(closing) == 1
