"""Run an HTTP service on uvicorn until SIGINT/SIGTERM (ARCHITECTURE D10).

`serve` binds the listening socket itself (so port 0 works and the real port is known), runs
uvicorn on the event loop `odradek.process.event_loop` chooses (uvloop by default, as the broker),
with httptools' parser when installed (zttp's, which also speaks HTTP/2, when the service asks for
HTTP/2), no access log (logs go through `logging`, one JSON line each)
and keep-alive long enough for clients that cache connections. Once the socket accepts requests the
process announces itself to its supervisor (`odradek.process.readiness`) and logs
``serving NAME on URL``. A signal starts uvicorn's graceful shutdown: it stops accepting, lets
running requests finish for up to ``graceful_shutdown_s``, then runs the app's lifespan shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from dataclasses import dataclass
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

from odradek.http.coalesce import coalescing
from odradek.http.listen import ListenAddress
from odradek.process import readiness
from odradek.process.event_loop import loop_factory

log = logging.getLogger("odradek.http")


@dataclass(frozen=True, slots=True)
class ServerSettings:
    keep_alive_s: int = 75
    graceful_shutdown_s: int = 2
    max_connections: int | None = 1000
    backlog: int = 1024
    # HTTP/2 cleartext next to HTTP/1.1 on the same port (prior knowledge: a connection opening with
    # the HTTP/2 preface speaks HTTP/2, any other HTTP/1.1); uvicorn's zttp protocol serves both.
    http2: bool = False
    # The writes of one event-loop turn as one socket write (`coalesce.py`): a small response's
    # head and body in one TCP segment instead of two.
    coalesce_writes: bool = False


def bind(address: ListenAddress) -> socket.socket:
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address.host, address.port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, name: str, url: str) -> None:
        super().__init__(config)
        self.name = name
        self.url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            log.info("serving %s on %s", self.name, self.url)
            readiness.announce({"name": self.name, "url": self.url})


def serve(
    app: ASGIApp,
    name: str,
    address: ListenAddress,
    settings: ServerSettings | None = None,
    sock: socket.socket | None = None,
) -> int:
    """Serve ``app`` at ``address`` until SIGINT or SIGTERM; 0 after a clean shutdown.

    ``sock``: a socket already bound with `bind` (when the app must know its port before serving).
    """
    settings = settings or ServerSettings()
    sock = sock if sock is not None else bind(address)
    url = address.url(sock.getsockname()[1])
    config = configure(app, settings)
    server = _Server(config, name, url)
    loop_name, factory = loop_factory(os.environ)
    log.info("event loop: %s", loop_name)
    # uvicorn re-raises the signal that stopped it once it has shut down; a no-op handler for
    # the duration makes that a clean exit instead of a death by signal.
    previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(server.serve(sockets=[sock]))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
    return 0 if server.started else 1


def configure(app: ASGIApp, settings: ServerSettings) -> uvicorn.Config:
    """uvicorn's configuration for ``settings`` (loaded: its protocol class chosen)."""
    config = uvicorn.Config(
        app,
        loop="none",
        http="zttp" if settings.http2 else "auto",
        http2=settings.http2,
        lifespan="on",
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=settings.keep_alive_s,
        timeout_graceful_shutdown=settings.graceful_shutdown_s,
        limit_concurrency=settings.max_connections,
        backlog=settings.backlog,
    )
    config.load()
    if settings.coalesce_writes:
        config.http_protocol_class = coalescing(config.http_protocol_class)
    return config


def _ignore(_sig: int, _frame: FrameType | None) -> None:
    pass
