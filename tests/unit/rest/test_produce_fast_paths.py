"""The produce fast paths give exactly what the general, checked paths give (no sockets, no Kafka).

v3 streaming produce takes records of the common shape through `plain_record` and writes their
reports as bytes; v2 produce takes them through `record_of`. For every record either the fast path
declines (and the general path, with its errors and JSON pointers, decides) or its bytes and its
report are the general path's, byte for byte.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from odradek.http import HttpError
from odradek.rest import jsoncodec
from odradek.rest.concat_json import BadDocument, JsonStream
from odradek.rest.kafka.producer import Delivery
from odradek.rest.produce import Refused
from odradek.rest.records import iso
from odradek.rest.serde import BINARY, JSON
from odradek.rest.v2.produce import checked_record, offset_entry, offsets_body, record_of
from odradek.rest.v3.common import Ctx
from odradek.rest.v3.produce_stream import iso_json, ok_head, ok_line, plain_record, report_tail
from odradek.rest.v3.records_in import parse_record, report

CTX = Ctx(None, 'cluster-é"1', "http://x/v3/clusters/c")  # type: ignore[arg-type]  # no proxy needed
TOPIC = 'to"pic'

PLAIN = [
    {"value": {"type": "JSON", "data": {"id": 1, "payload": "x" * 990, "f": 1.5, "u": "é\u2028"}}},
    {"key": {"type": "STRING", "data": "k"}, "value": {"type": "BINARY", "data": "aGk="}, "partition_id": 0},
    {"key": {"type": "binary", "data": None}, "value": None},
    {"key": {"type": "json", "data": None}},
    {"value": {"type": "JSON"}},
    {"value": {"type": "string", "data": ""}, "partition_id": 7},
    {"value": {"type": "BINARY", "data": ""}, "key": {"type": "JSON", "data": [1, None, "a"]}},
    {},
    {"partition_id": None, "key": None, "value": {"type": "STRING", "data": "é"}},
]

NOT_PLAIN = [
    {"value": {"type": "JSON", "data": 1}, "headers": [{"name": "h", "value": "aGk="}]},
    {"value": {"type": "JSON", "data": 1}, "timestamp": 5},
    {"value": {"type": "JSON", "data": 1}, "idempotency_key": "k"},
    {"value": {"type": "JSON", "data": 1}, "partition_id": "1"},
    {"value": {"type": "JSON", "data": 1}, "partition_id": True},
    {"value": {"type": "JSON", "data": 1}, "partition_id": -1},
    {"value": {"type": "JSON", "data": 1}, "partition_id": 2**31},
    {"value": {"type": "AVRO", "data": 1, "schema_id": 3}},
    {"value": {"type": "JSON", "data": 1, "schema_id": None}},
    {"value": {"type": "BINARY", "data": 1}},
    {"value": {"type": "BINARY", "data": "not base64!"}},
    {"value": {"type": "STRING", "data": 5}},
    {"value": {"type": ["JSON"], "data": 1}},
    {"value": {"data": 1}},
    {"value": ["JSON"]},
    {"key": "k"},
]


def general_line(doc: dict[str, Any], partition: int, offset: int, timestamp_ms: int) -> tuple[Any, bytes]:
    record, key_type, value_type = parse_record(None, TOPIC, doc)  # type: ignore[arg-type]
    delivery = Delivery(None, TOPIC, partition, offset, timestamp_ms, 0)
    return record, jsoncodec.dumps(report(CTX, delivery, record, key_type, value_type)) + b"\n"


@pytest.mark.parametrize("doc", PLAIN)
def test_plain_records_are_the_general_paths_records_and_reports(doc: dict[str, Any]) -> None:
    found = plain_record(doc)
    assert found is not None
    partition, key, value, tail = found
    record, line = general_line(doc, 3, 12345, 1765000000042)
    assert (partition, key, value) == (record.partition, record.key, record.value)
    assert ok_line(ok_head(CTX.cluster_id, TOPIC), 3, 12345, 1765000000042, tail) == line
    json.loads(line)  # and it is JSON


@pytest.mark.parametrize("doc", NOT_PLAIN)
def test_other_records_take_the_general_path(doc: dict[str, Any]) -> None:
    assert plain_record(doc) is None


def test_report_tail_of_schema_backed_records() -> None:
    doc = {"key": {"type": "STRING", "data": "k"}, "value": {"type": "JSON", "data": 1}}
    record, _, _ = parse_record(None, TOPIC, doc)  # type: ignore[arg-type]
    key_type, value_type = ("STRING", None), ("AVRO", 7)
    expected = jsoncodec.dumps(report(CTX, Delivery(None, TOPIC, 0, 1, -1, 0), record, key_type, value_type))
    tail = report_tail(key_type, record.key, value_type, record.value)
    line = ok_line(ok_head(CTX.cluster_id, TOPIC), 0, 1, -1, tail)
    assert line == expected + b"\n"
    assert b'"timestamp":null' in line and b'"schema_id":7' in line
    assert (
        report_tail(None, None, ("AVRO", 7), None)
        == b'"key":null,"value":{"type":"AVRO","size":0,"schema_id":7}}\n'
    )


def test_iso_json_is_the_quoted_iso_text() -> None:
    for ms in (0, 1, 999, 1000, 1765000000042, 1765000000999, 1765000001000, 253402300799999):
        assert iso_json(ms) == jsoncodec.dumps(iso(ms))
    assert iso_json(-1) == b"null"


V2_PLAIN = [
    {"value": {"a": 1}},
    {"key": "k", "value": None, "partition": 2},
    {"key": None},
    {},
]
V2_OTHER = [
    {"value": 1, "partition": "2"},
    {"value": 1, "partition": -1},
    {"value": 1, "headers": [{"key": "h", "value": "aGk="}], "timestamp": 7},
    {"value": 1, "partition": 2**31},
    "not an object",
]


@pytest.mark.parametrize("doc", V2_PLAIN + V2_OTHER)
@pytest.mark.parametrize("partition", [None, 1])
def test_v2_records_match_the_checked_path(doc: Any, partition: int | None) -> None:
    try:
        expected = checked_record(TOPIC, partition, JSON, JSON, doc, 4)
    except HttpError as exc:
        with pytest.raises(HttpError) as got:
            record_of(TOPIC, partition, JSON, JSON, doc, 4)
        assert (got.value.error_code, got.value.fields) == (exc.error_code, exc.fields)
        assert str(exc.fields["pointer"]).startswith("/records/4")
        return
    assert record_of(TOPIC, partition, JSON, JSON, doc, 4) == expected


def test_v2_bad_base64_names_its_pointer() -> None:
    with pytest.raises(HttpError) as exc:
        record_of(TOPIC, None, BINARY, BINARY, {"value": "not base64!"}, 2)
    assert exc.value.fields["pointer"] == "/records/2/value"


def test_v2_offsets_body_is_the_dumped_entries() -> None:
    reports: list[Delivery | Refused] = [
        Delivery(None, TOPIC, 0, 5, 1, 0),
        Refused(40402, "Partition 9 of topic t not found."),
        Delivery(None, TOPIC, 3, 2**40, 1, 0),
    ]
    expected = {"offsets": [offset_entry(r) for r in reports], "key_schema_id": None, "value_schema_id": 12}
    assert offsets_body(reports, None, 12) == jsoncodec.dumps(expected)


def test_json_stream_lines_in_bulk_or_one_by_one_give_the_same_documents() -> None:
    lines = [b'{"a":1}', b'{"b":"\xc3\xa9"}\r', b"[1,2]", b'"s"', b"  7  ", b"null"]
    mixed = [b"", b'{"c":', b"2}", b'{"d":1}{"e":2}', b'{"n":99999999999999999999}', b"{bad"]
    for body_lines in (lines, lines + mixed + lines):
        body = b"\n".join(body_lines) + b"\n"
        for size in (1, 7, 64, len(body)):
            stream = JsonStream(1000)
            out: list[Any] = []
            for i in range(0, len(body), size):
                out += stream.feed(body[i : i + size])
            out += stream.finish()
            shown = [("bad" if isinstance(d, BadDocument) else d) for d in out]
            expected = [{"a": 1}, {"b": "é"}, [1, 2], "s", 7, None]
            if len(body_lines) > len(lines):
                expected = [*expected, {"c": 2}, {"d": 1}, {"e": 2}, {"n": 99999999999999999999}, "bad"]
                expected += expected[:6]
            assert shown == expected, size
