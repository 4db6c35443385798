"""Pure parts of the REST proxy: the concatenated-JSON splitter, the cursor, checked fields,
timestamps, configs (no sockets, no Kafka)."""

from __future__ import annotations

import pytest

from odradek.http import HttpError
from odradek.rest import jsoncodec
from odradek.rest.concat_json import BadDocument, JsonStream
from odradek.rest.config import ConfigError, RestConfig
from odradek.rest.consumers.cursor import ConsumerSpec, Cursor, decode
from odradek.rest.fields import integer, pointer
from odradek.rest.records import iso, parse_headers, parse_timestamp
from odradek.rest.serde import BINARY, JSON, JSON_V3, STRING, SerdeError


def test_json_stream_splits_at_any_chunk_boundary() -> None:
    body = b'{"a":1}\n{"b":\n2}{"c":"\xc3\xa9"} {"d":[1,2]}\n\n{"e":null}\n'
    expected = [{"a": 1}, {"b": 2}, {"c": "é"}, {"d": [1, 2]}, {"e": None}]
    for size in (1, 2, 3, 5, 7, len(body)):
        stream = JsonStream(1000)
        out = []
        for i in range(0, len(body), size):
            out += stream.feed(body[i : i + size])
        out += stream.finish()
        assert out == expected, size


def test_json_stream_bad_and_oversized_documents_resynchronize() -> None:
    stream = JsonStream(30)
    out = stream.feed(b'{"ok":1}\n{bad}\n{"x":"' + b"y" * 40 + b'"}\n{"ok":2}\n') + stream.finish()
    assert out[0] == {"ok": 1} and isinstance(out[1], BadDocument)
    assert isinstance(out[2], BadDocument) and "larger than 30" in out[2].reason
    assert out[3] == {"ok": 2} and len(out) == 4
    stream = JsonStream(100)
    assert stream.feed(b'{"a":') == []
    (bad,) = stream.finish()
    assert isinstance(bad, BadDocument)


def test_big_integers_stay_exact() -> None:
    assert jsoncodec.loads(b'{"n": 123456789012345678901234567890}') == {"n": 123456789012345678901234567890}
    assert jsoncodec.dumps({"n": 2**70}) == b'{"n":1180591620717411303424}'
    assert JsonStream(100).feed(b'{"n":99999999999999999999}\n') == [{"n": 99999999999999999999}]


def test_cursor_round_trip_and_corruption() -> None:
    spec = ConsumerSpec("g", "n", ("a", "b"), None, "BINARY", "JSON", "earliest", "read_committed", 45000)
    cursor = Cursor(spec).advanced({("a", 0): 5, ("b", 3): 7})
    text = cursor.encode()
    assert text.startswith("c1.") and decode(text) == cursor
    assert decode(cursor.advanced({("a", 0): 9}).encode()).positions == {("a", 0): 9, ("b", 3): 7}
    for bad in ("x", "c1.", "c1.!!!", "c1.e30"):
        with pytest.raises(HttpError) as exc:
            decode(bad)
        assert exc.value.error_code == 40403


def test_fields_name_the_json_pointer() -> None:
    assert pointer("records", 3, "a/b~c") == "/records/3/a~1b~0c"
    with pytest.raises(HttpError) as exc:
        integer("x", "/records/0/partition")
    assert exc.value.status == 422 and exc.value.fields == {"pointer": "/records/0/partition"}
    assert integer("12", "/p") == 12
    with pytest.raises(HttpError):
        integer(True, "/p")


def test_timestamps_and_headers() -> None:
    assert parse_timestamp("2024-01-02T03:04:05.678Z", "/t") == 1_704_164_645_678
    assert parse_timestamp("2024-01-02T04:04:05.678+01:00", "/t") == 1_704_164_645_678
    assert parse_timestamp(12, "/t") == 12 and parse_timestamp(None, "/t") == 0
    assert iso(1_704_164_645_678) == "2024-01-02T03:04:05.678Z"
    for bad in ("soon", -1, 1.5, [1]):
        with pytest.raises(HttpError):
            parse_timestamp(bad, "/t")
    assert parse_headers([{"name": "a", "value": "AP8="}, {"key": "b", "value": None}], "/h") == [
        ("a", b"\x00\xff"),
        ("b", None),
    ]


def test_serdes_null_versus_empty() -> None:
    assert BINARY.serialize(None, "/v") is None and BINARY.serialize("", "/v") == b""
    assert STRING.serialize("é", "/v") == "é".encode()
    assert JSON.serialize(None, "/v") is None and JSON_V3.serialize(None, "/v") == b"null"
    with pytest.raises(SerdeError):
        JSON.deserialize(b"{")
    with pytest.raises(SerdeError):
        STRING.deserialize(b"\xff")


def test_config_table() -> None:
    config = RestConfig.from_properties({"consumer.max.instances": "5", "schema.registry.url": "http://x"})
    assert config.integer("consumer.max.instances") == 5 and config.text("schema.registry.url") == "http://x"
    assert config.integer("max.request.bytes") == 16 * 1024 * 1024
    for bad in ({"no.such": "1"}, {"consumer.threads": "many"}, {"consumer.threads": "0"}):
        with pytest.raises(ConfigError):
            RestConfig.from_properties(bad)
