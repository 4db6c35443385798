"""Columnar batches: many records of one kind in a few lists, so the runtime moves them without a
Python object per record where the data allows.

A `SourceBatch` is what a fast `SourceTask.poll()` may return instead of a list: records that share
a topic, a Kafka partition (or none), key and value schemas and a source partition, as columns
(`values`, optional `keys`, `timestamps`, one `source_offsets` entry per record). It *is* a
`Sequence[SourceRecord]`: code that iterates it (transforms, `commit_record`, the error policy)
gets ordinary `SourceRecord`s, built on first use. Its `text_values` flag says the values are
STRING data held as their UTF-8 bytes (a file's lines as read): decoded only if someone looks.

A `SinkBatch` is what `SinkTask.put()` receives on the fast path (no transforms): also a
`Sequence[SinkRecord]` built on first use, and `value_schema`/`values`, the converted values as a
column, for tasks that only need those (the FileStream sink writes them without touching a record).
Tasks that never look at the columns see a plain sequence of `SinkRecord`s, as in Kafka Connect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

from odradek.connect.api.records import SinkRecord, SourceRecord
from odradek.connect.data.schema import STRING_SCHEMA, Schema


class OffsetColumn(Sequence[dict[str, Any]]):
    """Source offsets of one field (`{"position": n}`) as a column of numbers: a dict is made only
    for the records someone looks at."""

    __slots__ = ("field", "offsets")

    def __init__(self, field: str, offsets: Sequence[Any]) -> None:
        self.field = field
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | Sequence[dict[str, Any]]:
        if isinstance(index, slice):
            return [{self.field: v} for v in self.offsets[index]]
        return {self.field: self.offsets[index]}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        field = self.field
        return ({field: v} for v in self.offsets)


class SourceBatch(Sequence[SourceRecord]):
    __slots__ = (
        "_records",
        "kafka_partition",
        "key_schema",
        "keys",
        "source_offsets",
        "source_partition",
        "text_values",
        "timestamps",
        "topic",
        "value_schema",
        "values",
    )

    def __init__(
        self,
        topic: str,
        values: list[Any],
        value_schema: Schema | None = None,
        *,
        keys: list[Any] | None = None,
        key_schema: Schema | None = None,
        kafka_partition: int | None = None,
        timestamps: list[int | None] | None = None,
        source_partition: dict[str, Any] | None = None,
        source_offsets: Sequence[dict[str, Any]] | None = None,
        text_values: bool = False,
    ) -> None:
        if text_values and value_schema is None:
            value_schema = STRING_SCHEMA
        for name, column in (("keys", keys), ("timestamps", timestamps), ("source_offsets", source_offsets)):
            if column is not None and len(column) != len(values):
                raise ValueError(f"SourceBatch: {name} has {len(column)} entries for {len(values)} values")
        self.topic = topic
        self.values = values
        self.value_schema = value_schema
        self.keys = keys
        self.key_schema = key_schema
        self.kafka_partition = kafka_partition
        self.timestamps = timestamps
        self.source_partition = source_partition
        self.source_offsets = source_offsets
        self.text_values = text_values
        self._records: list[SourceRecord] | None = None

    @property
    def last_source_offset(self) -> dict[str, Any] | None:
        offsets = self.source_offsets
        return offsets[-1] if offsets else None

    def text(self) -> list[Any]:
        """The values as Connect data (text values decoded)."""
        if not self.text_values:
            return self.values
        return [None if v is None else v.decode("utf-8", "replace") for v in self.values]

    def records(self) -> list[SourceRecord]:
        if self._records is None:
            values = self.text()
            keys = self.keys or [None] * len(values)
            stamps = self.timestamps or [None] * len(values)
            offsets: Sequence[dict[str, Any] | None] = (
                [None] * len(values) if self.source_offsets is None else self.source_offsets
            )
            partition = self.source_partition
            self._records = [
                SourceRecord(
                    self.topic,
                    self.kafka_partition,
                    self.key_schema,
                    key,
                    self.value_schema,
                    value,
                    stamp,
                    source_partition=partition,
                    source_offset=offset,
                )
                for key, value, stamp, offset in zip(keys, values, stamps, offsets, strict=True)
            ]
        return self._records

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, index: int) -> SourceRecord: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[SourceRecord]: ...
    def __getitem__(self, index: int | slice) -> SourceRecord | Sequence[SourceRecord]:
        return self.records()[index]

    def __iter__(self) -> Iterator[SourceRecord]:
        return iter(self.records())

    def __repr__(self) -> str:
        return f"SourceBatch({self.topic!r}, {len(self.values)} records)"


class SinkBatch(Sequence[SinkRecord]):
    __slots__ = ("_factory", "_records", "value_schema", "values")

    def __init__(
        self, factory: Callable[[], list[SinkRecord]], value_schema: Schema | None, values: list[Any]
    ) -> None:
        self.value_schema = value_schema
        self.values = values
        self._factory = factory
        self._records: list[SinkRecord] | None = None

    def records(self) -> list[SinkRecord]:
        if self._records is None:
            self._records = self._factory()
        return self._records

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, index: int) -> SinkRecord: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[SinkRecord]: ...
    def __getitem__(self, index: int | slice) -> SinkRecord | Sequence[SinkRecord]:
        return self.records()[index]

    def __iter__(self) -> Iterator[SinkRecord]:
        return iter(self.records())

    def __repr__(self) -> str:
        return f"SinkBatch({len(self.values)} records)"
