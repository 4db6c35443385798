"""Long streaming responses with back-pressure: Server-Sent Events, NDJSON, delivery reports.

`StreamResponse` sends the chunks of an async iterator as one chunked HTTP response. Each
``send`` waits while the connection's write buffer is above uvicorn's high-water mark, so a slow
reader slows the iterator down instead of growing memory: the iterator produces the next chunk
only once the previous one is (mostly) on the wire. That is the back-pressure.

Starlette's own ``StreamingResponse`` listens for the client going away by reading the request
(``receive``), which would steal the body of a request that streams in both directions (v3
streaming produce reads records while it writes reports). `StreamResponse` watches for the
disconnect only when told the body is not needed (``watch_disconnect=True``, for GET streams); a
duplex handler sees the disconnect in its own body reads. Either way the iterator is closed
(``aclose``) when the client goes away, so its ``finally`` blocks release what it holds.

SSE framing (`sse_event`) follows the WHATWG spec: ``id:``, ``event:``, one ``data:`` line per line
of data, a blank line; a comment line (``:``) is a keep-alive.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

from starlette.types import Receive, Scope, Send

SSE = "text/event-stream"
NDJSON = "application/x-ndjson"
SSE_KEEPALIVE = b":\n\n"


def sse_event(data: bytes, event_id: str | None = None, event: str | None = None) -> bytes:
    """One SSE event; ``data`` may hold newlines (each becomes its own ``data:`` line)."""
    parts: list[bytes] = []
    if event_id is not None:
        parts.append(b"id: " + event_id.encode() + b"\n")
    if event is not None:
        parts.append(b"event: " + event.encode() + b"\n")
    for line in data.split(b"\n"):
        parts.append(b"data: " + line + b"\n")
    parts.append(b"\n")
    return b"".join(parts)


class StreamResponse:
    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        media_type: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        watch_disconnect: bool = True,
    ) -> None:
        self.chunks = chunks
        self.status = status
        self.watch_disconnect = watch_disconnect
        raw = {"content-type": media_type, "cache-control": "no-cache", "x-accel-buffering": "no"}
        raw.update({k.lower(): v for k, v in (headers or {}).items()})
        self.headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in raw.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        if not self.watch_disconnect:
            try:
                await self._pump(send)
            finally:
                await _close(self.chunks)
            return
        pump = asyncio.ensure_future(self._pump(send))
        watcher = asyncio.ensure_future(_wait_disconnect(receive))
        try:
            await asyncio.wait((pump, watcher), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (pump, watcher):
                if not task.done():
                    task.cancel()
            for task in (pump, watcher):
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await _close(self.chunks)
        if pump.done() and not pump.cancelled() and pump.exception() is not None:
            raise pump.exception()  # type: ignore[misc]

    async def _pump(self, send: Send) -> None:
        async for chunk in self.chunks:
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _close(chunks: AsyncIterator[bytes]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
