"""The connector API: what a connector author implements (Kafka Connect's `Connector`,
`SourceConnector`, `SinkConnector`, `Task`, `SourceTask`, `SinkTask`, in Python).

A connector is configured with string properties, says which task class does the work, and splits
its job into at most `max_tasks` task configurations. The runtime runs each task in a process of
its own (or a thread, `odradek.task.isolation=thread`), never in the worker's event loop, so tasks
may block in `poll()`/`put()`. A fast source task returns an `api.batches.SourceBatch` (columns,
no object per record); a sink task may read `SinkBatch.values` instead of iterating records. Connectors are found by
the `odradek.connectors` entry point group, by dotted path, or by their (or Kafka's) class name.

Source tasks return `SourceRecord`s from `poll()` (None or [] when there is nothing now); the
runtime converts, transforms and produces them and stores their `source_offset`s. Sink tasks get
`SinkRecord`s in `put()`; the runtime commits consumer offsets only after `flush()` (or the offsets
`pre_commit()` returns) succeeded.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from odradek.connect.api.config_def import ConfigDef, ConfigValue
from odradek.connect.api.records import RecordMetadata, SinkRecord, SourceRecord

if TYPE_CHECKING:
    from odradek.connect.api.context import ConnectorContext, SinkTaskContext, SourceTaskContext
    from odradek.model.topic_partition import TopicPartition


class ExactlyOnceSupport(StrEnum):
    SUPPORTED = "SUPPORTED"
    UNSUPPORTED = "UNSUPPORTED"


class ConnectorTransactionBoundaries(StrEnum):
    SUPPORTED = "SUPPORTED"
    UNSUPPORTED = "UNSUPPORTED"


class Task(ABC):
    def version(self) -> str:
        return "unknown"

    @abstractmethod
    def start(self, props: Mapping[str, str]) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...


class Connector(ABC):
    """Base of both connector kinds. `java_class` (optional) is the Kafka class name it answers to."""

    java_class: ClassVar[str | None] = None
    converter_defaults: ClassVar[dict[str, str]] = {}
    """Converters this connector needs unless its config names others (a replicator moves bytes)."""
    context: ConnectorContext

    def version(self) -> str:
        return "unknown"

    def initialize(self, context: ConnectorContext) -> None:
        self.context = context

    @abstractmethod
    def start(self, props: Mapping[str, str]) -> None: ...

    @abstractmethod
    def task_class(self) -> type[Task]: ...

    @abstractmethod
    def task_configs(self, max_tasks: int) -> list[dict[str, str]]: ...

    @abstractmethod
    def stop(self) -> None: ...

    @classmethod
    def config_def(cls) -> ConfigDef:
        return ConfigDef()

    def validate(self, props: Mapping[str, str]) -> dict[str, ConfigValue]:
        """Per-key results for the validate endpoint; the default checks `config_def()`."""
        return self.config_def().validate(props)

    def alter_offsets(self, props: Mapping[str, str], offsets: Mapping[Any, Any]) -> bool:
        """Called before the REST API alters or resets offsets (KIP-875): raise to refuse; return
        True when the connector manages the offsets itself too (it has updated them)."""
        return False


class SourceTask(Task):
    context: SourceTaskContext

    def initialize(self, context: SourceTaskContext) -> None:
        self.context = context

    @abstractmethod
    def poll(self) -> Sequence[SourceRecord] | None:
        """Records available now (may block briefly; return None or [] when there are none)."""

    def commit(self) -> None:
        """Offsets of everything polled so far are stored (a hint: acknowledge upstream here)."""

    def commit_record(self, record: SourceRecord, metadata: RecordMetadata | None) -> None:
        """`record` was written (metadata) or dropped by a transform or the error policy (None)."""


class SinkTask(Task):
    context: SinkTaskContext

    def initialize(self, context: SinkTaskContext) -> None:
        self.context = context

    @abstractmethod
    def put(self, records: Sequence[SinkRecord]) -> None: ...

    def flush(self, current_offsets: Mapping[TopicPartition, int]) -> None:
        """Make everything `put` so far durable in the target system."""

    def pre_commit(self, current_offsets: Mapping[TopicPartition, int]) -> Mapping[TopicPartition, int]:
        """Offsets safe to commit (the next offset to read); the default flushes and returns them all."""
        self.flush(current_offsets)
        return current_offsets

    def open(self, partitions: Sequence[TopicPartition]) -> None:
        """Partitions newly assigned to this task."""

    def close(self, partitions: Sequence[TopicPartition]) -> None:
        """Partitions taken away (rebalance or stop): drop their buffered state."""


class SourceConnector(Connector):
    def exactly_once_support(self, props: Mapping[str, str]) -> ExactlyOnceSupport | None:
        """Can this connector's tasks be run exactly-once (KIP-618)? None = unknown."""
        return None

    def can_define_transaction_boundaries(self, props: Mapping[str, str]) -> ConnectorTransactionBoundaries:
        return ConnectorTransactionBoundaries.UNSUPPORTED


class SinkConnector(Connector):
    TOPICS_CONFIG: ClassVar[str] = "topics"
