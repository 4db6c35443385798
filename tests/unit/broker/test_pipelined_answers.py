"""Answers outstanding behind an appended Produce (`connection.py`, `AfterAppend`): the connection
goes on handling the client's next Produce requests while an appended one waits (for its
followers, its fsync), and answers still leave in request order; a request that waits before
appending, or any other API, keeps the connection serial; an answer that fails, a client closing,
a throttled client and too many outstanding answers are handled. No sockets: a fake transport."""

from __future__ import annotations

import asyncio
import struct
from types import SimpleNamespace
from typing import Any

from odradek.broker.api import ApiSpec
from odradek.broker.connection import MAX_QUEUED_REQUESTS, KafkaConnection
from odradek.broker.context import RequestContext
from odradek.broker.dispatcher import AfterAppend, CloseConnection, Dispatcher
from odradek.model.errors import ErrorCode
from odradek.protocol import codec
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.file_region import FileRegion
from odradek.protocol.messages import heartbeat, produce
from odradek.testing.fake_transport import FakeTransport, deliver

VERSION = 7  # not flexible: response header v0
HEARTBEAT_VERSION = 3


def produce_frame(correlation_id: int, acks: int = -1) -> bytes:
    """A Produce whose `timeout_ms` carries what the test handler should do (see `Broker`)."""
    request = produce.ProduceRequest(acks=acks, timeout_ms=correlation_id, topic_data=[])
    body = struct.pack(">hhih", ApiKey.PRODUCE, VERSION, correlation_id, 1) + b"p"
    body += codec.encode_bytes(produce.REQUEST, VERSION, request)
    return struct.pack(">i", len(body)) + body


def heartbeat_frame(correlation_id: int) -> bytes:
    request = heartbeat.HeartbeatRequest(group_id="g", generation_id=1, member_id="m")
    body = struct.pack(">hhih", ApiKey.HEARTBEAT, HEARTBEAT_VERSION, correlation_id, -1)
    body += codec.encode_bytes(heartbeat.REQUEST, HEARTBEAT_VERSION, request)
    return struct.pack(">i", len(body)) + body


class Broker:
    """Test handlers. A Produce is 'appended' (recorded in `handled`) when handled; then it waits
    on `gates[correlation id]` if the test made one: after appending (`AfterAppend`), or before
    appending for the ids in `wait_first` (a plain coroutine, as a transaction verification)."""

    def __init__(self) -> None:
        self.handled: list[int] = []
        self.gates: dict[int, asyncio.Future[None]] = {}
        self.wait_first: set[int] = set()
        self.fail: dict[int, Exception] = {}
        self.throttle: dict[int, int] = {}

    def gate(self, *ids: int) -> None:
        loop = asyncio.get_running_loop()
        for i in ids:
            self.gates[i] = loop.create_future()

    def open(self, i: int) -> None:
        self.gates.pop(i).set_result(None)

    def on_produce(self, ctx: RequestContext, request: produce.ProduceRequest) -> Any:
        i = ctx.correlation_id
        if i in self.throttle:
            assert ctx.session is not None
            ctx.session.throttle_ms = self.throttle[i]
        gate = self.gates.get(i)
        if i in self.wait_first and gate is not None:
            return self._verify_then_append(i, gate)
        self.handled.append(i)
        if request.acks == 0:
            return None
        if gate is not None:
            return AfterAppend(self._after_commit(i, gate))
        return self._answer(i)

    async def _verify_then_append(self, i: int, gate: asyncio.Future[None]) -> produce.ProduceResponse:
        await gate
        self.handled.append(i)
        return self._answer(i)

    async def _after_commit(self, i: int, gate: asyncio.Future[None]) -> produce.ProduceResponse:
        await gate
        if i in self.fail:
            raise self.fail[i]
        return self._answer(i)

    def _answer(self, i: int) -> produce.ProduceResponse:
        partition = produce.PartitionProduceResponse(index=0, base_offset=i)
        return produce.ProduceResponse(
            responses=[produce.TopicProduceResponse("t", partition_responses=[partition])]
        )

    def on_heartbeat(
        self, ctx: RequestContext, request: heartbeat.HeartbeatRequest
    ) -> heartbeat.HeartbeatResponse:
        self.handled.append(ctx.correlation_id)
        return heartbeat.HeartbeatResponse()


def connect(broker: Broker) -> tuple[KafkaConnection, FakeTransport]:
    specs = [
        ApiSpec(ApiKey.PRODUCE, 3, 9, produce.REQUEST, produce.RESPONSE, broker.on_produce),
        ApiSpec(ApiKey.HEARTBEAT, 0, 4, heartbeat.REQUEST, heartbeat.RESPONSE, broker.on_heartbeat),
    ]
    quotas = SimpleNamespace(record_request_time=lambda ctx, seconds: None)
    dispatcher = Dispatcher(specs, ports=SimpleNamespace(quotas=quotas))  # type: ignore[arg-type]
    conn = KafkaConnection(dispatcher, 1 << 20, set())
    transport = FakeTransport(conn, asyncio.get_running_loop())
    conn.connection_made(transport)
    return conn, transport


def answers(written: bytes | bytearray) -> list[tuple[int, int]]:
    """(correlation id, error code or base offset) of each response: a Produce answer gives its
    partition's error code if any, else its base offset (the request's id); a Heartbeat gives -1."""
    out, pos = [], 0
    while pos < len(written):
        (size, correlation_id) = struct.unpack_from(">ii", written, pos)
        body = bytes(written[pos + 8 : pos + 4 + size])
        try:
            response, _end = codec.decode(produce.RESPONSE, VERSION, body, 0)
            result = response.responses[0].partition_responses[0]
            out.append((correlation_id, result.error_code or result.base_offset))
        except Exception:
            out.append((correlation_id, -1))
        pos += 4 + size
    return out


def busy(conn: KafkaConnection) -> asyncio.Task[None] | None:
    return conn.busy  # (read through a call: no narrowing carried across awaits)


def reading(transport: FakeTransport) -> bool:
    return transport.reading


async def turns(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


def test_later_produce_requests_are_handled_while_an_appended_one_waits_and_answered_in_order() -> None:
    broker = Broker()

    async def run() -> None:
        broker.gate(1, 2, 3)
        conn, transport = connect(broker)
        deliver(conn, produce_frame(1))  # alone: the lone-request path
        deliver(conn, produce_frame(2) + produce_frame(3) + produce_frame(4))
        assert broker.handled == [1, 2, 3, 4]  # all appended before any answer
        assert conn.busy is None and conn.queued() == 4
        broker.open(3)
        broker.open(2)
        await turns()
        assert transport.written == b""  # 2, 3 and 4 are ready but wait for 1
        broker.open(1)
        await turns()
        assert answers(transport.written) == [(1, 1), (2, 2), (3, 3), (4, 4)]
        assert conn.queued() == 0 and conn.pending_bytes == 0 and not transport.closed
        deliver(conn, produce_frame(5))  # nothing outstanding: answered inside the read again
        assert answers(transport.written)[-1] == (5, 5)

    asyncio.run(run())


def test_a_request_waiting_before_it_appends_keeps_the_connection_serial() -> None:
    broker = Broker()

    async def run() -> None:
        broker.gate(1, 2)
        broker.wait_first.add(2)
        conn, transport = connect(broker)
        deliver(conn, produce_frame(1) + produce_frame(2) + produce_frame(3))
        assert broker.handled == [1]  # 2 waits to verify before appending: 3 waits behind it
        assert conn.busy is not None
        broker.open(1)
        await turns()
        assert answers(transport.written) == [(1, 1)]
        assert broker.handled == [1]
        broker.open(2)
        await turns()
        assert broker.handled == [1, 2, 3]
        assert answers(transport.written) == [(1, 1), (2, 2), (3, 3)]
        assert busy(conn) is None and conn.queued() == 0

    asyncio.run(run())


def test_other_requests_wait_until_the_outstanding_answers_are_sent() -> None:
    broker = Broker()

    async def run() -> None:
        broker.gate(1)
        conn, transport = connect(broker)
        deliver(conn, produce_frame(1) + heartbeat_frame(2) + produce_frame(3))
        assert broker.handled == [1]  # the heartbeat (and all behind it) waits for answer 1
        broker.open(1)
        await turns()
        assert broker.handled == [1, 2, 3]
        assert answers(transport.written) == [(1, 1), (2, -1), (3, 3)]

    asyncio.run(run())


def test_an_earlier_answer_failing_is_answered_unknown_server_error_in_its_place() -> None:
    broker = Broker()

    async def run() -> None:
        broker.gate(1, 2)
        broker.fail[1] = RuntimeError("boom")
        conn, transport = connect(broker)
        deliver(conn, produce_frame(1) + produce_frame(2) + produce_frame(3, acks=0) + produce_frame(4))
        assert broker.handled == [1, 2, 3, 4]
        broker.open(2)
        await turns()
        broker.open(1)
        await turns()
        # acks=0 has no answer and takes no place
        assert answers(transport.written) == [(1, ErrorCode.UNKNOWN_SERVER_ERROR), (2, 2), (4, 4)]
        assert not transport.closed

    asyncio.run(run())


def test_an_earlier_answer_closing_the_connection_cancels_those_behind_it() -> None:
    broker = Broker()

    async def run() -> None:
        broker.gate(1, 2)
        broker.fail[1] = CloseConnection("deliberately")
        conn, transport = connect(broker)
        deliver(conn, produce_frame(1) + produce_frame(2) + produce_frame(3))
        second = conn.answers[1].task
        assert second is not None
        broker.open(1)
        await turns()
        assert transport.closed and conn.closed and second.cancelled()
        assert transport.written == b""
        assert asyncio.all_tasks() == {asyncio.current_task()}

    asyncio.run(run())


def test_a_client_closing_with_answers_outstanding_leaves_no_task_behind() -> None:
    broker = Broker()

    async def run() -> None:
        broker.gate(1, 2, 4)
        broker.wait_first.add(4)
        conn, transport = connect(broker)
        deliver(
            conn, produce_frame(1) + produce_frame(2) + produce_frame(3) + produce_frame(4) + produce_frame(5)
        )
        assert broker.handled == [1, 2, 3] and conn.queued() == 5
        tasks = [a.task for a in conn.answers if a.task is not None]
        assert len(tasks) == 3  # 1, 2 and the serial 4
        conn.connection_lost(None)
        await turns()
        assert all(t.cancelled() for t in tasks)
        assert asyncio.all_tasks() == {asyncio.current_task()}
        assert conn.queued() == 0 and conn.pending_bytes == 0
        broker.open(1)  # (a commit after the close answers nothing)
        await turns()
        assert transport.written == b""

    asyncio.run(run())


def test_a_throttled_produce_stops_the_pipeline_and_mutes_after_its_answer() -> None:
    broker = Broker()

    async def run() -> None:
        broker.gate(1)
        broker.throttle[1] = 60_000
        conn, transport = connect(broker)
        deliver(conn, produce_frame(1) + produce_frame(2))
        assert broker.handled == [1]  # nothing more is handled for a throttled client
        broker.open(1)
        await turns()
        assert answers(transport.written) == [(1, 1)]
        assert conn.muted and not transport.reading and broker.handled == [1]
        (response, _end) = codec.decode(produce.RESPONSE, VERSION, bytes(transport.written[8:]), 0)
        assert response.throttle_time_ms == 60_000
        conn.connection_lost(None)

    asyncio.run(run())


def test_reading_pauses_while_too_many_answers_are_outstanding() -> None:
    broker = Broker()

    async def run() -> None:
        ids = range(1, MAX_QUEUED_REQUESTS + 1)
        broker.gate(*ids)
        conn, transport = connect(broker)
        deliver(conn, b"".join(produce_frame(i) for i in ids))
        assert len(broker.handled) == MAX_QUEUED_REQUESTS
        assert not transport.reading  # a client must read its answers before sending more
        for i in ids:
            broker.open(i)
        await turns()
        assert reading(transport) and conn.queued() == 0
        assert [c for c, _ in answers(transport.written)] == list(ids)

    asyncio.run(run())


def test_a_full_write_buffer_stops_handling_until_it_drains() -> None:
    broker = Broker()

    async def run() -> None:
        broker.gate(1)
        conn, transport = connect(broker)
        deliver(conn, produce_frame(1) + produce_frame(2))
        conn.pause_writing()
        deliver(conn, produce_frame(3))
        assert broker.handled == [1, 2] and not transport.reading
        broker.open(1)
        await turns()
        assert answers(transport.written) == [(1, 1), (2, 2)]  # answers still go out
        assert broker.handled == [1, 2]
        conn.resume_writing()
        assert broker.handled == [1, 2, 3]
        assert answers(transport.written)[-1] == (3, 3)

    asyncio.run(run())


def test_the_dispatchers_after_append_result_is_awaitable_by_any_caller() -> None:
    broker = Broker()

    async def run() -> bytes:
        broker.gate(7)
        _conn, _transport = connect(broker)
        result = _conn.dispatcher.handle(bytearray(produce_frame(7)[4:]), "h", 1)
        assert type(result) is AfterAppend
        task = asyncio.ensure_future(result)
        await turns()
        assert not task.done()
        broker.open(7)
        chunks = await task
        assert chunks is not None
        return b"".join(bytes(c) for c in chunks if not isinstance(c, FileRegion))

    assert answers(asyncio.run(run())) == [(7, 7)]
