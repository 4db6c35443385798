"""TLS listeners' transport: OpenSSL on memory buffers, driven straight from the socket.

The event loop's own TLS transport (asyncio's or uvloop's `SSLProtocol`) stacks a TLS protocol on a
plain transport: received bytes go through a layer of protocol callbacks into OpenSSL's incoming
memory BIO, and every chunk written becomes an ``SSL_write`` of its own, so the few small pieces
of a Kafka response become as many TLS records (each with its own cipher set-up and tag). Here one
object does both jobs with as little Python per byte as it can:

* reading: the socket is read (`recv_into`, up to `READ_SIZE` bytes) into a buffer shared by all
  connections of the server, copied into the connection's incoming BIO, and decrypted record after
  record straight into the protocol's receive buffer (`frame_reader.py`), with one
  `buffer_updated` per filled buffer rather than per record;
* writing: the chunks of a response are gathered (`gather`) into as few ``SSL_write`` calls as
  possible, cut into full 16 KiB records, so a Produce response is one record and a Fetch response
  is its records' bytes encrypted straight from the segment's `bytes`, `WRITE_SLICE` bytes at a
  time; what OpenSSL wrote to the outgoing BIO goes to the socket in one `send` while the socket
  takes it.

(Letting OpenSSL read and write the socket itself, an `ssl.SSLSocket`, was measured too: it saves
the BIO copies but costs two ``read`` system calls per received record without read-ahead, which
Python's ssl module does not offer, and one ``write`` per sent record: librdkafka sends a record
per message, so that was slower.)

The protocol sees an `asyncio.Transport` like any other (`KafkaConnection` does not know which it
has): `BufferedProtocol` reads, `pause_reading`/`resume_reading` (quota muting, queued requests:
records received but not yet delivered stay in the BIO while paused and are delivered on resume,
without waiting for the socket), `pause_writing`/`resume_writing` around `WRITE_HIGH`/`WRITE_LOW`
bytes the socket has not taken, and `close`, which sends what is buffered, then TLS's close_notify,
then closes the socket (at the latest after `SHUTDOWN_TIMEOUT_S`). `accept_tls` runs the server
side of the handshake under a deadline.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import socket
import ssl
from collections.abc import Callable
from typing import Any, cast

log = logging.getLogger("odradek.broker.tls")

RECORD = 16 * 1024
"""TLS's largest record (plaintext bytes); gathered writes are cut on multiples of it."""
GATHER_LIMIT = 256 * 1024
"""Small chunks are copied together up to about this size; larger chunks are written as they are."""
WRITE_SLICE = 16 * RECORD
"""Bytes encrypted at a time from a large piece (whole records: gathered pieces start on one)."""
READ_SIZE = 256 * 1024
"""Bytes taken from the socket per read (into the server's shared buffer)."""
READ_LIMIT = 512 * 1024
"""Bytes decrypted per readiness event before other connections get their turn."""
WRITE_HIGH = 64 * 1024
WRITE_LOW = 16 * 1024
SHUTDOWN_TIMEOUT_S = 30.0
"""How long a closed connection may take to send what was buffered (uvloop's TLS default too)."""
_AGAIN = (BlockingIOError, InterruptedError)


def shared_read_buffer() -> memoryview:
    """The buffer all TLS connections of one event loop receive into before their BIO copies it."""
    return memoryview(bytearray(READ_SIZE))


async def accept_tls(
    sock: socket.socket, context: ssl.SSLContext, timeout_s: float
) -> tuple[ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO]:
    """The server's TLS handshake on an accepted socket, cut after `timeout_s` (TimeoutError); a
    peer that fails it raises ssl.SSLError, one that leaves ConnectionResetError. The caller
    closes the socket when it raises. Returns the TLS object and its incoming and outgoing BIOs
    (the incoming one may already hold the client's first request)."""
    loop = asyncio.get_running_loop()
    sock.setblocking(False)
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        # as the loop's own transports: a small response goes out now, not after the peer's ACK
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_side=True)
    async with asyncio.timeout(timeout_s):
        while True:
            try:
                tls.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                done = False
            if outgoing.pending:
                await loop.sock_sendall(sock, outgoing.read())
            if done:
                return tls, incoming, outgoing
            data = await loop.sock_recv(sock, RECORD + 1024)
            if not data:
                raise ConnectionResetError("the client closed the connection during the TLS handshake")
            incoming.write(data)


class TlsTransport(asyncio.Transport):
    """A handshaken TLS connection (`accept_tls`) as an asyncio transport for a `BufferedProtocol`."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        tls: tuple[ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO],
        protocol: asyncio.BufferedProtocol,
        read_buffer: memoryview | None = None,
    ) -> None:
        super().__init__()
        self._loop = loop
        self._sock = sock
        self._fd = sock.fileno()
        self._tls, self._incoming, self._outgoing = tls
        # The C object under ssl.SSLObject: its read and write are what SSLObject's Python methods
        # call, one frame less per record (a noticeable share of the per-record cost).
        native: Any = getattr(self._tls, "_sslobj", None) or self._tls
        self._read: Callable[[int, memoryview], int] = native.read
        self._write: Callable[[Any], int] = native.write
        self._protocol = protocol
        self._read_buffer = read_buffer if read_buffer is not None else shared_read_buffer()
        self._extra: dict[str, Any] = {
            "socket": sock,
            "ssl_object": self._tls,
            "peercert": self._tls.getpeercert(),
            "cipher": self._tls.cipher(),
            "compression": self._tls.compression(),
            "sockname": _address(sock.getsockname),
            "peername": _address(sock.getpeername),
        }
        self._out: collections.deque[bytes | memoryview] = collections.deque()
        self._out_size = 0
        self._reading = False  # the reader is registered
        self._read_paused = False  # the protocol paused reading
        self._read_scheduled = False  # a decrypt runs soon without waiting for the socket
        self._eof = False  # the socket reached its end
        self._writer = False  # the writer is registered
        self._protocol_paused = False  # pause_writing was called
        self._high = WRITE_HIGH
        self._low = WRITE_LOW
        self._closing = False
        self._lost = False
        protocol.connection_made(self)
        if not self._closing:
            self._start_reading()
            if self._incoming.pending:  # the client's first request came with its Finished
                self._schedule_decrypt()

    # --- BaseTransport ---------------------------------------------------------------------

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._extra.get(name, default)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        """Sends what is buffered and close_notify, then closes the socket."""
        if self._closing:
            return
        self._closing = True
        self._stop_reading()
        with contextlib.suppress(ssl.SSLError, ValueError):
            self._tls.unwrap()  # close_notify into the outgoing BIO; the peer's is not awaited
        self._flush_outgoing()
        if not self._out:
            self._force_close(None)
        elif not self._lost:  # a peer that stops reading does not hold the socket forever
            self._loop.call_later(SHUTDOWN_TIMEOUT_S, self.abort)

    def abort(self) -> None:
        self._force_close(None)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        assert isinstance(protocol, asyncio.BufferedProtocol)
        self._protocol = protocol

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    # --- reading ---------------------------------------------------------------------------

    def is_reading(self) -> bool:
        return not self._read_paused and not self._closing

    def pause_reading(self) -> None:
        if self._closing or self._read_paused:
            return
        self._read_paused = True
        self._stop_reading()

    def resume_reading(self) -> None:
        if self._closing or not self._read_paused:
            return
        self._read_paused = False
        if not self._eof:
            self._start_reading()
        # the BIO may hold records the socket will not signal again
        self._schedule_decrypt()

    def _start_reading(self) -> None:
        if not self._reading:
            self._loop.add_reader(self._fd, self._read_ready)
            self._reading = True

    def _stop_reading(self) -> None:
        if self._reading:
            self._loop.remove_reader(self._fd)
            self._reading = False

    def _schedule_decrypt(self) -> None:
        if not self._read_scheduled:
            self._read_scheduled = True
            self._loop.call_soon(self._scheduled_decrypt)

    def _scheduled_decrypt(self) -> None:
        self._read_scheduled = False
        if not self._read_paused and not self._closing:
            self._decrypt()

    def _read_ready(self) -> None:
        if self._read_paused or self._closing:
            return
        try:
            nbytes = self._sock.recv_into(self._read_buffer)
        except _AGAIN:
            return
        except OSError as exc:
            self._fatal(exc)
            return
        if nbytes:
            self._incoming.write(self._read_buffer[:nbytes])
        else:
            self._eof = True
            self._stop_reading()
            self._incoming.write_eof()
        self._decrypt()

    def _decrypt(self) -> None:
        """Records from the incoming BIO into the protocol's buffers, until the BIO runs dry, the
        protocol pauses, or `READ_LIMIT` bytes were delivered (then the rest runs soon)."""
        protocol, read = self._protocol, self._read
        budget = READ_LIMIT
        try:
            while True:
                buffer = cast(memoryview, protocol.get_buffer(-1))
                size = len(buffer)
                filled = 0
                ended = False
                while filled < size:
                    try:
                        got = read(size - filled, buffer[filled:] if filled else buffer)
                    except ssl.SSLWantReadError:
                        break
                    except (ssl.SSLZeroReturnError, ssl.SSLEOFError):  # close_notify, or a bare EOF
                        got = 0
                    if not got:
                        ended = True
                        break
                    filled += got
                if filled:
                    budget -= filled
                    protocol.buffer_updated(filled)
                if ended:
                    self._end_of_stream()
                    return
                if filled < size or self._read_paused or self._closing:
                    break
                if budget <= 0:
                    self._schedule_decrypt()
                    break
        except ssl.SSLError as exc:
            self._fatal(exc)
            return
        if self._outgoing.pending:  # what reading made OpenSSL answer (a TLS 1.3 KeyUpdate)
            self._flush_outgoing()

    def _end_of_stream(self) -> None:
        if self._closing:
            return
        self._stop_reading()
        keep_open = self._protocol.eof_received()
        if not keep_open:
            self.close()

    # --- writing ---------------------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writelines([data])

    def writelines(self, list_of_data: Any) -> None:
        if self._closing:
            return
        write = self._write
        try:
            for piece in gather(list_of_data):
                size = len(piece)
                if size <= WRITE_SLICE:
                    write(piece)
                    continue
                # A large piece is encrypted and handed to the socket a slice at a time: the
                # ciphertext buffers stay small enough to be reused (a fresh 1 MiB buffer per
                # Fetch response costs its page faults), and the socket starts sending sooner.
                view = memoryview(piece)
                for start in range(0, size, WRITE_SLICE):
                    write(view[start : start + WRITE_SLICE])
                    self._flush_outgoing()
        except ssl.SSLError as exc:
            self._fatal(exc)
            return
        self._flush_outgoing()

    def _flush_outgoing(self) -> None:
        """What OpenSSL wrote to the outgoing BIO, to the socket (or queued behind what waits)."""
        if self._lost:
            return
        if self._outgoing.pending:
            data = self._outgoing.read()
            self._out.append(data)
            self._out_size += len(data)
        if self._out and not self._writer:
            self._send()
        if self._out:
            self._maybe_pause_protocol()

    def _send(self) -> None:
        out, sock = self._out, self._sock
        while out:
            data = out[0]
            try:
                sent = sock.send(data)
            except _AGAIN:
                break
            except OSError as exc:
                self._fatal(exc)
                return
            self._out_size -= sent
            if sent < len(data):
                out[0] = memoryview(data)[sent:]
                break
            out.popleft()
        if out:
            self._start_writing()
            return
        self._stop_writing()
        self._maybe_resume_protocol()
        if self._closing:
            self._force_close(None)

    def _start_writing(self) -> None:
        if not self._writer:
            self._loop.add_writer(self._fd, self._send)
            self._writer = True

    def _stop_writing(self) -> None:
        if self._writer:
            self._loop.remove_writer(self._fd)
            self._writer = False

    def get_write_buffer_size(self) -> int:
        return self._out_size

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._low, self._high

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._high = WRITE_HIGH if high is None else high
        self._low = self._high // 4 if low is None else low
        self._maybe_pause_protocol()

    def _maybe_pause_protocol(self) -> None:
        if self._out_size > self._high and not self._protocol_paused and not self._closing:
            self._protocol_paused = True
            self._protocol.pause_writing()

    def _maybe_resume_protocol(self) -> None:
        if self._protocol_paused and self._out_size <= self._low:
            self._protocol_paused = False
            self._protocol.resume_writing()

    def can_write_eof(self) -> bool:
        return False

    def write_eof(self) -> None:
        raise NotImplementedError("TLS has no half-close")

    # --- closing ---------------------------------------------------------------------------

    def _fatal(self, exc: Exception) -> None:
        if not isinstance(exc, ConnectionError):
            log.debug("TLS connection on fd %d failed: %s", self._fd, exc)
        if isinstance(exc, ssl.SSLError) and self._outgoing.pending and not self._out:
            with contextlib.suppress(OSError):  # the alert OpenSSL wrote, if the socket takes it now
                self._sock.send(self._outgoing.read())
        self._force_close(exc)

    def _force_close(self, exc: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._closing = True
        self._stop_reading()
        self._stop_writing()
        self._out.clear()
        self._out_size = 0
        self._sock.close()  # unregistered above; nothing touches the descriptor again
        self._loop.call_soon(self._protocol.connection_lost, exc)


def gather(chunks: Any) -> list[bytes | bytearray | memoryview]:
    """Chunks to write in as few ``SSL_write`` calls as possible: small chunks copied together; a
    chunk of `GATHER_LIMIT` or more written as it is, after the small ones before it were topped up
    to a whole number of records with its first bytes (so no short record is written between
    them). A single chunk is returned as it is."""
    if not isinstance(chunks, (list, tuple)):  # (a tuple: no union built per write)
        chunks = list(chunks)
    if len(chunks) == 1:
        return list(chunks)
    out: list[bytes | bytearray | memoryview] = []
    pending: bytearray | None = None
    for chunk in chunks:
        size = len(chunk)
        if size < GATHER_LIMIT:
            if not size:
                continue
            if pending is None:
                pending = bytearray(chunk)
            else:
                pending += chunk
            if len(pending) >= GATHER_LIMIT:
                out.append(pending)
                pending = None
            continue
        if pending is None:
            out.append(chunk)
            continue
        top_up = -len(pending) % RECORD
        view = memoryview(chunk)
        pending += view[:top_up]
        out.append(pending)
        pending = None
        out.append(view[top_up:])
    if pending is not None:
        out.append(pending)
    return out


def _address(get: Any) -> Any:
    try:
        return get()
    except OSError:
        return None
