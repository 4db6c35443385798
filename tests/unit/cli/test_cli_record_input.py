from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odradek.cli.record import Record
from odradek.cli.record_format import RecordRenderer, key_value_format, parse_format
from odradek.cli.record_input import InputFormatError, RecordReader, parse_headers


def read_all(reader: RecordReader, data: bytes, chunk: int | None = None) -> list[Record]:
    step = chunk or max(1, len(data))
    out: list[Record] = []
    for i in range(0, len(data), step):
        out.extend(reader.feed(data[i : i + step]))
    return out + reader.finish()


def test_one_record_per_line_by_default() -> None:
    reader = RecordReader(key_value_format(None))
    assert read_all(reader, b"a\n\nb c\n") == [Record(value=b"a"), Record(value=b""), Record(value=b"b c")]


def test_last_line_without_newline_is_a_record_and_empty_input_none() -> None:
    assert read_all(RecordReader(key_value_format(None)), b"a\nb") == [Record(value=b"a"), Record(value=b"b")]
    assert read_all(RecordReader(key_value_format(None)), b"") == []


def test_key_delimiter_splits_at_first_occurrence() -> None:
    reader = RecordReader(key_value_format(":"))
    assert read_all(reader, b"k1:v:1\n:empty-key\nk3:\n") == [
        Record(key=b"k1", value=b"v:1"),
        Record(key=b"", value=b"empty-key"),
        Record(key=b"k3", value=b""),
    ]


def test_missing_delimiter_fails_after_yielding_the_records_before_it() -> None:
    reader = RecordReader(key_value_format(":"))
    got: list[Record] = []
    with pytest.raises(InputFormatError, match=r"record 2: no delimiter b':' after the key"):
        got.extend(reader.feed(b"a:1\nnokey\nc:3\n"))
    assert got == [Record(key=b"a", value=b"1")]


def test_delimiter_is_not_searched_beyond_the_record() -> None:
    reader = RecordReader(key_value_format(":"))
    with pytest.raises(InputFormatError, match="record 1"):
        list(reader.feed(b"nokey\nb:2\n"))


def test_full_format_with_headers_partition_and_timestamp() -> None:
    reader = RecordReader(parse_format("%p|%T|%k|%h|%s\\n"))
    assert read_all(reader, b"1|1700000000000|k|a=1,b,c=x=y|v\n") == [
        Record(
            key=b"k",
            value=b"v",
            headers=(("a", b"1"), ("b", None), ("c", b"x=y")),
            partition=1,
            timestamp=1_700_000_000_000,
        )
    ]


def test_literal_prefix_must_match() -> None:
    reader = RecordReader(parse_format("key=%k value=%s\\n"))
    assert read_all(reader, b"key=a value=b\n") == [Record(key=b"a", value=b"b")]
    with pytest.raises(InputFormatError, match=r"record 2: expected b'key=' at byte 0"):
        list(reader.feed(b"kei=a value=b\n"))


def test_non_integer_partition_is_reported() -> None:
    reader = RecordReader(parse_format("%p %s\\n"))
    with pytest.raises(InputFormatError, match=r"record 1: the partition must be an integer, not b'x'"):
        list(reader.feed(b"x v\n"))


def test_null_value_marker_makes_tombstones() -> None:
    reader = RecordReader(key_value_format("\\t"), null_value_marker=b"NULL")
    assert read_all(reader, b"k\tNULL\nk\tNULLX\n") == [Record(key=b"k"), Record(key=b"k", value=b"NULLX")]


def test_format_without_value_sends_null_values() -> None:
    assert read_all(RecordReader(parse_format("%k\\n")), b"a\n") == [Record(key=b"a", value=None)]


def test_multi_byte_terminator() -> None:
    reader = RecordReader(parse_format("%s\\r\\n"))
    assert read_all(reader, b"a\r\nb\nc\r\n", chunk=1) == [Record(value=b"a"), Record(value=b"b\nc")]


@pytest.mark.parametrize(
    ("fmt", "message"),
    [
        ("%k:%s", "must end with a record terminator"),
        ("%k%s\\n", "%k and %s need a delimiter"),
        ("%o %s\\n", "%o \\(offset\\) cannot be parsed"),
        ("%s %s\\n", "%s appears twice"),
    ],
)
def test_unusable_input_formats(fmt: str, message: str) -> None:
    with pytest.raises(InputFormatError, match=message):
        RecordReader(parse_format(fmt))


def test_parse_headers() -> None:
    assert parse_headers(b"") == ()
    assert parse_headers(b"a=,b") == (("a", b""), ("b", None))
    with pytest.raises(InputFormatError, match="not UTF-8"):
        parse_headers(b"\xff=1")


text = st.binary(max_size=20).filter(lambda b: b"\t" not in b and b"\n" not in b)
header_key = st.text(st.characters(codec="utf-8", exclude_characters=",=\t\n"), min_size=1, max_size=5)
header_value = st.none() | st.binary(max_size=5).filter(lambda b: not set(b) & set(b",\t\n"))


@settings(max_examples=200, deadline=None)
@given(
    records=st.lists(
        st.builds(
            Record,
            key=text,
            value=text,
            headers=st.lists(st.tuples(header_key, header_value), max_size=3).map(tuple),
        ),
        max_size=10,
    ),
    chunk=st.integers(1, 50),
)
def test_what_consume_renders_produce_parses_back(records: list[Record], chunk: int) -> None:
    fmt = parse_format("%k\\t%h\\t%s\\n")
    rendered = b"".join(RecordRenderer(fmt).render(r) for r in records)
    assert read_all(RecordReader(fmt), rendered, chunk) == records
