"""The shared HTTP layer through ASGI (no socket): errors, limits, metrics, health."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from odradek.http import HttpError, HttpLimits, create_app

MEDIA = "application/vnd.schemaregistry.v1+json"


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"size": len(body)})


async def not_found(_request: Request) -> Response:
    raise HttpError(40401, "Subject 'x' not found.")


async def boom(_request: Request) -> Response:
    raise RuntimeError("bug")


async def slow(_request: Request) -> Response:
    await asyncio.sleep(10)
    return JSONResponse({})


async def app_timeout(_request: Request) -> Response:
    raise TimeoutError("the app's own timeout, not the limit")


ROUTES = [
    Route("/echo", echo, methods=["POST"]),
    Route("/subjects/{subject}", not_found),
    Route("/boom", boom),
    Route("/slow", slow),
    Route("/app-timeout", app_timeout),
]


def call(
    scenario: Callable[[httpx.AsyncClient], Awaitable[None]],
    health: dict[str, Callable[[], bool]] | None = None,
) -> None:
    limits = HttpLimits(
        max_body_bytes=1000, request_timeout_s=0.2, timeout_error=HttpError(50002, "timed out")
    )
    app = create_app("test", ROUTES, limits=limits, media_type=MEDIA, health_checks=health)

    async def main() -> None:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await scenario(client)

    asyncio.run(main())


def test_errors_have_confluent_bodies() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        r = await client.get("/subjects/x")
        assert r.status_code == 404
        assert r.json() == {"error_code": 40401, "message": "Subject 'x' not found."}
        assert r.headers["content-type"] == MEDIA
        r = await client.get("/nowhere")
        assert r.status_code == 404
        assert r.json() == {"error_code": 404, "message": "HTTP 404 Not Found"}
        r = await client.delete("/echo")
        assert r.status_code == 405
        assert r.json()["error_code"] == 405
        r = await client.get("/boom")
        assert r.status_code == 500
        assert r.json() == {"error_code": 500, "message": "Internal Server Error"}

    call(scenario)


def test_body_limit_by_length_and_by_stream() -> None:
    async def chunks(n: int) -> AsyncIterator[bytes]:
        for _ in range(n):
            yield b"x" * 100

    async def scenario(client: httpx.AsyncClient) -> None:
        assert (await client.post("/echo", content=b"x" * 1000)).json() == {"size": 1000}
        r = await client.post("/echo", content=b"x" * 1001)
        assert r.status_code == 413
        assert r.json()["error_code"] == 413
        assert (await client.post("/echo", content=chunks(10))).json() == {"size": 1000}
        r = await client.post("/echo", content=chunks(11))
        assert r.status_code == 413
        assert "1000 bytes" in r.json()["message"]

    call(scenario)


def test_request_time_limit_answers_the_services_error() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        r = await client.get("/slow")
        assert r.status_code == 500
        assert r.json() == {"error_code": 50002, "message": "timed out"}
        r = await client.get("/app-timeout")  # not the limit: an ordinary failure
        assert r.status_code == 500
        assert r.json()["error_code"] == 500

    call(scenario)


def test_metrics_count_by_route_template() -> None:
    async def scenario(client: httpx.AsyncClient) -> None:
        await client.get("/subjects/a")
        await client.get("/subjects/b")
        await client.get("/nowhere")
        text = (await client.get("/metrics")).text
        labels = 'method="GET",route="/subjects/{subject}",service="test",status="404"'
        assert f"odradek_http_requests_total{{{labels}}} 2.0" in text
        assert 'route="unmatched"' in text
        assert "process_resident_memory_bytes" in text
        assert "odradek_http_request_seconds_bucket" in text

    call(scenario)


def test_health_reports_each_check() -> None:
    state = {"caught_up": False}

    async def scenario(client: httpx.AsyncClient) -> None:
        r = await client.get("/health")
        assert r.status_code == 503
        assert r.json() == {"status": "DOWN", "checks": {"kafka": True, "caught_up": False}}
        state["caught_up"] = True
        r = await client.get("/health")
        assert r.status_code == 200
        assert r.json()["status"] == "UP"

    call(scenario, {"kafka": lambda: True, "caught_up": lambda: state["caught_up"]})
