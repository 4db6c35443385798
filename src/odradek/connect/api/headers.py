"""Connect record headers: an ordered list of (key, schema, value), keys may repeat (Kafka's `ConnectHeaders`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from odradek.connect.data.schema import Schema


@dataclass(frozen=True, slots=True)
class Header:
    key: str
    schema: Schema | None
    value: Any


class Headers:
    __slots__ = ("_items",)

    def __init__(self, items: Iterable[Header] = ()) -> None:
        self._items: list[Header] = list(items)

    def add(self, key: str, value: Any, schema: Schema | None = None) -> Headers:
        self._items.append(Header(key, schema, value))
        return self

    def add_header(self, header: Header) -> Headers:
        self._items.append(header)
        return self

    def last_with_name(self, key: str) -> Header | None:
        for header in reversed(self._items):
            if header.key == key:
                return header
        return None

    def all_with_name(self, key: str) -> list[Header]:
        return [h for h in self._items if h.key == key]

    def remove(self, key: str) -> Headers:
        self._items = [h for h in self._items if h.key != key]
        return self

    def retain_latest(self) -> Headers:
        seen: set[str] = set()
        kept: list[Header] = []
        for header in reversed(self._items):
            if header.key not in seen:
                seen.add(header.key)
                kept.append(header)
        self._items = kept[::-1]
        return self

    def duplicate(self) -> Headers:
        return Headers(self._items)

    def __iter__(self) -> Iterator[Header]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    def __hash__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"
