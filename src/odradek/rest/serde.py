"""Embedded formats without a schema: how JSON request data becomes record bytes and back.

| format | request data | record bytes | response data |
|---|---|---|---|
| BINARY | base64 string | the decoded bytes | base64 string |
| JSON | any JSON value | its compact UTF-8 JSON text | the parsed JSON value |
| STRING (v3) | string | its UTF-8 bytes | the UTF-8 text |

Null versus empty: a key or value that is ``null`` (or absent) is a null record key or value (a
tombstone when it is the value); ``""`` in BINARY or STRING is an empty, non-null byte string. In
v3 JSON, ``{"type": "JSON", "data": null}`` is the four bytes ``null``, while ``"value": null`` is
a null value. The schema-backed formats (AVRO, JSONSCHEMA, PROTOBUF) are in `schemas`.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Protocol

from odradek.rest import errors, jsoncodec
from odradek.rest.content import Format
from odradek.rest.fields import type_name


class SerdeError(ValueError):
    """Record bytes that do not decode in the consumer's format."""


class Serde(Protocol):
    format: Format

    def serialize(self, data: Any, at: str) -> bytes | None: ...

    def deserialize(self, raw: bytes) -> Any: ...


def decode_base64(data: Any, at: str) -> bytes:
    if not isinstance(data, str):
        raise errors.invalid_payload(f"Expected base64 in a string, got {type_name(data)}.", at)
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise errors.invalid_payload("Invalid base64 data.", at) from None


def encode_base64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class BinarySerde:
    format = Format.BINARY

    def serialize(self, data: Any, at: str) -> bytes | None:
        return None if data is None else decode_base64(data, at)

    def deserialize(self, raw: bytes) -> Any:
        return encode_base64(raw)


class JsonSerde:
    format = Format.JSON

    def __init__(self, null_is_json: bool = False) -> None:
        self.null_is_json = null_is_json

    def serialize(self, data: Any, at: str) -> bytes | None:
        if data is None and not self.null_is_json:
            return None
        return jsoncodec.dumps(data)

    def deserialize(self, raw: bytes) -> Any:
        try:
            return jsoncodec.loads(raw)
        except ValueError as exc:
            raise SerdeError(f"record is not JSON: {exc}") from None


class StringSerde:
    format = Format.STRING

    def serialize(self, data: Any, at: str) -> bytes | None:
        if data is None:
            return None
        if not isinstance(data, str):
            raise errors.invalid_payload(f"Expected a string, got {type_name(data)}.", at)
        return data.encode("utf-8")

    def deserialize(self, raw: bytes) -> Any:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SerdeError(f"record is not UTF-8 text: {exc}") from None


BINARY = BinarySerde()
JSON = JsonSerde()
JSON_V3 = JsonSerde(null_is_json=True)
STRING = StringSerde()
PLAIN: dict[Format, Serde] = {Format.BINARY: BINARY, Format.JSON: JSON, Format.STRING: STRING}
