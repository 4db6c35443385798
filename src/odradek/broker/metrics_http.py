"""A minimal asyncio HTTP endpoint serving ``GET /metrics`` in Prometheus text format.

Runs on the broker's event loop (no extra thread); the exposition is rendered per scrape (the first
scrape imports `prometheus_client`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from odradek.broker.metrics import BrokerMetrics

MAX_REQUEST_HEAD = 8192


class MetricsEndpoint:
    def __init__(self, metrics: BrokerMetrics) -> None:
        self.metrics = metrics
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        self.server = await asyncio.start_server(self._serve, host, port, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
            if len(head) > MAX_REQUEST_HEAD:
                raise ValueError("request head too large")
            method, path, *_ = head.split(b"\r\n", 1)[0].split(b" ")
            if method == b"GET" and path.split(b"?")[0] == b"/metrics":
                # prometheus_client (http.server, urllib, compression) is loaded by the first scrape
                from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

                body = generate_latest(self.metrics.registry)
                status, ctype = b"200 OK", CONTENT_TYPE_LATEST.encode()
            else:
                body, status, ctype = b"not found\n", b"404 Not Found", b"text/plain"
            writer.write(
                b"HTTP/1.1 "
                + status
                + b"\r\nContent-Type: "
                + ctype
                + b"\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n"
                + body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
