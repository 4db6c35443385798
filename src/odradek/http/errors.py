"""Errors as the Confluent services write them: ``{"error_code": 40401, "message": "..."}``.

Confluent's REST services (schema registry, REST proxy) answer every failure with a JSON body holding
an integer ``error_code`` and a human ``message``; the HTTP status is the first three digits of a
five-digit code (40401 → 404) or the code itself when it has three digits. Clients key on
``error_code``, so it is part of the contract. Handlers raise `HttpError`; routing failures (no such
path: 404, wrong method: 405) and unexpected exceptions (500) get the same body shape.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger("odradek.http")

INTERNAL_SERVER_ERROR = 500


class HttpError(Exception):
    """An error answered with ``status`` and the body ``{"error_code": code, "message": message}``."""

    def __init__(
        self,
        error_code: int,
        message: str,
        status: int | None = None,
        fields: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.status = status if status is not None else status_of(error_code)
        #: extra body fields beside error_code and message (e.g. the JSON pointer of a bad field)
        self.fields = dict(fields or {})


def status_of(error_code: int) -> int:
    """The HTTP status a Confluent error code implies: its first three digits."""
    while error_code >= 1000:
        error_code //= 10
    return error_code if 100 <= error_code <= 599 else INTERNAL_SERVER_ERROR


def error_body(
    error_code: int, message: str, fields: Mapping[str, object] | None = None
) -> dict[str, object]:
    return {"error_code": error_code, "message": message, **(fields or {})}


ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


def error_response(error_code: int, message: str, media_type: str, status: int | None = None) -> Response:
    """The Confluent error body as a response (status from the code unless given)."""
    return JSONResponse(
        error_body(error_code, message),
        status if status is not None else status_of(error_code),
        media_type=media_type,
    )


def exception_handlers(media_type: str) -> Mapping[type[Exception] | int, ExceptionHandler]:
    """Handlers giving every failure the Confluent body, in the service's media type."""

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HttpError)
        body = error_body(exc.error_code, exc.message, exc.fields)
        return JSONResponse(body, exc.status, media_type=media_type)

    async def routing_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = f"HTTP {exc.status_code} {exc.detail}"
        return JSONResponse(
            error_body(exc.status_code, message), exc.status_code, dict(exc.headers or {}), media_type
        )

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return JSONResponse(
            error_body(INTERNAL_SERVER_ERROR, "Internal Server Error"),
            INTERNAL_SERVER_ERROR,
            media_type=media_type,
        )

    return {HttpError: http_error, HTTPException: routing_error, Exception: unexpected}
