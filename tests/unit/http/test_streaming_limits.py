"""The HTTP layer's streaming response and per-route limits, through ASGI (no socket)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from odradek.http import HttpLimits, LimitedRoute, StreamResponse, create_app, sse_event


async def stream(_request: Request) -> StreamResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(3):
            yield sse_event(b"line %d\nsecond" % i, event_id=str(i))

    return StreamResponse(chunks(), "text/event-stream")


async def upload(request: Request) -> Response:
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
    return JSONResponse({"size": total})


async def slow(_request: Request) -> Response:
    await asyncio.sleep(0.5)
    return JSONResponse({})


def make_app() -> object:
    unlimited = HttpLimits(max_body_bytes=None, request_timeout_s=None, body_idle_timeout_s=0.2)
    return create_app(
        "test",
        [
            Route("/stream", stream),
            LimitedRoute("/upload", upload, methods=["POST"], limits=unlimited),
            Route("/small-upload", upload, methods=["POST"]),
            LimitedRoute("/slow", slow, limits=unlimited),
            Route("/slow-default", slow),
        ],
        limits=HttpLimits(max_body_bytes=100, request_timeout_s=0.3),
    )


def run(scenario):  # type: ignore[no-untyped-def]
    async def main() -> None:
        transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await scenario(client)

    asyncio.run(main())


def test_sse_stream() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        r = await client.get("/stream")
        assert r.status_code == 200 and r.headers["content-type"] == "text/event-stream"
        assert r.text.startswith("id: 0\ndata: line 0\ndata: second\n\nid: 1\n")

    run(scenario)


def test_a_limited_route_has_its_own_limits() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        r = await client.post("/upload", content=b"x" * 1000)
        assert r.json() == {"size": 1000}
        r = await client.post("/small-upload", content=b"x" * 1000)
        assert r.status_code == 413
        assert (await client.get("/slow")).status_code == 200
        assert (await client.get("/slow-default")).status_code == 504

    run(scenario)


def test_a_body_that_stops_arriving_is_408() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b"abc"
        await asyncio.sleep(1)
        yield b"def"

    async def scenario(client: httpx.AsyncClient) -> None:
        r = await client.post("/upload", content=body())
        assert r.status_code == 408
        r = await client.post("/small-upload", content=body())
        assert r.status_code == 408  # the request timed out before its body was in

    run(scenario)
