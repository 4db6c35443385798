"""The broker's TLS transport (`tls_transport.py`) over a real socket pair, on asyncio's loop and on
uvloop: the client is an `ssl.SSLObject` driven by the test, so it can also misbehave (close in the
middle of a record, stop reading, send several records at once)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import datetime as dt
import os
import socket
import ssl
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import uvloop

from odradek.broker import tls_transport
from odradek.broker.listener_security import ListenerConfigError, SecurityContext, listener_security
from odradek.broker.tls_transport import RECORD, TlsTransport, accept_tls, gather
from odradek.security.dev_certificates import DEFAULT_SERVER_NAMES, issue, make_ca

NOW = dt.datetime.now(dt.UTC)
LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pki")
    ca = make_ca(NOW)
    server = issue(ca, "broker", NOW, server_names=DEFAULT_SERVER_NAMES)
    (root / "server.pem").write_bytes(server.key_pem + server.certificate_pem)
    (root / "ca.pem").write_bytes(ca.certificate_pem)
    return root


@pytest.fixture(scope="module")
def contexts(pki: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(pki / "server.pem")
    client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_context.load_verify_locations(pki / "ca.pem")
    return server_context, client_context


def run(loop_name: str, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    loop = LOOPS[loop_name]()
    try:
        loop.run_until_complete(asyncio.wait_for(main(), 20))
    finally:
        loop.close()


class Recorder(asyncio.BufferedProtocol):
    """Keeps what it receives; receives into a small buffer so records span several buffers."""

    def __init__(self, buffer_size: int = 1000, pause_after: int | None = None) -> None:
        self.buffer = bytearray(buffer_size)
        self.received = bytearray()
        self.pause_after = pause_after
        self.transport: TlsTransport | None = None
        self.events: list[str] = []
        self.lost: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()
        self.changed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, TlsTransport)
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return memoryview(self.buffer)

    def buffer_updated(self, nbytes: int) -> None:
        self.received += self.buffer[:nbytes]
        self.changed.set()
        if self.pause_after is not None and len(self.received) >= self.pause_after:
            self.pause_after = None
            assert self.transport is not None
            self.transport.pause_reading()
            self.events.append("paused")

    def eof_received(self) -> bool | None:
        self.events.append("eof")
        return None

    def pause_writing(self) -> None:
        self.events.append("pause_writing")

    def resume_writing(self) -> None:
        self.events.append("resume_writing")

    def connection_lost(self, exc: Exception | None) -> None:
        self.events.append("lost")
        self.lost.set_result(exc)

    async def wait_for(self, size: int) -> None:
        while len(self.received) < size:
            self.changed.clear()
            await self.changed.wait()


class Client:
    """The client end: TLS in memory, bytes on a non-blocking socket through the loop."""

    def __init__(self, sock: socket.socket, context: ssl.SSLContext) -> None:
        self.sock = sock
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")
        self.loop = asyncio.get_running_loop()

    async def handshake(self) -> None:
        while True:
            try:
                self.tls.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                done = False
            await self.flush()
            if done:
                return
            self.incoming.write(await self.loop.sock_recv(self.sock, 65536))

    def encrypt(self, data: bytes) -> bytes:
        self.tls.write(data)
        return self.outgoing.read()

    async def flush(self) -> None:
        if self.outgoing.pending:
            await self.loop.sock_sendall(self.sock, self.outgoing.read())

    async def send(self, data: bytes) -> None:
        await self.loop.sock_sendall(self.sock, self.encrypt(data))

    async def receive(self, size: int) -> bytes:
        out = bytearray()
        while len(out) < size:
            try:
                out += self.tls.read(size - len(out))
                continue
            except ssl.SSLWantReadError:
                pass
            data = await self.loop.sock_recv(self.sock, 1 << 20)
            if not data:
                raise ConnectionError(f"closed after {len(out)} of {size} bytes")
            self.incoming.write(data)
        return bytes(out)

    async def read_to_close_notify(self) -> bytes:
        """Everything until the server's close_notify (raises if the socket ends without one)."""
        out = bytearray()
        while True:
            try:
                chunk = self.tls.read(65536)
                if not chunk:
                    return bytes(out)
                out += chunk
                continue
            except ssl.SSLZeroReturnError:
                return bytes(out)
            except ssl.SSLWantReadError:
                pass
            data = await self.loop.sock_recv(self.sock, 1 << 20)
            if not data:
                self.incoming.write_eof()
            else:
                self.incoming.write(data)


async def connect(
    contexts: tuple[ssl.SSLContext, ssl.SSLContext], protocol: Recorder
) -> tuple[TlsTransport, Client]:
    server_context, client_context = contexts
    server_sock, client_sock = socket.socketpair()
    client_sock.setblocking(False)
    client = Client(client_sock, client_context)
    tls, _ = await asyncio.gather(accept_tls(server_sock, server_context, 5), client.handshake())
    transport = TlsTransport(asyncio.get_running_loop(), server_sock, tls, protocol)
    return transport, client


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.mark.parametrize("loop_name", LOOPS)
def test_bytes_both_ways_and_a_clean_close(
    loop_name: str, contexts: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def main() -> None:
        protocol = Recorder()
        transport, client = await connect(contexts, protocol)
        assert transport.get_extra_info("peername") is not None
        assert transport.get_extra_info("ssl_object").version() in ("TLSv1.2", "TLSv1.3")
        request = bytes(range(256)) * 300  # spans records and the protocol's small buffer
        await client.send(request[:1])
        await client.send(request[1:])
        await protocol.wait_for(len(request))
        assert bytes(protocol.received) == request
        response = [b"\x00\x00\x00\x10", b"header", bytes(300_000), b"tail"]
        transport.writelines(response)
        transport.close()  # what was written still goes out, then close_notify
        assert await client.read_to_close_notify() == b"".join(response)
        assert await protocol.lost is None
        client.sock.close()

    run(loop_name, main)


@pytest.mark.parametrize("loop_name", LOOPS)
def test_a_request_sent_with_the_handshake_is_not_lost(
    loop_name: str, contexts: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    """The client's first records arrive before the transport exists; they sit in the incoming
    BIO and must be delivered without waiting for more bytes from the socket."""

    async def main() -> None:
        server_context, client_context = contexts
        server_sock, client_sock = socket.socketpair()
        client_sock.setblocking(False)
        client = Client(client_sock, client_context)
        accepting = asyncio.ensure_future(accept_tls(server_sock, server_context, 5))
        # drive the client's handshake by hand so its Finished and a request go in one write
        while True:
            try:
                client.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                await client.flush()
                client.incoming.write(await client.loop.sock_recv(client_sock, 65536))
        await client.loop.sock_sendall(client_sock, client.outgoing.read() + client.encrypt(b"first"))
        tls = await accepting
        protocol = Recorder()
        TlsTransport(asyncio.get_running_loop(), server_sock, tls, protocol)
        await protocol.wait_for(5)
        assert bytes(protocol.received) == b"first"
        client_sock.close()
        await protocol.lost

    run(loop_name, main)


@pytest.mark.parametrize("loop_name", LOOPS)
def test_a_peer_closing_in_the_middle_of_a_record(
    loop_name: str, contexts: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def main() -> None:
        protocol = Recorder()
        _, client = await connect(contexts, protocol)
        await client.send(b"whole")
        record = client.encrypt(b"x" * 5000)
        await client.loop.sock_sendall(client.sock, record[: len(record) // 2])
        await protocol.wait_for(5)
        client.sock.close()
        await protocol.lost  # closed, not stuck waiting for the rest of the record
        assert bytes(protocol.received) == b"whole"  # nothing of the half record delivered

    run(loop_name, main)


@pytest.mark.parametrize("loop_name", LOOPS)
def test_garbage_after_the_handshake_closes_the_connection(
    loop_name: str, contexts: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def main() -> None:
        protocol = Recorder()
        _, client = await connect(contexts, protocol)
        record = bytearray(client.encrypt(b"tampered"))
        record[-1] ^= 1  # the authentication tag no longer matches
        await client.loop.sock_sendall(client.sock, bytes(record))
        assert isinstance(await protocol.lost, ssl.SSLError)
        assert protocol.received == b""
        client.sock.close()

    run(loop_name, main)


@pytest.mark.parametrize("loop_name", LOOPS)
def test_a_write_larger_than_the_socket_buffer_waits_for_a_slow_reader(
    loop_name: str, contexts: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def main() -> None:
        protocol = Recorder()
        transport, client = await connect(contexts, protocol)
        big = bytes(range(256)) * (16 * 1024)  # 4 MiB, far more than a socket pair buffers
        transport.writelines([b"head", big])
        await settle()
        assert protocol.events == ["pause_writing"]
        assert transport.get_write_buffer_size() > 0
        assert await client.receive(len(big) + 4) == b"head" + big
        await settle()
        assert protocol.events == ["pause_writing", "resume_writing"]
        assert transport.get_write_buffer_size() == 0
        transport.close()
        await protocol.lost
        client.sock.close()

    run(loop_name, main)


@pytest.mark.parametrize("loop_name", LOOPS)
def test_paused_reading_keeps_decrypted_records_until_resumed(
    loop_name: str, contexts: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    """Three records in one socket write: the protocol pauses after the first buffer; the other
    records wait in the transport (the socket has nothing more to signal) and arrive on resume."""

    async def main() -> None:
        protocol = Recorder(buffer_size=100, pause_after=100)
        transport, client = await connect(contexts, protocol)
        records = b"".join(client.encrypt(bytes([i]) * 300) for i in range(3))
        await client.loop.sock_sendall(client.sock, records)
        await protocol.wait_for(100)
        await asyncio.sleep(0.05)
        assert len(protocol.received) == 100
        assert protocol.events == ["paused"]
        transport.resume_reading()
        await protocol.wait_for(900)
        assert bytes(protocol.received) == b"\x00" * 300 + b"\x01" * 300 + b"\x02" * 300
        transport.close()
        await protocol.lost
        client.sock.close()

    run(loop_name, main)


@pytest.mark.parametrize("loop_name", LOOPS)
def test_the_peers_close_notify_is_an_end_of_stream(
    loop_name: str, contexts: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def main() -> None:
        protocol = Recorder()
        _, client = await connect(contexts, protocol)
        await client.send(b"bye")
        with contextlib.suppress(ssl.SSLWantReadError):
            client.tls.unwrap()
        await client.flush()
        assert await protocol.lost is None
        assert protocol.events == ["eof", "lost"]
        assert bytes(protocol.received) == b"bye"
        client.sock.close()

    run(loop_name, main)


@pytest.mark.parametrize("loop_name", LOOPS)
def test_handshakes_that_stall_or_speak_plaintext_fail(
    loop_name: str, contexts: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    async def main() -> None:
        server_context, _ = contexts
        stalled, peer = socket.socketpair()
        with pytest.raises(TimeoutError):
            await accept_tls(stalled, server_context, 0.2)
        peer.close()
        stalled.close()
        plain, peer = socket.socketpair()
        peer.sendall(b"\x00\x00\x00\x20" + bytes(32))  # a Kafka frame, no TLS
        with pytest.raises(ssl.SSLError):
            await accept_tls(plain, server_context, 5)
        peer.close()
        gone, peer = socket.socketpair()
        peer.close()
        with pytest.raises(ConnectionResetError):
            await accept_tls(gone, server_context, 5)
        plain.close()
        gone.close()

    run(loop_name, main)


def test_gather_joins_small_chunks_and_keeps_large_ones_whole() -> None:
    small = [b"a" * 10, bytearray(b"b" * 20), memoryview(b"c" * 30)]
    assert gather(small) == [bytearray(b"a" * 10 + b"b" * 20 + b"c" * 30)]
    single = memoryview(b"only")
    assert gather([single])[0] is single
    big = bytes(range(256)) * 2048  # 512 KiB
    pieces = gather([b"head", big, b"tail"])
    assert b"".join(bytes(p) for p in pieces) == b"head" + big + b"tail"
    assert len(pieces[0]) % RECORD == 0  # the head was topped up to whole records
    assert len(pieces) == 3
    assert gather(iter([b"x", b"y"])) == [bytearray(b"xy")]


@pytest.mark.parametrize("loop_name", LOOPS)
def test_a_closed_connection_whose_peer_never_reads_is_dropped_after_the_shutdown_timeout(
    loop_name: str, contexts: tuple[ssl.SSLContext, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tls_transport, "SHUTDOWN_TIMEOUT_S", 0.1)

    async def main() -> None:
        protocol = Recorder()
        transport, client = await connect(contexts, protocol)
        transport.writelines([bytes(4 << 20)])  # more than the socket pair takes
        transport.close()
        assert not protocol.lost.done()
        assert await protocol.lost is None
        client.sock.close()

    run(loop_name, main)


def test_each_tls_listener_chooses_its_transport(pki: Path) -> None:
    props = {
        "ssl.keystore.location": str(pki / "server.pem"),
        "listener.name.old.odradek.ssl.transport": "loop",
        "listener.name.bad.odradek.ssl.transport": "kernel",
    }
    context = SecurityContext(lambda _user, _mechanism: None, lambda: 0)
    protocols = {"NEW": "SSL", "OLD": "SSL", "BAD": "SSL"}
    assert listener_security(props, "NEW", protocols, context).tls_transport == "broker"
    assert listener_security(props, "OLD", protocols, context).tls_transport == "loop"
    with pytest.raises(ListenerConfigError, match="'kernel'"):
        listener_security(props, "BAD", protocols, context)


def _ssl_pointer(tls: ssl.SSLObject) -> int:
    """The OpenSSL SSL* of an SSLObject (CPython's PySSLSocket: object head, socket weakref, SSL*)."""
    address = ctypes.c_void_p.from_address(id(tls._sslobj) + 3 * ctypes.sizeof(ctypes.c_void_p)).value  # type: ignore[attr-defined]
    assert address is not None
    return address


@pytest.mark.parametrize("loop_name", LOOPS)
def test_tls13_key_updates_both_ways(loop_name: str, contexts: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    """TLS 1.3 has no renegotiation, only KeyUpdate: a client asking the broker to update its keys
    too keeps talking to it (the broker's answer goes out with its next write)."""
    libssl = ctypes.CDLL(f"libssl.so.{ssl.OPENSSL_VERSION_INFO[0]}", mode=os.RTLD_NOLOAD)
    libssl.SSL_key_update.argtypes = [ctypes.c_void_p, ctypes.c_int]
    libssl.SSL_version.argtypes = [ctypes.c_void_p]

    async def main() -> None:
        protocol = Recorder()
        transport, client = await connect(contexts, protocol)
        pointer = _ssl_pointer(client.tls)
        assert libssl.SSL_version(pointer) == 0x0304  # TLS 1.3: the pointer is the client's SSL
        for round_ in range(3):
            assert libssl.SSL_key_update(pointer, 1) == 1  # SSL_KEY_UPDATE_REQUESTED
            request = f"request {round_}".encode()
            await client.send(request)  # the KeyUpdate goes first, then the data under new keys
            await protocol.wait_for(len(protocol.received) + len(request))
            transport.write(f"response {round_}".encode())
            assert await client.receive(10) == f"response {round_}".encode()
        transport.close()
        await protocol.lost
        client.sock.close()

    run(loop_name, main)
