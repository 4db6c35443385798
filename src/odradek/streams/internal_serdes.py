"""Serdes of the library's own formats: windowed keys, table changes in repartition topics, held-back
suppress values and foreign-key join messages. All integers big-endian; a length of -1 means `None`.

| serde | layout |
|---|---|
| `WindowedSerde` | inner key bytes, 8-byte window start, 8-byte window end |
| `ChangeSerde` | 4-byte length + new bytes, then old bytes (rest) with a 1-byte presence flag first |
| `SuppressedSerde` | 8-byte due time, 8-byte record timestamp, `ChangeSerde` of (new, old) |
"""

from __future__ import annotations

import struct
from typing import Any

from odradek.streams.record import Change
from odradek.streams.serdes import Serde
from odradek.streams.windows import Window, Windowed

_Q2 = struct.Struct(">qq")
_I = struct.Struct(">i")


def _resolve(serde: Serde[Any] | None, default: Serde[Any], key: Serde[Any], value: Serde[Any]) -> Serde[Any]:
    return (serde or default).with_defaults(key, value)


class WindowedSerde(Serde[Windowed]):
    name = "windowed"

    def __init__(self, inner: Serde[Any] | None) -> None:
        self.inner: Serde[Any] = inner  # type: ignore[assignment]

    def with_defaults(self, key_default: Serde[Any], value_default: Serde[Any]) -> Serde[Windowed]:
        return WindowedSerde(_resolve(self.inner, key_default, key_default, value_default))

    def to_bytes(self, obj: Windowed) -> bytes:
        raw = self.inner.serialize("", obj.key) or b""
        return raw + _Q2.pack(obj.window.start, obj.window.end)

    def from_bytes(self, data: bytes) -> Windowed:
        start, end = _Q2.unpack_from(data, len(data) - 16)
        return Windowed(self.inner.deserialize("", data[:-16]), Window(start, end))


def _pack_optional(serde: Serde[Any], obj: Any) -> bytes:
    raw = serde.serialize("", obj) if obj is not None else None
    return _I.pack(-1) if raw is None else _I.pack(len(raw)) + raw


def _unpack_optional(serde: Serde[Any], data: bytes, pos: int) -> tuple[Any, int]:
    n = _I.unpack_from(data, pos)[0]
    pos += 4
    if n < 0:
        return None, pos
    return serde.deserialize("", data[pos : pos + n]), pos + n


class ChangeSerde(Serde[Change]):
    name = "change"

    def __init__(self, inner: Serde[Any] | None) -> None:
        self.inner: Serde[Any] = inner  # type: ignore[assignment]

    def with_defaults(self, key_default: Serde[Any], value_default: Serde[Any]) -> Serde[Change]:
        return ChangeSerde(_resolve(self.inner, value_default, key_default, value_default))

    def to_bytes(self, obj: Change) -> bytes:
        return _pack_optional(self.inner, obj.new) + _pack_optional(self.inner, obj.old)

    def from_bytes(self, data: bytes) -> Change:
        new, pos = _unpack_optional(self.inner, data, 0)
        old, _ = _unpack_optional(self.inner, data, pos)
        return Change(new, old)


class SuppressedSerde(Serde[list[Any]]):
    """`[due, [new, old], timestamp]` as the suppress buffer keeps it."""

    name = "suppressed"

    def __init__(self, inner: Serde[Any] | None) -> None:
        self.inner = inner
        self.change = ChangeSerde(inner)

    def with_defaults(self, key_default: Serde[Any], value_default: Serde[Any]) -> Serde[list[Any]]:
        return SuppressedSerde(_resolve(self.inner, value_default, key_default, value_default))

    def to_bytes(self, obj: list[Any]) -> bytes:
        due, (new, old), ts = obj
        return _Q2.pack(due, ts) + self.change.to_bytes(Change(new, old))

    def from_bytes(self, data: bytes) -> list[Any]:
        due, ts = _Q2.unpack_from(data)
        change = self.change.from_bytes(data[16:])
        return [due, [change.new, change.old], ts]


class PairSerde(Serde[tuple[Any, Any]]):
    """Two optional values, each with its own serde (join buffers, FK join messages)."""

    name = "pair"

    def __init__(self, first: Serde[Any] | None, second: Serde[Any] | None) -> None:
        self.first: Serde[Any] = first  # type: ignore[assignment]
        self.second: Serde[Any] = second  # type: ignore[assignment]

    def with_defaults(self, key_default: Serde[Any], value_default: Serde[Any]) -> Serde[tuple[Any, Any]]:
        return PairSerde(
            _resolve(self.first, value_default, key_default, value_default),
            _resolve(self.second, value_default, key_default, value_default),
        )

    def to_bytes(self, obj: tuple[Any, Any]) -> bytes:
        return _pack_optional(self.first, obj[0]) + _pack_optional(self.second, obj[1])

    def from_bytes(self, data: bytes) -> tuple[Any, Any]:
        a, pos = _unpack_optional(self.first, data, 0)
        b, _ = _unpack_optional(self.second, data, pos)
        return a, b
