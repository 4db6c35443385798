"""Listening sockets: one asyncio server per listener, one `KafkaConnection` per client."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from odradek.broker.connection import DEFAULT_SESSION_SETTINGS, KafkaConnection, SessionSettings

if TYPE_CHECKING:
    from collections.abc import Mapping

    from odradek.broker.dispatcher import Dispatcher
    from odradek.broker.listener_security import ListenerSecurity
    from odradek.broker.metrics import BrokerMetrics

log = logging.getLogger("odradek.broker.server")


@dataclass(frozen=True, slots=True)
class Listener:
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
        security: Mapping[str, ListenerSecurity] | None = None,
        settings: SessionSettings = DEFAULT_SESSION_SETTINGS,
        tls_handshake_timeout_s: float = 10.0,
    ) -> None:
        self.security = dict(security or {})
        self.settings = settings
        self.tls_handshake_timeout_s = tls_handshake_timeout_s
        self.dispatcher = dispatcher
        self.max_request_size = max_request_size
        self.metrics = metrics
        self.connections: set[KafkaConnection] = set()
        self.servers: list[asyncio.Server] = []
        self.bound: list[tuple[Listener, int]] = []

    async def start(self, listeners: list[Listener]) -> None:
        loop = asyncio.get_running_loop()
        for listener in listeners:
            security = self.security.get(listener.name)
            context = security.tls.context if security is not None and security.tls is not None else None

            def connection(security: ListenerSecurity | None = security) -> KafkaConnection:
                return KafkaConnection(
                    self.dispatcher,
                    self.max_request_size,
                    self.connections,
                    self.metrics,
                    security,
                    self.settings,
                )

            server = await loop.create_server(
                connection,
                host=listener.host or None,
                port=listener.port,
                reuse_address=True,
                backlog=1024,
                ssl=context,
                ssl_handshake_timeout=self.tls_handshake_timeout_s if context is not None else None,
            )
            port = server.sockets[0].getsockname()[1]
            self.servers.append(server)
            self.bound.append((listener, port))
            log.info("listening on %s://%s:%d", listener.name, listener.host or "0.0.0.0", port)
            if security is not None and security.protocol != "PLAINTEXT":
                log.info("listener %s: %s %s", listener.name, security.protocol, sorted(security.mechanisms))

    def queue_depth(self) -> int:
        return sum(c.queued() for c in self.connections)

    async def stop(self) -> None:
        for server in self.servers:
            server.close()
        for conn in list(self.connections):
            conn.close()
        for server in self.servers:
            await server.wait_closed()
        self.servers.clear()
