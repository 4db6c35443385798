from __future__ import annotations

import pytest

from odradek.cli.offset_spec import OffsetKind, StartOffset, parse_start_offset


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("beginning", StartOffset(OffsetKind.BEGINNING)),
        ("earliest", StartOffset(OffsetKind.BEGINNING)),
        ("END", StartOffset(OffsetKind.END)),
        ("0", StartOffset(OffsetKind.ABSOLUTE, 0)),
        ("17", StartOffset(OffsetKind.ABSOLUTE, 17)),
        ("-5", StartOffset(OffsetKind.FROM_END, 5)),
    ],
)
def test_parse(text: str, spec: StartOffset) -> None:
    assert parse_start_offset(text) == spec


def test_parse_rejects_words() -> None:
    with pytest.raises(ValueError, match="invalid offset 'soon'"):
        parse_start_offset("soon")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("beginning", 10),
        ("end", 50),
        ("20", 20),
        ("5", 10),
        ("99", 50),
        ("-3", 47),
        ("-1000", 10),
        ("-0", 50),
    ],
)
def test_resolve_clamps_to_the_log(text: str, expected: int) -> None:
    assert parse_start_offset(text).resolve(log_start_offset=10, log_end_offset=50) == expected


@pytest.mark.parametrize("text", ["", "-", "1.5", "--2", "+3", "٣"])
def test_parse_rejects_non_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="invalid offset"):
        parse_start_offset(text)
