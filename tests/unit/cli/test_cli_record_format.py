from __future__ import annotations

import pytest

from odradek.cli.record import Record
from odradek.cli.record_format import (
    Field,
    FormatError,
    Literal,
    RecordRenderer,
    key_value_format,
    parse_format,
    render_headers,
    unescape,
)

RECORD = Record(
    key=b"k1",
    value=b"hello",
    headers=(("a", b"1"), ("b", None)),
    topic="orders",
    partition=2,
    offset=41,
    timestamp=1_700_000_000_123,
    timestamp_type="CreateTime",
)


def render(fmt: str, record: Record = RECORD) -> bytes:
    return RecordRenderer(parse_format(fmt)).render(record)


def test_parse_splits_fields_and_merges_literals() -> None:
    assert parse_format("%k:%s\\n") == (Field("k"), Literal(b":"), Field("s"), Literal(b"\n"))
    assert parse_format("a%%b\\t\\\\") == (Literal(b"a%b\t\\"),)
    assert parse_format("é%s") == (Literal("é".encode()), Field("s"))


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("%t", b"orders"),
        ("%p", b"2"),
        ("%o", b"41"),
        ("%k", b"k1"),
        ("%s", b"hello"),
        ("%h", b"a=1,b"),
        ("%T", b"1700000000123"),
        ("%K", b"2"),
        ("%S", b"5"),
        ("%t/%p@%o %k=%s\\n", b"orders/2@41 k1=hello\n"),
        ("\\r\\0", b"\r\0"),
    ],
)
def test_every_token_renders(fmt: str, expected: bytes) -> None:
    assert render(fmt) == expected


def test_nulls_render_empty_and_lengths_minus_one() -> None:
    tombstone = Record(topic="t", partition=0, offset=7)
    assert render("[%k][%s][%h] %K %S %T\\n", tombstone) == b"[][][] -1 -1 -1\n"


@pytest.mark.parametrize(
    ("fmt", "message"),
    [("%x", "unknown field %x"), ("abc%", "lone '%'"), ("\\q", "unknown escape \\q"), ("x\\", "lone '\\\\'")],
)
def test_bad_formats_are_rejected(fmt: str, message: str) -> None:
    with pytest.raises(FormatError, match=message.replace("\\", "\\\\").replace("'", "'")):
        parse_format(fmt)


def test_key_value_format() -> None:
    assert key_value_format(None) == (Field("s"), Literal(b"\n"))
    assert key_value_format("\\t") == (Field("k"), Literal(b"\t"), Field("s"), Literal(b"\n"))
    assert key_value_format("%") == (Field("k"), Literal(b"%"), Field("s"), Literal(b"\n"))
    with pytest.raises(FormatError, match="must not be empty"):
        key_value_format("")


def test_unescape_leaves_percent_alone() -> None:
    assert unescape("%s\\n") == b"%s\n"


def test_render_headers_keeps_order_and_duplicates() -> None:
    assert render_headers([("x", b"1"), ("x", b"2"), ("y", b"")]) == b"x=1,x=2,y="
    assert render_headers([]) == b""
