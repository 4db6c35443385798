"""Prepared key lookups answered before Starlette: the lean path of `POST /query-stream` and `/query`.

A key lookup of a shape the server planned before (`odradek.sql.pull.prepared`) costs ~0.05 ms in
the engine; Starlette's routing, middleware, `Request` and `Response` objects cost several times
that per request. This ASGI app sits in front of the full app: for a POST to one of the two query
routes with a small body, it reads the body, and when `KsqlServer.cached_lookup` answers it, sends
the same bytes and headers the full app would (`pull_body`), and counts the request in the same
HTTP metrics. Anything else — another route, a shape not planned yet, a push query, a parse error,
a table whose query is not running — goes to the full app unchanged, with the body it already read
handed on, so every answer and error stays the full app's.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from odradek.sql.server.service import KsqlServer

MAX_BODY = 16 * 1024
"""A lookup's body is one statement: a larger body goes to the full app (and its limits)."""

_FIELDS = {"/query-stream": ("sql", "properties", False), "/query": ("ksql", "streamsProperties", True)}


class FastLookups:
    def __init__(self, app: ASGIApp, server: KsqlServer, metrics: Any, body: Any) -> None:
        self.app = app
        self.server = server
        self.metrics = metrics
        self.pull_body = body
        """`(columns, types, rows, legacy, accept) -> (bytes, media type)`: the full app's encoder."""
        self._observed: dict[tuple[str, str], tuple[Any, Any]] = {}
        self.state = getattr(app, "state", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fields = _FIELDS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if fields is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        chunks: list[bytes] = []
        size = 0
        first: Message | None = None
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                first = message
                break
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
            if size > MAX_BODY:
                break
        body = b"".join(chunks)
        answer = None if first is not None or more else self._answer(scope, body, *fields)
        if answer is None:
            await self.app(scope, _replay(body, more, first, receive), send)
            return
        content, media = answer
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", str(len(content)).encode()), (b"content-type", media)],
            }
        )
        await send({"type": "http.response.body", "body": content})
        self._observe(scope["path"], time.perf_counter() - start)

    def _answer(
        self, scope: Scope, body: bytes, text_field: str, props_field: str, legacy: bool
    ) -> tuple[bytes, bytes] | None:
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(request, dict):
            return None
        text = request.get(text_field) or request.get("ksql") or request.get("sql")
        props = request.get(props_field) or request.get("streamsProperties") or {}
        if not isinstance(text, str) or not isinstance(props, dict):
            return None
        pulled = self.server.cached_lookup(text, props)
        if pulled is None:
            return None
        accept = ""
        if not legacy:
            for name, value in scope["headers"]:
                if name == b"accept":
                    accept = value.decode("latin-1")
                    break
        content, media = self.pull_body(*pulled, legacy, accept)
        return content, media.encode()

    def _observe(self, route: str, seconds: float) -> None:
        """The full app's HTTP metrics (`MetricsMiddleware`), with the labelled children cached."""
        if self.metrics is None:
            return
        children = self._observed.get(("POST", route))
        if children is None:
            metrics = self.metrics
            children = self._observed[("POST", route)] = (
                metrics.requests.labels(metrics.service, "POST", route, "200"),
                metrics.latency.labels(metrics.service, "POST", route),
            )
        children[0].inc()
        children[1].observe(seconds)


def _replay(body: bytes, more: bool, first: Message | None, receive: Receive) -> Receive:
    """`receive` that first hands on what the fast path already read."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": more}]
    if first is not None:
        pending.append(first)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
