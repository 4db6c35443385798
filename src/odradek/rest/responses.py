"""JSON responses of the proxy (compact, orjson) and the URLs they link to."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from odradek.rest import jsoncodec
from odradek.rest.content import V2, V3

NO_CONTENT = 204


def v2_json(data: Any, status: int = 200, media_type: str = V2) -> Response:
    return Response(jsoncodec.dumps(data), status, media_type=media_type)


def v3_json(data: Any, status: int = 200) -> Response:
    return Response(jsoncodec.dumps(data), status, media_type=V3)


def no_content() -> Response:
    return Response(status_code=NO_CONTENT)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")
