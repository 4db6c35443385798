"""What flows between processors.

`Record` is key, value, timestamp (ms) and headers, as Kafka Streams' `api.Record`. `Change` is what a
KTable forwards: the new value and the old one (`None` when the key was absent or is deleted).
`RecordMetadata` is where the record currently being processed came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, TypeVar

K = TypeVar("K")
V = TypeVar("V")
Headers = list[tuple[str, bytes | None]]


class Record(Generic[K, V]):
    __slots__ = ("headers", "key", "timestamp", "value")

    def __init__(self, key: K, value: V, timestamp: int, headers: Headers | None = None) -> None:
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.headers = headers

    def with_key(self, key: Any) -> Record[Any, V]:
        return Record(key, self.value, self.timestamp, self.headers)

    def with_value(self, value: Any) -> Record[K, Any]:
        return Record(self.key, value, self.timestamp, self.headers)

    def with_timestamp(self, timestamp: int) -> Record[K, V]:
        return Record(self.key, self.value, timestamp, self.headers)

    def with_headers(self, headers: Headers | None) -> Record[K, V]:
        return Record(self.key, self.value, self.timestamp, headers)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Record)
            and self.key == other.key
            and self.value == other.value
            and self.timestamp == other.timestamp
            and self.headers == other.headers
        )

    def __hash__(self) -> int:
        return hash((self.key, self.timestamp))

    def __repr__(self) -> str:
        return f"Record(key={self.key!r}, value={self.value!r}, timestamp={self.timestamp})"


class Change(NamedTuple):
    """A KTable update: `new` replaces `old` for the record's key (either may be `None`)."""

    new: Any
    old: Any


class OutOfOrderChange(Change):
    """An update of a versioned table older than the key's latest version (KIP-914): it changes the
    table's history, not its current value, so aggregations and table-table joins ignore it."""

    __slots__ = ()


def same_kind(change: Change, new: Any, old: Any) -> Change:
    """A `Change` of the same kind (in order or out of order) as `change`."""
    return Change(new, old) if type(change) is Change else OutOfOrderChange(new, old)


@dataclass(frozen=True, slots=True)
class RecordMetadata:
    topic: str
    partition: int
    offset: int
