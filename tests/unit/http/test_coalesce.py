"""One socket write per event-loop turn (`odradek.http.coalesce`): the proxy alone, then uvicorn's
HTTP/1.1 and HTTP/2 protocols serving through it over a real socket."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
import uvloop

from odradek.http import ServerSettings
from odradek.http.coalesce import FLUSH_BYTES, TurnWriter
from odradek.http.runner import configure


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False
        self.eof = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = self.closed = True

    def write_eof(self) -> None:
        self.eof = True

    def get_write_buffer_size(self) -> int:
        return 7

    def get_extra_info(self, name: str) -> Any:
        return f"extra {name}"


def run_turns(body: Any) -> None:
    async def main() -> None:
        await body(asyncio.get_running_loop())

    asyncio.run(main())


def test_writes_of_one_turn_leave_as_one_write_at_its_end() -> None:
    async def body(loop: asyncio.AbstractEventLoop) -> None:
        real = FakeTransport()
        writer = TurnWriter(real, loop)  # type: ignore[arg-type]
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
        writer.write(b"")
        writer.writelines([b"hel", bytearray(b"lo")])
        assert real.writes == []  # held until the turn ends
        assert writer.get_write_buffer_size() == 38 + 5 + 7
        await asyncio.sleep(0)
        assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"]
        writer.write(b"next")  # a later turn: its own write
        await asyncio.sleep(0)
        assert real.writes[1:] == [b"next"]
        assert writer.get_extra_info("peername") == "extra peername"  # the rest is the transport's

    run_turns(body)


def test_large_writes_are_not_held_back_and_closing_flushes_first() -> None:
    async def body(loop: asyncio.AbstractEventLoop) -> None:
        real = FakeTransport()
        writer = TurnWriter(real, loop)  # type: ignore[arg-type]
        writer.write(b"head")
        writer.write(b"x" * FLUSH_BYTES)
        assert real.writes == [b"head" + b"x" * FLUSH_BYTES]  # at once
        writer.write(b"tail")
        writer.write_eof()
        assert real.writes[-1] == b"tail" and real.eof
        writer.write(b"last words")
        writer.close()
        assert real.writes[-1] == b"last words" and real.closed
        writer.write(b"after close")
        await asyncio.sleep(0)  # the end of the turn drops what a closing transport cannot send
        assert real.writes[-1] == b"last words"

        aborted = FakeTransport()
        writer = TurnWriter(aborted, loop)  # type: ignore[arg-type]
        writer.write(b"never sent")
        writer.abort()
        await asyncio.sleep(0)
        assert aborted.aborted and aborted.writes == []

    run_turns(body)


class CountingTransport:
    """Counts the socket writes under the `TurnWriter`."""

    writes: list[bytes] = []

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport

    def write(self, data: bytes) -> None:
        CountingTransport.writes.append(bytes(data))
        self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


async def app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await receive()
    if scope["path"] == "/stream":  # chunked, larger than what is held back
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(3):
            await send({"type": "http.response.body", "body": bytes([65 + i]) * 50_000, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})


@contextmanager
def serving(coalesce: bool) -> Iterator[str]:
    config = configure(app, ServerSettings(http2=True, coalesce_writes=coalesce))
    coalesced = config.http_protocol_class

    class Counted(coalesced):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: Any) -> None:
            super().connection_made(CountingTransport(transport))

    config.http_protocol_class = Counted if coalesce else coalesced
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(config)

    def run() -> None:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(server.serve(sockets=[sock]))

    thread = threading.Thread(target=run)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            thread.join(0.01)
            assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_serve_answers_a_small_response_in_one_socket_write() -> None:
    CountingTransport.writes = []
    with serving(coalesce=True) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as conn:
            for _ in range(3):  # keep-alive: each answer one write
                conn.sendall(b"POST /x HTTP/1.1\r\nhost: h\r\ncontent-length: 2\r\n\r\n{}")
                received = b""
                while not received.endswith(b"hello"):
                    received += conn.recv(4096)
                assert received.startswith(b"HTTP/1.1 200 OK\r\n")
        assert len(CountingTransport.writes) == 3
        for write in CountingTransport.writes:
            assert write.startswith(b"HTTP/1.1 200") and write.endswith(b"\r\n\r\nhello")
        # Connection: close still gets the whole answer before the close
        with socket.create_connection((host, int(port))) as conn:
            conn.sendall(b"POST /x HTTP/1.1\r\nhost: h\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
            received = b""
            while chunk := conn.recv(4096):
                received += chunk
            assert received.endswith(b"\r\n\r\nhello")


@pytest.mark.parametrize("coalesce", [True, False])
def test_large_streamed_answers_arrive_whole_over_http1_and_http2(coalesce: bool) -> None:
    with serving(coalesce) as url:
        expected = b"A" * 50_000 + b"B" * 50_000 + b"C" * 50_000
        for http2 in (False, True):
            with httpx.Client(http1=not http2, http2=http2, timeout=30) as client:
                for _ in range(2):
                    resp = client.post(url + "/stream", content=b"{}")
                    assert resp.http_version == ("HTTP/2" if http2 else "HTTP/1.1")
                    assert resp.content == expected
                    resp = client.post(url + "/x", content=b"{}")
                    assert resp.content == b"hello"
