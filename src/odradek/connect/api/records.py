"""Connect records: `SourceRecord` (what `SourceTask.poll()` returns) and `SinkRecord` (what
`SinkTask.put()` receives), both `ConnectRecord`s (Kafka's names and fields).

A source record carries its `source_partition` and `source_offset` (JSON-able dicts the runtime
stores in the offsets topic under `["<connector>", source_partition]`). A sink record carries the
Kafka offset and, for transforms that reroute it, the original topic/partition/offset (KIP-793).
Transforms make new records with `new_record(...)` (every other field copied).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Self

from odradek.connect.api.headers import Headers
from odradek.connect.data.schema import Schema

_UNSET: Any = object()


class TimestampType(StrEnum):
    NO_TIMESTAMP_TYPE = "NoTimestampType"
    CREATE_TIME = "CreateTime"
    LOG_APPEND_TIME = "LogAppendTime"


@dataclass(eq=False)
class ConnectRecord:
    topic: str
    kafka_partition: int | None = None
    key_schema: Schema | None = None
    key: Any = None
    value_schema: Schema | None = None
    value: Any = None
    timestamp: int | None = None
    headers: Headers = field(default_factory=Headers)

    def new_record(
        self,
        topic: str = _UNSET,
        kafka_partition: int | None = _UNSET,
        key_schema: Schema | None = _UNSET,
        key: Any = _UNSET,
        value_schema: Schema | None = _UNSET,
        value: Any = _UNSET,
        timestamp: int | None = _UNSET,
        headers: Headers = _UNSET,
    ) -> Self:
        changes = {
            name: given
            for name, given in (
                ("topic", topic),
                ("kafka_partition", kafka_partition),
                ("key_schema", key_schema),
                ("key", key),
                ("value_schema", value_schema),
                ("value", value),
                ("timestamp", timestamp),
                ("headers", headers),
            )
            if given is not _UNSET
        }
        if "headers" not in changes:
            changes["headers"] = self.headers.duplicate()
        return replace(self, **changes)  # type: ignore[arg-type]

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.topic,
            self.kafka_partition,
            self.key_schema,
            self.key,
            self.value_schema,
            self.value,
            self.timestamp,
            self.headers,
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ConnectRecord)
            and type(other) is type(self)
            and self._fields() == other._fields()
        )

    __hash__ = None  # type: ignore[assignment]


@dataclass(eq=False)
class SourceRecord(ConnectRecord):
    source_partition: dict[str, Any] | None = None
    source_offset: dict[str, Any] | None = None

    def _fields(self) -> tuple[Any, ...]:
        return (*super()._fields(), self.source_partition, self.source_offset)


@dataclass(eq=False)
class SinkRecord(ConnectRecord):
    kafka_offset: int = -1
    timestamp_type: TimestampType = TimestampType.NO_TIMESTAMP_TYPE
    original_topic: str | None = None
    original_kafka_partition: int | None = None
    original_kafka_offset: int | None = None

    def __post_init__(self) -> None:
        if self.original_topic is None:
            self.original_topic = self.topic
        if self.original_kafka_partition is None:
            self.original_kafka_partition = self.kafka_partition
        if self.original_kafka_offset is None:
            self.original_kafka_offset = self.kafka_offset

    def _fields(self) -> tuple[Any, ...]:
        return (*super()._fields(), self.kafka_offset, self.timestamp_type)


@dataclass(frozen=True, slots=True)
class RecordMetadata:
    """Where the producer wrote a source record (`SourceTask.commit_record`)."""

    topic: str
    partition: int
    offset: int
    timestamp: int | None = None
