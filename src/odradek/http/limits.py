"""Limits every HTTP service applies: request body size, request time, and a slow body.

An ASGI middleware, so it costs one wrapper per request and never buffers bodies itself:

* **Body size.** A ``Content-Length`` above ``max_body_bytes`` is refused at once with 413; a
  chunked body is counted as the handler reads it and the read that crosses the limit raises
  `HttpError` 413, so the handler never sees more than the limit.
* **Request time.** A request still running after ``request_timeout_s`` is cancelled. If its body
  had not fully arrived by then (a client that never finishes its body) it is answered 408;
  otherwise with ``timeout_error`` (the service picks the code: the schema registry uses Confluent's
  50002). A request whose response has already started simply has its connection ended.
* **Idle body.** With ``body_idle_timeout_s`` set, a read of the body that waits longer than that
  for the next chunk raises `HttpError` 408 (streaming uploads have no total deadline but must
  keep moving).

A route can carry limits of its own (`LimitedRoute`): a streaming endpoint sets
``request_timeout_s=None`` (no total deadline), ``max_body_bytes=None`` (a stream is unbounded;
the handler bounds each item itself) and an idle timeout instead. The middleware matches only the
few `LimitedRoute`s of the app, so ordinary requests pay nothing for the feature.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from odradek.http.errors import HttpError, error_body

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_REQUEST_TIMEOUT_S = 30.0
PAYLOAD_TOO_LARGE = 413
REQUEST_TIMEOUT = 408
GATEWAY_TIMEOUT = 504


@dataclass(frozen=True, slots=True)
class HttpLimits:
    #: None: no limit on the whole body (the handler bounds what it keeps)
    max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES
    #: None: no total deadline (streams)
    request_timeout_s: float | None = DEFAULT_REQUEST_TIMEOUT_S
    timeout_error: HttpError = field(default_factory=lambda: HttpError(GATEWAY_TIMEOUT, "Request timed out"))
    #: longest wait for the next chunk of a body still arriving; None: no such limit
    body_idle_timeout_s: float | None = None

    def too_large(self) -> HttpError:
        return HttpError(PAYLOAD_TOO_LARGE, f"Request body is larger than {self.max_body_bytes} bytes")


def body_timed_out() -> HttpError:
    return HttpError(REQUEST_TIMEOUT, "Request body not received in time")


class LimitedRoute(Route):
    """A `Route` with its own `HttpLimits` instead of the app's."""

    def __init__(self, path: str, endpoint: Any, *, limits: HttpLimits, **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.limits = limits


class LimitsMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        limits: HttpLimits,
        media_type: str,
        routes: Sequence[LimitedRoute] = (),
    ) -> None:
        self.app = app
        self.limits = limits
        self.media_type = media_type.encode()
        self.routes = tuple(routes)

    def limits_for(self, scope: Scope) -> HttpLimits:
        for route in self.routes:
            if route.matches(scope)[0] is Match.FULL:
                return route.limits
        return self.limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits = self.limits_for(scope) if self.routes else self.limits
        max_body = limits.max_body_bytes
        body_complete = True  # until a header says a body follows
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or (max_body is not None and int(value) > max_body):
                    await self._answer(send, limits.too_large())
                    return
                body_complete = int(value) == 0
            elif name == b"transfer-encoding":
                body_complete = False
        received = 0
        idle = limits.body_idle_timeout_s

        async def counted_receive() -> Message:
            nonlocal received, body_complete
            if idle is not None and not body_complete:
                try:
                    async with asyncio.timeout(idle):
                        message = await receive()
                except TimeoutError:
                    raise body_timed_out() from None
            else:
                message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if not message.get("more_body", False):
                    body_complete = True
                if max_body is not None and received > max_body:
                    raise limits.too_large()
            else:
                body_complete = True
            return message

        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        deadline = asyncio.timeout(limits.request_timeout_s)
        try:
            async with deadline:
                await self.app(scope, counted_receive, tracked_send)
        except TimeoutError:
            if not deadline.expired():
                raise
            if not started:
                await self._answer(send, limits.timeout_error if body_complete else body_timed_out())

    async def _answer(self, send: Send, error: HttpError) -> None:
        body = json.dumps(error_body(error.error_code, error.message)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": error.status,
                "headers": [(b"content-type", self.media_type), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
