"""Connect's REST errors: `{"error_code": <HTTP status>, "message": ...}`, the status mapped from
the exception the herder raised (Kafka's `ConnectExceptionMapper`)."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from odradek.connect.api.errors import (
    AlreadyExistsException,
    ConfigException,
    ConnectException,
    NotFoundException,
)
from odradek.http import HttpError

log = logging.getLogger("odradek.connect.rest")
Handler = Callable[[Request], Awaitable[Response]]


def status_for(exc: ConnectException) -> int:
    from odradek.connect.runtime.herder import RebalanceInProgress, _BadConfig
    from odradek.connect.runtime.offsets_admin import BadOffsets

    if isinstance(exc, NotFoundException):
        return 404
    if isinstance(exc, AlreadyExistsException | RebalanceInProgress):
        return 409
    if isinstance(exc, _BadConfig | ConfigException | BadOffsets):
        return 400
    return 500


def guarded(handler: Handler) -> Handler:
    """Turn the herder's exceptions into Connect's error bodies."""

    @functools.wraps(handler)
    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except ConnectException as exc:
            status = status_for(exc)
            if status == 500:
                log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
            raise HttpError(status, str(exc), status) from exc

    return wrapper


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise HttpError(400, f"Cannot deserialize request body: {exc}", 400) from exc
