"""What the runtime gives connectors and tasks (Kafka Connect's contexts), as interfaces the
runtime implements: reading stored source offsets, requesting a reconfiguration, a transaction
boundary (exactly-once sources), and for sink tasks pausing, rewinding and reporting errant records."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any

from odradek.connect.api.records import SinkRecord, SourceRecord
from odradek.model.topic_partition import TopicPartition


class ConnectorContext(ABC):
    @abstractmethod
    def request_task_reconfiguration(self) -> None:
        """The connector's task configs changed (e.g. new tables): ask the runtime to call task_configs again."""

    @abstractmethod
    def raise_error(self, exc: Exception) -> None:
        """Fail the connector from a background thread of its own."""


class OffsetStorageReader(ABC):
    @abstractmethod
    def offsets(self, partitions: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
        """Stored offsets by the JSON of each source partition (None when nothing is stored)."""

    def offset(self, partition: Mapping[str, Any]) -> dict[str, Any] | None:
        # the offsets map is keyed by the partition's compact JSON (Connect's offset key form)
        key = json.dumps(dict(partition), separators=(",", ":"), ensure_ascii=False)
        return self.offsets([partition]).get(key)


class TransactionContext(ABC):
    """Connector-defined transaction boundaries (`transaction.boundary=connector`)."""

    @abstractmethod
    def commit_transaction(self, record: SourceRecord | None = None) -> None: ...

    @abstractmethod
    def abort_transaction(self, record: SourceRecord | None = None) -> None: ...


class SourceTaskContext(ABC):
    @abstractmethod
    def configs(self) -> Mapping[str, str]: ...

    @abstractmethod
    def offset_storage_reader(self) -> OffsetStorageReader: ...

    def transaction_context(self) -> TransactionContext | None:
        return None


class ErrantRecordReporter(ABC):
    @abstractmethod
    def report(self, record: SinkRecord, error: BaseException) -> None:
        """Send `record` to the error policy (dead letter queue, log) instead of failing the task."""


class SinkTaskContext(ABC):
    @abstractmethod
    def configs(self) -> Mapping[str, str]: ...

    @abstractmethod
    def offset(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Rewind (or skip) the consumer to these offsets before the next put."""

    @abstractmethod
    def timeout(self, timeout_ms: int) -> None:
        """After a RetriableException from put(), retry after this long."""

    @abstractmethod
    def assignment(self) -> set[TopicPartition]: ...

    @abstractmethod
    def pause(self, *partitions: TopicPartition) -> None: ...

    @abstractmethod
    def resume(self, *partitions: TopicPartition) -> None: ...

    @abstractmethod
    def request_commit(self) -> None: ...

    def errant_record_reporter(self) -> ErrantRecordReporter | None:
        return None
