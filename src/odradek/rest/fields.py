"""Checked reads of JSON request bodies: each failure is a 422 naming the field's JSON pointer.

Handlers never index a parsed body directly: `field`, `opt_int` etc. check the type and raise
`errors.invalid_payload` with the pointer (RFC 6901) of the bad field, so a client learns exactly
what to fix: ``{"error_code": 42206, "message": "...", "pointer": "/records/3/partition"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from odradek.rest import errors

INT32_MAX = 2**31 - 1


def pointer(*parts: str | int) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def obj(value: Any, at: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise errors.invalid_payload(f"Expected a JSON object, got {type_name(value)}.", at)
    return value


def array(value: Any, at: str) -> list[Any]:
    if not isinstance(value, list):
        raise errors.invalid_payload(f"Expected a JSON array, got {type_name(value)}.", at)
    return value


def string(value: Any, at: str) -> str:
    if not isinstance(value, str):
        raise errors.invalid_payload(f"Expected a string, got {type_name(value)}.", at)
    return value


def integer(value: Any, at: str, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        else:
            raise errors.invalid_payload(f"Expected an integer, got {type_name(value)}.", at)
    assert isinstance(value, int)
    if minimum is not None and value < minimum:
        raise errors.invalid_payload(f"Expected an integer >= {minimum}, got {value}.", at)
    if maximum is not None and value > maximum:
        raise errors.invalid_payload(f"Expected an integer <= {maximum}, got {value}.", at)
    return value


def boolean(value: Any, at: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise errors.invalid_payload(f"Expected a boolean, got {type_name(value)}.", at)


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)
