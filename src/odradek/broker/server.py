"""Listening sockets: an accept loop per listener, one `KafkaConnection` per client.

The server accepts connections itself (`sock_accept`, then `connect_accepted_socket`) rather than
through `loop.create_server`, so that it can apply Kafka's connection limits before taking a
connection off the backlog (`connection_quotas.py`), and survive running out of descriptors: on
EMFILE/ENFILE (or ENOBUFS/ENOMEM) the accept loop logs, waits `ACCEPT_RETRY_S` and tries again while
the pending clients wait in the backlog; established connections are not affected. A sweep closes
connections idle for `connections.max.idle.ms` (nothing received, no request in progress, no answer
bytes written).
Every connection of the server receives into one shared scratch buffer (`frame_reader.py`).
On a TLS listener (`listener_security.py`) each accepted socket's handshake runs in a task of its
own, cut after `tls_handshake_timeout_s`, so a stalled handshake never holds up the accept loop;
the connection then runs on the broker's own TLS transport (`tls_transport.py`), or on the event
loop's with ``odradek.ssl.transport=loop``.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import logging
import math
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from odradek.broker.connection import DEFAULT_SESSION_SETTINGS, KafkaConnection, SessionSettings
from odradek.broker.connection_quotas import ConnectionLimits, ConnectionQuotas, Verdict
from odradek.broker.frame_reader import shared_scratch
from odradek.broker.tls_transport import TlsTransport, accept_tls, shared_read_buffer

if TYPE_CHECKING:
    from collections.abc import Mapping

    from odradek.broker.dispatcher import Dispatcher
    from odradek.broker.listener_security import ListenerSecurity
    from odradek.broker.metrics import BrokerMetrics

log = logging.getLogger("odradek.broker.server")
BACKLOG = 4096  # the kernel caps it at net.core.somaxconn
ACCEPT_RETRY_S = 0.1
_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)


@dataclass(frozen=True, slots=True)
class Listener:
    """A listener to bind or advertise: its name (security protocol map key), host and port."""

    name: str
    host: str
    port: int


def parse_listeners(text: str) -> list[Listener]:
    """Kafka's ``listeners`` syntax: ``NAME://host:port,NAME2://host:port`` (empty host = all)."""
    out = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        name, sep, rest = item.partition("://")
        if not sep:
            raise ValueError(f"listener {item!r} is not NAME://host:port")
        host, colon, port = rest.rpartition(":")
        if not colon or not port.isdigit():
            raise ValueError(f"listener {item!r} has no port")
        out.append(Listener(name.upper(), host.strip("[]"), int(port)))
    if not out:
        raise ValueError("no listeners configured")
    return out


class KafkaServer:
    def __init__(
        self,
        dispatcher: Dispatcher,
        max_request_size: int,
        metrics: BrokerMetrics | None = None,
        limits: ConnectionLimits | None = None,
        security: Mapping[str, ListenerSecurity] | None = None,
        settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
        tls_handshake_timeout_s: float = 10.0,
        ip_creation_rate: Callable[[str], float | None] | None = None,
    ) -> None:
        """`ip_creation_rate(ip)`: the ``connection_creation_rate`` client quota of an address."""
        self.ip_creation_rate = ip_creation_rate or (lambda _ip: None)
        self.security = dict(security or {})
        self.settings = settings
        self.tls_handshake_timeout_s = tls_handshake_timeout_s
        self.dispatcher = dispatcher
        self.max_request_size = max_request_size
        self.metrics = metrics
        self.limits = limits or ConnectionLimits()
        self.connections: set[KafkaConnection] = set()
        self.bound: list[tuple[Listener, int]] = []
        self._sockets: list[socket.socket] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._scratch = shared_scratch()
        self._tls_read_buffer = shared_read_buffer()
        self._quotas: ConnectionQuotas | None = None
        self._slot_freed = asyncio.Event()
        self._throttled: dict[socket.socket, asyncio.TimerHandle] = {}
        """Connections held for a delayed close (an address over its connection_creation_rate)."""

    async def start(self, listeners: list[Listener]) -> None:
        loop = asyncio.get_running_loop()
        self._quotas = ConnectionQuotas(self.limits, _ms(loop.time()), self.ip_creation_rate)
        for listener in listeners:
            sockets = _listen(listener)
            port = sockets[0].getsockname()[1]
            for sock in sockets:
                self._sockets.append(sock)
                self._spawn(self._accept_loop(sock, listener), f"accept-{listener.name}")
            self.bound.append((listener, port))
            log.info("listening on %s://%s:%d", listener.name, listener.host or "0.0.0.0", port)
            security = self.security.get(listener.name)
            if security is not None and security.protocol != "PLAINTEXT":
                log.info("listener %s: %s %s", listener.name, security.protocol, sorted(security.mechanisms))
        self._spawn(self._idle_sweep(), "idle-connections")

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept_loop(self, sock: socket.socket, listener: Listener) -> None:
        loop = asyncio.get_running_loop()
        quotas = self._quotas
        assert quotas is not None
        name = listener.name
        while True:
            while quotas.at_capacity(name):
                self._slot_freed.clear()
                await self._slot_freed.wait()
            delay_ms = quotas.accept_delay(name, _ms(loop.time()))
            if delay_ms > 0:
                await asyncio.sleep(delay_ms / 1000)
                continue
            try:
                conn, address = await _accept(loop, sock)
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    log.warning("accept on %s failed: %s", name, exc)
                    continue
                log.error("cannot accept on %s: %s; retrying in %.1f s", name, exc, ACCEPT_RETRY_S)
                await asyncio.sleep(ACCEPT_RETRY_S)
                continue
            host = address[0] if isinstance(address, tuple) else str(address)
            admission = quotas.admit(name, host, _ms(loop.time()))
            if admission.verdict is Verdict.REJECT:
                log.info("closing connection from %s on %s: %s", host, name, admission.reason)
                conn.close()
                continue
            if admission.verdict is Verdict.DELAYED_CLOSE:
                # held unserved for the throttle time, then closed (Kafka's delayed close)
                log.info(
                    "closing connection from %s in %d ms: %s", host, admission.delay_ms, admission.reason
                )
                self._throttled[conn] = loop.call_later(
                    admission.delay_ms / 1000, self._close_throttled, conn, name, host
                )
                continue
            security = self.security.get(listener.name)
            if security is not None and security.tls is not None:
                # The TLS handshake runs in a task of its own: a client stalling it must not hold
                # up the accept loop (it is cut after `tls_handshake_timeout_s`).
                self._spawn(self._connect(conn, name, host, security), f"tls-{host}")
            else:
                await self._connect(conn, name, host, security)

    def _close_throttled(self, conn: socket.socket, listener: str, host: str) -> None:
        self._throttled.pop(conn, None)
        conn.close()
        self._closed(listener, host)

    async def _connect(
        self, conn: socket.socket, listener: str, host: str, security: ListenerSecurity | None
    ) -> None:
        context = security.tls.context if security is not None and security.tls is not None else None
        factory = functools.partial(self._connection, listener, host, security)
        loop = asyncio.get_running_loop()
        try:
            if context is None:
                await loop.connect_accepted_socket(factory, conn)
            elif security is not None and security.tls_transport == "broker":
                try:
                    tls = await accept_tls(conn, context, self.tls_handshake_timeout_s)
                except asyncio.CancelledError:  # the server stops
                    conn.close()
                    raise
                TlsTransport(loop, conn, tls, factory(), self._tls_read_buffer)
            else:
                await loop.connect_accepted_socket(
                    factory, conn, ssl=context, ssl_handshake_timeout=self.tls_handshake_timeout_s
                )
        except OSError as exc:  # ssl.SSLError and TimeoutError are OSErrors
            log.info("connection from %s failed before it was established: %s", host, exc)
            conn.close()
            self._closed(listener, host)

    def _connection(self, listener: str, host: str, security: ListenerSecurity | None) -> KafkaConnection:
        return KafkaConnection(
            self.dispatcher,
            self.max_request_size,
            self.connections,
            self.metrics,
            security,
            self.settings,
            scratch=self._scratch,
            on_closed=lambda: self._closed(listener, host),
        )

    def _closed(self, listener: str, host: str) -> None:
        if self._quotas is not None:
            self._quotas.release(listener, host)
            self._slot_freed.set()

    async def _idle_sweep(self) -> None:
        """Close connections idle (nothing read or written, no request in progress) for
        `connections.max.idle.ms` (Kafka closes them silently too); checked every tenth of that
        (between 10 ms and 30 s)."""
        idle_s = self.limits.max_idle_ms / 1000
        every = min(max(idle_s / 10, 0.01), 30.0)
        sweeps = max(1, math.ceil(idle_s / every))
        while True:
            await asyncio.sleep(every)
            for conn in list(self.connections):
                if conn.idle_sweep() >= sweeps:
                    conn.close_idle()

    def queue_depth(self) -> int:
        return sum(c.queued() for c in self.connections)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()
        for sock, timer in list(self._throttled.items()):
            timer.cancel()
            sock.close()
        self._throttled.clear()
        for conn in list(self.connections):
            conn.close()


async def _accept(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> tuple[socket.socket, Any]:
    """Take the next connection off the listener's backlog.

    Not `loop.sock_accept`: it accepts inside the loop's reader callback, and when the accept loop is
    cancelled (the broker stops) between that callback and the task's next step, the accepted socket
    is lost: never served, never closed. Here the accept itself runs in this coroutine, after the
    wait for readability; a cancellation can only end the wait, and the connection stays in the
    backlog (closing the listener resets it)."""
    fd = sock.fileno()
    while True:
        try:
            conn, address = sock.accept()
        except (BlockingIOError, InterruptedError):
            pass
        else:
            conn.setblocking(False)
            return conn, address
        readable = loop.create_future()
        loop.add_reader(fd, _set_ready, readable)
        try:
            await readable
        finally:
            loop.remove_reader(fd)


def _set_ready(readable: asyncio.Future[None]) -> None:
    if not readable.done():
        readable.set_result(None)


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _listen(listener: Listener) -> list[socket.socket]:
    """Listening sockets for every address of the listener's host (an empty host: all interfaces),
    all on one port (port 0: the one the OS gives the first)."""
    port = listener.port
    sockets: list[socket.socket] = []
    try:
        infos = socket.getaddrinfo(
            listener.host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address[0], port, *address[2:]))
            sock.listen(BACKLOG)
            sock.setblocking(False)
            port = sock.getsockname()[1]
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets
