from __future__ import annotations

import pytest

from odradek.coordinator.partitioning import coordinator_partition, java_string_hash


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("a", 97),
        ("Aa", 2112),  # 65 * 31 + 97
        ("BB", 2112),  # 66 * 31 + 66: Java's famous collision
        ("hello", 99162322),
        ("hello world", 1794106052),
        ("polygenelubricants", -(2**31)),  # hashes to Integer.MIN_VALUE
        ("\U0001f600", 31 * 0xD83D + 0xDE00),  # a surrogate pair: two UTF-16 code units
    ],
)
def test_java_string_hash(text: str, expected: int) -> None:
    assert java_string_hash(text) == expected


def test_partition_is_abs_hash_modulo_with_min_value_mapped_to_zero() -> None:
    assert coordinator_partition("a", 50) == 47
    assert coordinator_partition("hello", 50) == 22
    assert coordinator_partition("polygenelubricants", 50) == 0
    assert coordinator_partition("polygenelubricants", 7) == 0  # abs(MIN_VALUE) would be 2 here


def test_negative_hash_uses_its_absolute_value() -> None:
    # sum(c * 31**(n-1-i)) wrapped to a signed 32-bit int, written out independently of the loop.
    text = "kafka-consumer-group"
    wrapped = sum(ord(c) * 31 ** (len(text) - 1 - i) for i, c in enumerate(text)) % 2**32
    expected = wrapped - 2**32 if wrapped >= 2**31 else wrapped
    assert expected < 0
    assert java_string_hash(text) == expected
    assert coordinator_partition(text, 50) == (-expected) % 50
