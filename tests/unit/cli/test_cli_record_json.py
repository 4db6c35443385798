from __future__ import annotations

import json

from odradek.cli.record import Record
from odradek.cli.record_json import decode_bytes, encode_bytes, render_record_json


def test_record_json_keys_order_and_encodings() -> None:
    record = Record(
        key=None,
        value=b"\xff\x00",
        headers=(("h", "é".encode()), ("n", None)),
        topic="t",
        partition=1,
        offset=9,
        timestamp=5,
        timestamp_type="LogAppendTime",
    )
    line = render_record_json(record)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == {
        "topic": "t",
        "partition": 1,
        "offset": 9,
        "timestamp": 5,
        "timestamp_type": "LogAppendTime",
        "key": None,
        "key_encoding": None,
        "value": "/wA=",
        "value_encoding": "base64",
        "headers": [
            {"key": "h", "value": "é", "value_encoding": "utf-8"},
            {"key": "n", "value": None, "value_encoding": None},
        ],
    }
    assert list(json.loads(line)) == [
        "topic", "partition", "offset", "timestamp", "timestamp_type",
        "key", "key_encoding", "value", "value_encoding", "headers",
    ]  # fmt: skip


def test_encode_decode_round_trip() -> None:
    for raw in (None, b"", b"plain", "ünï".encode(), b"\x80\x81", bytes(range(256))):
        assert decode_bytes(*encode_bytes(raw)) == raw
    assert encode_bytes(b"ok") == ("ok", "utf-8")
