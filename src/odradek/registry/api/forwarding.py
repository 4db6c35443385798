"""Writes that reach a secondary go to the primary over HTTP (Confluent's design).

The request is replayed to the primary's URL (found through the election group) with its method,
path, query, body and content headers; the primary's answer is passed back unchanged. A forwarded
request carries ``X-Odradek-Forwarded``; an instance that receives one but is not the primary
answers 50004 instead of forwarding again, so a split view can never loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from starlette.requests import Request
from starlette.responses import Response

from odradek.registry import errors
from odradek.registry.api.io import service_of
from odradek.registry.service import RegistryService

FORWARDED = "x-odradek-forwarded"
PASSED_HEADERS = ("content-type", "accept", "authorization")
WRITABLE_WAIT_S = 10.0
ELECTION_WAIT_S = 10.0
RETRY_S = 0.2

Handler = Callable[[Request, RegistryService], Awaitable[Response]]


class Forwarder:
    def __init__(self, timeout_s: float) -> None:
        self.client = httpx.AsyncClient(timeout=timeout_s)

    async def close(self) -> None:
        await self.client.aclose()

    async def forward(self, request: Request, service: RegistryService) -> Response:
        if request.headers.get(FORWARDED):
            raise errors.unknown_leader()
        headers = {name: request.headers[name] for name in PASSED_HEADERS if name in request.headers}
        headers[FORWARDED] = service.url
        body = await request.body()
        suffix = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ELECTION_WAIT_S
        refresh = False
        while True:
            # during an election nobody owns the partition for a moment: wait for the new primary
            url = await service.election.primary_url(refresh=refresh)
            refresh = True
            if url is None or url == service.url:
                if loop.time() >= deadline:
                    raise errors.unknown_leader()
                await asyncio.sleep(RETRY_S)
                continue
            try:
                answer = await self.client.request(
                    request.method, url.rstrip("/") + suffix, content=body, headers=headers
                )
            except httpx.ConnectError as exc:  # the primary we knew is gone: look again
                if loop.time() >= deadline:
                    raise errors.forwarding_failed(f"{url}: {exc}") from exc
                await asyncio.sleep(RETRY_S)
                continue
            except httpx.HTTPError as exc:
                raise errors.forwarding_failed(f"{url}: {exc}") from exc
            return Response(answer.content, answer.status_code, media_type=answer.headers.get("content-type"))


def writes(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Run ``handler`` on the primary (forwarding otherwise), one write at a time, caught up first."""

    async def endpoint(request: Request) -> Response:
        service = service_of(request)
        if not service.election.is_primary:
            forwarder: Forwarder = request.app.state.forwarder
            return await forwarder.forward(request, service)
        try:
            await asyncio.wait_for(service.writable.wait(), WRITABLE_WAIT_S)
        except TimeoutError as exc:
            raise errors.unknown_leader() from exc
        async with service.write_lock:
            await service.sync()
            return await handler(request, service)

    return endpoint


def reads(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Run ``handler`` once the instance has read `_schemas` to its end as of this request."""

    async def endpoint(request: Request) -> Response:
        service = service_of(request)
        await service.sync()
        return await handler(request, service)

    return endpoint
