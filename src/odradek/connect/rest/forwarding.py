"""Forwarding REST requests to the worker that must serve them (distributed mode).

Config writes go to the leader (the owner of slot 0, `runtime/slots.py`), task restarts to the
worker that runs the task, as in Kafka Connect. A forwarded request carries
`X-Odradek-Forwarded: 1`; a worker that receives one but is not (or no longer) the right worker
answers 409, never forwards again (no loops). No known leader (a rebalance in progress): 409.
"""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import Response

from odradek.http import HttpError

FORWARDED = "x-odradek-forwarded"
REBALANCE = "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"


def was_forwarded(request: Request) -> bool:
    return request.headers.get(FORWARDED) == "1"


async def forward(request: Request, target: str | None) -> Response:
    if target is None or was_forwarded(request):
        raise HttpError(409, REBALANCE, 409)
    url = target.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    body = await request.body()
    headers = {"content-type": request.headers.get("content-type", "application/json"), FORWARDED: "1"}
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            answer = await client.request(request.method, url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        raise HttpError(409, f"{REBALANCE}: forwarding to {target} failed ({exc})", 409) from exc
    return Response(
        answer.content, answer.status_code, media_type=answer.headers.get("content-type", "application/json")
    )
