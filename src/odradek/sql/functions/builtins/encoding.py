"""JSON, URL and bytes functions."""

from __future__ import annotations

import base64
import binascii
import datetime
import decimal
import json
import struct
import urllib.parse
from typing import Any

from odradek.sql.functions.builtins import Builtins

FUNCTIONS = Builtins()
fn = FUNCTIONS.scalar


# -- JSON ---------------------------------------------------------------------------------------------


def _json_path(doc: Any, path: str) -> Any:
    """A subset of JSONPath as ksqlDB's EXTRACTJSONFIELD: $.a.b, $.a[0], $['a']."""
    if not path.startswith("$"):
        raise ValueError(f"JSON path must start with $: {path}")
    i, cur = 1, doc
    while i < len(path):
        if path[i] == ".":
            j = i + 1
            while j < len(path) and path[j] not in ".[":
                j += 1
            key = path[i + 1 : j]
            cur = cur.get(key) if isinstance(cur, dict) else None
            i = j
        elif path[i] == "[":
            j = path.index("]", i)
            token = path[i + 1 : j].strip()
            if token[:1] in "'\"":
                cur = cur.get(token[1:-1]) if isinstance(cur, dict) else None
            else:
                idx = int(token)
                cur = cur[idx] if isinstance(cur, list) and -len(cur) <= idx < len(cur) else None
            i = j + 1
        else:
            raise ValueError(f"bad JSON path {path}")
        if cur is None:
            return None
    return cur


@fn(
    "EXTRACTJSONFIELD",
    "STRING, STRING -> STRING",
    description="The value at a JSON path ($.a.b[0]) of a JSON string, as a string.",
)
def extractjsonfield(text: str, path: str) -> str | None:
    try:
        value = _json_path(json.loads(text), path)
    except (ValueError, TypeError):
        return None
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


@fn(
    "IS_JSON_STRING",
    "STRING -> BOOLEAN",
    null_propagating=False,
    description="Whether the string is valid JSON.",
)
def is_json_string(text: str | None) -> bool:
    if text is None:
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@fn(
    "JSON_ARRAY_LENGTH",
    "STRING -> INT",
    description="The length of a JSON array string (NULL if not an array).",
)
def json_array_length(text: str) -> int | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return len(value) if isinstance(value, list) else None


@fn("JSON_ARRAY_CONTAINS", "STRING, ANY -> BOOLEAN", description="Whether a JSON array string holds a value.")
def json_array_contains(text: str, value: Any) -> bool:
    try:
        arr = json.loads(text)
    except ValueError:
        return False
    return isinstance(arr, list) and value in arr


@fn("JSON_KEYS", "STRING -> ARRAY<STRING>", description="The keys of a JSON object string.")
def json_keys(text: str) -> list[str] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return list(value) if isinstance(value, dict) else None


@fn(
    "JSON_RECORDS",
    "STRING -> MAP<STRING, STRING>",
    description="The entries of a JSON object string, values as JSON strings.",
)
def json_records(text: str) -> dict[str, str] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    return {k: json.dumps(v, separators=(",", ":")) for k, v in value.items()}


@fn("JSON_CONCAT", "...STRING -> STRING", description="JSON objects merged, or JSON arrays concatenated.")
def json_concat(*texts: str) -> str | None:
    try:
        values = [json.loads(t) for t in texts]
    except ValueError:
        return None
    if all(isinstance(v, dict) for v in values):
        merged: dict[str, Any] = {}
        for v in values:
            merged.update(v)
        return json.dumps(merged, separators=(",", ":"))
    out: list[Any] = []
    for v in values:
        out.extend(v if isinstance(v, list) else [v])
    return json.dumps(out, separators=(",", ":"))


def to_json_value(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json_value(v) for v in value]
    return value


@fn("TO_JSON_STRING", "ANY -> STRING", null_propagating=False, description="Any value as a JSON string.")
def to_json_string(value: Any) -> str:
    return json.dumps(to_json_value(value), separators=(",", ":"))


# -- URLs -----------------------------------------------------------------------------------------------


@fn("URL_DECODE_PARAM", "STRING -> STRING", description="A URL-encoded parameter decoded.")
def url_decode_param(s: str) -> str:
    return urllib.parse.unquote_plus(s)


@fn("URL_ENCODE_PARAM", "STRING -> STRING", description="A string URL-encoded for a parameter.")
def url_encode_param(s: str) -> str:
    return urllib.parse.quote_plus(s)


def _url(s: str) -> urllib.parse.SplitResult:
    return urllib.parse.urlsplit(s)


@fn("URL_EXTRACT_FRAGMENT", "STRING -> STRING", description="The fragment of a URL.")
def url_extract_fragment(s: str) -> str | None:
    return _url(s).fragment or None


@fn("URL_EXTRACT_HOST", "STRING -> STRING", description="The host of a URL.")
def url_extract_host(s: str) -> str | None:
    return _url(s).hostname


@fn(
    "URL_EXTRACT_PARAMETER",
    "STRING, STRING -> STRING",
    description="The first value of a query parameter of a URL.",
)
def url_extract_parameter(s: str, name: str) -> str | None:
    values = urllib.parse.parse_qs(_url(s).query, keep_blank_values=True).get(name)
    return values[0] if values else None


@fn("URL_EXTRACT_PATH", "STRING -> STRING", description="The path of a URL.")
def url_extract_path(s: str) -> str:
    return _url(s).path


@fn("URL_EXTRACT_PORT", "STRING -> INT", description="The port of a URL.")
def url_extract_port(s: str) -> int | None:
    return _url(s).port


@fn("URL_EXTRACT_PROTOCOL", "STRING -> STRING", description="The scheme of a URL.")
def url_extract_protocol(s: str) -> str | None:
    return _url(s).scheme or None


@fn("URL_EXTRACT_QUERY", "STRING -> STRING", description="The query string of a URL.")
def url_extract_query(s: str) -> str | None:
    return _url(s).query or None


# -- bytes ----------------------------------------------------------------------------------------------

_ENCODERS = {
    "hex": lambda b: binascii.hexlify(b).decode(),
    "utf8": lambda b: b.decode("utf-8"),
    "ascii": lambda b: b.decode("ascii"),
    "base64": lambda b: base64.b64encode(b).decode(),
}
_DECODERS = {
    "hex": binascii.unhexlify,
    "utf8": lambda s: s.encode("utf-8"),
    "ascii": lambda s: s.encode("ascii"),
    "base64": base64.b64decode,
}


def _codec(name: str, table: dict[str, Any]) -> Any:
    f = table.get(name.lower().replace("-", ""))
    if f is None:
        raise ValueError(f"unknown encoding {name}: use hex, utf8, ascii or base64")
    return f


@fn(
    "TO_BYTES",
    "STRING, STRING -> BYTES",
    description="A string decoded to bytes from hex, utf8, ascii or base64.",
)
def to_bytes(s: str, encoding: str) -> bytes:
    return bytes(_codec(encoding, _DECODERS)(s))


@fn(
    "FROM_BYTES",
    "BYTES, STRING -> STRING",
    description="Bytes encoded as a hex, utf8, ascii or base64 string.",
)
def from_bytes(b: bytes, encoding: str) -> str:
    return str(_codec(encoding, _ENCODERS)(b))


@fn(
    "ENCODE",
    "STRING, STRING, STRING -> STRING",
    description="ENCODE(s, from, to): a string re-encoded between hex, utf8, ascii and base64.",
)
def encode(s: str, from_encoding: str, to_encoding: str) -> str:
    return from_bytes(to_bytes(s, from_encoding), to_encoding)


def _endian(order: str) -> str:
    upper = order.upper().replace("-", "_")
    if upper not in ("BIG_ENDIAN", "LITTLE_ENDIAN"):
        raise ValueError("byte order must be BIG_ENDIAN or LITTLE_ENDIAN")
    return ">" if upper == "BIG_ENDIAN" else "<"


def _unpack(fmt: str, size: int, b: bytes, order: str) -> Any:
    if len(b) != size:
        raise ValueError(f"need exactly {size} bytes, got {len(b)}")
    return struct.unpack(_endian(order) + fmt, b)[0]


@fn(
    "INT_FROM_BYTES",
    "BYTES -> INT",
    "BYTES, STRING -> INT",
    description="A 4-byte integer (big-endian by default).",
)
def int_from_bytes(b: bytes, order: str = "BIG_ENDIAN") -> int:
    return int(_unpack("i", 4, b, order))


@fn(
    "BIGINT_FROM_BYTES",
    "BYTES -> BIGINT",
    "BYTES, STRING -> BIGINT",
    description="An 8-byte integer (big-endian by default).",
)
def bigint_from_bytes(b: bytes, order: str = "BIG_ENDIAN") -> int:
    return int(_unpack("q", 8, b, order))


@fn(
    "DOUBLE_FROM_BYTES",
    "BYTES -> DOUBLE",
    "BYTES, STRING -> DOUBLE",
    description="An 8-byte IEEE double (big-endian by default).",
)
def double_from_bytes(b: bytes, order: str = "BIG_ENDIAN") -> float:
    return float(_unpack("d", 8, b, order))
