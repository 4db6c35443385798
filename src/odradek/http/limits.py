"""Limits every HTTP service applies: request body size and request time.

An ASGI middleware, so it costs one wrapper per request and never buffers bodies itself:

* **Body size.** A ``Content-Length`` above ``max_body_bytes`` is refused at once with 413; a
  chunked body is counted as the handler reads it and the read that crosses the limit raises
  `HttpError` 413, so the handler never sees more than the limit.
* **Request time.** A request still running after ``request_timeout_s`` is cancelled and answered
  with ``timeout_error`` (the service picks the code: the schema registry uses Confluent's 50002),
  unless its response has already started, in which case the connection is simply ended.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from odradek.http.errors import HttpError, error_body

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_REQUEST_TIMEOUT_S = 30.0
PAYLOAD_TOO_LARGE = 413
GATEWAY_TIMEOUT = 504


@dataclass(frozen=True, slots=True)
class HttpLimits:
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S
    timeout_error: HttpError = field(default_factory=lambda: HttpError(GATEWAY_TIMEOUT, "Request timed out"))

    def too_large(self) -> HttpError:
        return HttpError(PAYLOAD_TOO_LARGE, f"Request body is larger than {self.max_body_bytes} bytes")


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, limits: HttpLimits, media_type: str) -> None:
        self.app = app
        self.limits = limits
        self.media_type = media_type.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits = self.limits
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > limits.max_body_bytes:
                    await self._answer(send, limits.too_large())
                    return
                break
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limits.max_body_bytes:
                    raise limits.too_large()
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
                await self._answer(send, limits.timeout_error)

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
