"""Hostile inputs for decoders, and checks of what a decoder may return from them."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from codec_strategies import INT_RANGES
from hypothesis import strategies as st

from odradek.protocol.primitives import ProtocolError
from odradek.protocol.schema import StructSchema, in_range

LENGTH_PATTERNS = (
    b"\x7f\xff\xff\xff",  # int32 max
    b"\x80\x00\x00\x00",  # int32 min
    b"\xff\xff\xff\xfe",  # int32 -2
    b"\x7f\xff",  # int16 max
    b"\x80\x00",  # int16 min
    b"\xff\xfe",  # int16 -2
    b"\xff\xff\xff\xff\x0f",  # uvarint 2**32 - 1 (compact length 2**32 - 2)
)
NULL_PATTERNS = (
    b"\xff\xff\xff\xff",  # int32 -1: null bytes or array
    b"\xff\xff",  # int16 -1: null string
    b"\x00",  # compact null
)


def elements(obj: Any) -> int:
    """How many list elements the decoded tree holds, all levels together."""
    if isinstance(obj, list):
        return len(obj) + sum(elements(v) for v in obj)
    if dataclasses.is_dataclass(obj):
        return sum(elements(getattr(obj, f.name)) for f in dataclasses.fields(obj))
    return 0


_PY_TYPES: dict[str, type | tuple[type, ...]] = {
    "bool": bool,
    "float64": float,
    "string": str,
    "bytes": bytes,
    "records": memoryview,
    "uuid": uuid.UUID,
}


def conforms(struct: StructSchema, version: int, obj: Any) -> None:
    """What decoding produced has the shape the schema promises: null only where nullable, no null
    array elements, ints within their type's range, the right Python types."""
    assert isinstance(obj, struct.cls)
    for f in struct.fields:
        if not in_range(f.versions, version):
            continue
        value = getattr(obj, f.attr)
        if value is None:
            assert in_range(f.nullable, version), f"{struct.name}.{f.attr} is null"
            continue
        if f.array:
            assert isinstance(value, list)
        for item in value if f.array else [value]:
            if f.struct is not None:
                conforms(f.struct, version, item)
            elif f.type in INT_RANGES:
                lo, hi = INT_RANGES[f.type]
                assert isinstance(item, int) and lo <= item <= hi, f"{struct.name}.{f.attr} = {item!r}"
            else:
                assert isinstance(item, _PY_TYPES[f.type]), f"{struct.name}.{f.attr} = {item!r}"


def overwrites(raw: bytes) -> list[bytes]:
    """`raw` with each length pattern written over every position (the tail is clipped)."""
    out = []
    for pos in range(len(raw)):
        for pattern in LENGTH_PATTERNS + NULL_PATTERNS:
            out.append(raw[:pos] + pattern + raw[pos + len(pattern) :])
    return out


def mutate(raw: bytes, data: Any, parse: Callable[[bytes], object], hostile: Callable[[bytes], None]) -> None:
    """Every truncation of `raw` makes `parse` raise ProtocolError; every `overwrites` variant and up
    to 8 cumulative bit flips (drawn from `data`) go to `hostile`, which checks what may come back."""
    for n in range(len(raw)):
        with pytest.raises(ProtocolError):
            parse(raw[:n])
    for buf in overwrites(raw):
        hostile(buf)
    if not raw:
        return
    flipped = bytearray(raw)
    for bit in data.draw(st.lists(st.integers(0, len(raw) * 8 - 1), min_size=1, max_size=8)):
        flipped[bit // 8] ^= 1 << (bit % 8)
        hostile(bytes(flipped))
