"""Content types of the REST proxy: which body formats a request may carry, and reading them.

v2 names its embedded format in the media type, ``application/vnd.kafka.<format>.v2+json`` with
format ``binary``, ``json``, ``avro``, ``jsonschema`` or ``protobuf``; requests without records
use ``application/vnd.kafka.v2+json`` (``application/vnd.kafka+json`` and ``application/json`` are
accepted too). v3 speaks ``application/json``. A body in any other type is refused with 415 before
it is read; a body that is not JSON is 422 (`errors.invalid_payload`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from starlette.requests import Request

from odradek.http import HttpError
from odradek.rest import errors, jsoncodec

V2 = "application/vnd.kafka.v2+json"
V3 = "application/json"
PLAIN_V2_TYPES = ("application/vnd.kafka.v2+json", "application/vnd.kafka+json", "application/json")


class Format(StrEnum):
    BINARY = "binary"
    JSON = "json"
    STRING = "string"  # v3 only
    AVRO = "avro"
    JSONSCHEMA = "jsonschema"
    PROTOBUF = "protobuf"

    @property
    def schema_backed(self) -> bool:
        return self in (Format.AVRO, Format.JSONSCHEMA, Format.PROTOBUF)


V2_FORMATS = (Format.BINARY, Format.JSON, Format.AVRO, Format.JSONSCHEMA, Format.PROTOBUF)


def media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def v2_format_of(media: str) -> Format | None:
    """The embedded format a v2 media type names, or None (``application/vnd.kafka.v2+json``)."""
    if not media.startswith("application/vnd.kafka.") or not media.endswith(".v2+json"):
        return None
    name = media[len("application/vnd.kafka.") : -len(".v2+json")]
    try:
        fmt = Format(name)
    except ValueError:
        return None
    return fmt if fmt in V2_FORMATS else None


def v2_media(fmt: Format) -> str:
    return f"application/vnd.kafka.{fmt.value}.v2+json"


def unsupported(media: str, expected: str) -> HttpError:
    return HttpError(
        errors.UNSUPPORTED_MEDIA_TYPE,
        f"HTTP 415 Unsupported Media Type: {media or 'no Content-Type'}; expected {expected}",
    )


def v2_produce_format(request: Request) -> Format:
    media = media_type(request.headers.get("content-type"))
    fmt = v2_format_of(media)
    if fmt is None:
        raise unsupported(media, "application/vnd.kafka.{binary,json,avro,jsonschema,protobuf}.v2+json")
    return fmt


def require_v2_plain(request: Request) -> None:
    media = media_type(request.headers.get("content-type"))
    if media not in PLAIN_V2_TYPES and v2_format_of(media) is None:
        raise unsupported(media, V2)


def require_json(request: Request) -> None:
    media = media_type(request.headers.get("content-type"))
    if media not in ("application/json", "application/vnd.kafka.v3+json") and not media.endswith("+json"):
        raise unsupported(media, V3)


async def read_json(request: Request, *, allow_empty: bool = False) -> Any:
    body = await request.body()
    if not body.strip():
        if allow_empty:
            return None
        raise errors.invalid_payload("Request body is empty; a JSON document is expected.")
    try:
        return jsoncodec.loads(body)
    except ValueError as exc:
        raise errors.invalid_payload(f"Request body is not JSON: {exc}") from None


def v2_accept_format(request: Request) -> Format | None:
    """The embedded format the Accept header asks for, or None when it names none."""
    for part in (request.headers.get("accept") or "").split(","):
        fmt = v2_format_of(media_type(part))
        if fmt is not None:
            return fmt
    return None
