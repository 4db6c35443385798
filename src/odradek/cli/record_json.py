"""`consume --output json`: one JSON object per record, one record per line (JSON Lines).

    {"topic": "orders", "partition": 0, "offset": 42,
     "timestamp": 1700000000000, "timestamp_type": "CreateTime",
     "key": "k1", "key_encoding": "utf-8",
     "value": "aGVsbG8=", "value_encoding": "base64",
     "headers": [{"key": "trace", "value": "abc", "value_encoding": "utf-8"}]}

Keys are always present and in this order. Bytes that are valid UTF-8 are written as a string with
encoding "utf-8"; any other bytes as standard base64 with encoding "base64". A null key, value or
header value is `null` with a `null` encoding. `timestamp` is ms since the epoch (null if the
record has none); `timestamp_type` is "CreateTime", "LogAppendTime" or null.
"""

from __future__ import annotations

import base64
import json

from odradek.cli.record import Record

JsonBytes = tuple[str | None, str | None]


def encode_bytes(data: bytes | None) -> JsonBytes:
    """(text, encoding) for a byte string, per the rules above."""
    if data is None:
        return None, None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def decode_bytes(text: str | None, encoding: str | None) -> bytes | None:
    """The inverse of `encode_bytes`, for readers of this format (and tests)."""
    if text is None:
        return None
    return base64.b64decode(text) if encoding == "base64" else text.encode("utf-8")


def record_doc(record: Record) -> dict[str, object]:
    key, key_encoding = encode_bytes(record.key)
    value, value_encoding = encode_bytes(record.value)
    headers = []
    for name, raw in record.headers:
        text, encoding = encode_bytes(raw)
        headers.append({"key": name, "value": text, "value_encoding": encoding})
    return {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp,
        "timestamp_type": record.timestamp_type,
        "key": key,
        "key_encoding": key_encoding,
        "value": value,
        "value_encoding": value_encoding,
        "headers": headers,
    }


def render_record_json(record: Record) -> bytes:
    return json.dumps(record_doc(record), ensure_ascii=False).encode("utf-8") + b"\n"
