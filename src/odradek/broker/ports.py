"""The typed ports a request handler may use, instead of the whole broker (ARCHITECTURE D11).

`RequestContext.ports` is a `BrokerPorts`: each field is an interface (a `Protocol`) that the single
node's parts implement today and cluster parts can implement tomorrow, and that a test can replace
alone (a partition manager over fake partitions, a metadata port over a fixed image, a coordinator
that fails). A handler sees nothing else of the broker, so what it may touch is written here:

    partitions      the hosted partitions (`replication.PartitionManager`): lookups with Kafka's errors
    metadata        the current cluster image, and changes through the controller
    groups          the group coordinator (readiness, the service)
    transactions    the transaction coordinator (readiness, the service, KIP-890 verification switch)
    node            this broker: its id, its advertised endpoint, the APIs it serves
    config          the broker's configuration (static and dynamic values)
    clock           time, as a parameter
    fetch_sessions  KIP-227 incremental fetch sessions
    purgatories     where requests wait for partitions to move (acks=all produce, long-polling fetch)
    flusher         fsync before answering (`flush.messages`)
    log_dirs        the log directories (DescribeLogDirs)
    stats           produce/fetch counters for the metrics endpoint
    authorizer      ACL decisions for the request's principal (`authorization.py`)
    quotas          client quota throttles (`quotas.py`)
    schemas         broker-side schema validation (a cache of the schema registry's answers)
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:  # (types only: a broker imports these modules when it needs them)
    from odradek.broker.authorization import BrokerAuthorizer
    from odradek.broker.config import BrokerConfig
    from odradek.broker.fetch_sessions import FetchSessionCache
    from odradek.broker.purgatory import Purgatory
    from odradek.broker.quotas import BrokerQuotas
    from odradek.broker.schema_validation import SchemaValidation
    from odradek.coordinator.group.service import GroupCoordinatorService
    from odradek.coordinator.transaction.service import TransactionCoordinatorService
    from odradek.metadata.controller.configs import BrokerConfigCheck
    from odradek.metadata.controller.result import ControllerResult
    from odradek.metadata.controller.topics import CreatableTopic, CreateTopicResult
    from odradek.metadata.image import ClusterImage
    from odradek.model.clock import Clock
    from odradek.model.errors import ErrorCode
    from odradek.model.topic_partition import TopicPartition
    from odradek.protocol.messages import api_versions
    from odradek.replication.partition import Partition
    from odradek.replication.throttle import ReplicationThrottle
    from odradek.storage.log_manager import LogDirDescription

T = TypeVar("T")


class PartitionsPort(Protocol):
    def get(self, topic: str, partition: int) -> Partition | None: ...

    def leader(self, topic: str, partition: int, current_leader_epoch: int = -1) -> Partition | ErrorCode: ...

    def topic_name(self, topic_id: uuid.UUID) -> str | None: ...

    def topic_id(self, name: str) -> uuid.UUID | None: ...

    @property
    def throttle(self) -> ReplicationThrottle: ...


class MetadataPort(Protocol):
    @property
    def image(self) -> ClusterImage: ...

    async def run_controller(self, operation: Callable[[ClusterImage], ControllerResult[T]]) -> T: ...

    async def create_topics(
        self, topics: Sequence[CreatableTopic], validate_only: bool = False
    ) -> tuple[CreateTopicResult, ...]: ...


class GroupCoordinatorPort(Protocol):
    @property
    def service(self) -> GroupCoordinatorService: ...

    def ensure_ready(self) -> Awaitable[ErrorCode]: ...


class TransactionCoordinatorPort(Protocol):
    @property
    def service(self) -> TransactionCoordinatorService: ...

    def ensure_ready(self) -> Awaitable[ErrorCode]: ...

    def ensure_started(self) -> Awaitable[None]: ...

    def verification_enabled(self) -> bool: ...

    def coordinated_here(self, transactional_id: str) -> bool: ...

    def verify(
        self,
        transactional_id: str,
        producer_id: int,
        producer_epoch: int,
        partitions: list[TopicPartition],
        *,
        add: bool = False,
    ) -> Awaitable[dict[TopicPartition, ErrorCode]]: ...

    def write_markers_here(
        self,
        producer_id: int,
        producer_epoch: int,
        committed: bool,
        coordinator_epoch: int,
        partitions: Iterable[TopicPartition],
    ) -> Awaitable[dict[TopicPartition, ErrorCode]]: ...


class NodePort(Protocol):
    @property
    def node_id(self) -> int: ...

    def advertised_endpoint(self, listener: str | None = None) -> tuple[str, int]:
        """Where clients reach this broker: on `listener` (the one a request came in on), or the
        first advertised listener."""
        ...

    def api_versions(self) -> list[api_versions.ApiVersion]: ...


class FlushPort(Protocol):
    def after_append(self, tp: TopicPartition, last_offset: int) -> Awaitable[None]: ...


class LogDirsPort(Protocol):
    def describe_dirs(self) -> list[LogDirDescription]: ...

    @property
    def offline_dirs(self) -> set[Path]: ...


class StatsPort(Protocol):
    def on_produced(self, topic: str, nbytes: int, nrecords: int) -> None: ...

    def on_batch_rewritten(self, fields: tuple[str, ...]) -> None: ...

    def on_fetched(self, topic: str, nbytes: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Purgatories:
    """The broker's purgatories of delayed requests, keyed by partition."""

    produce: Purgatory[TopicPartition]
    """acks=all produces waiting for the high watermark (`DelayedProduce`)."""
    fetch: Purgatory[TopicPartition]
    """Fetches waiting for data (`DelayedFetch`)."""


@dataclass(frozen=True, slots=True)
class BrokerPorts:
    """What the handlers reach the rest of the broker through (one port per concern)."""

    partitions: PartitionsPort
    metadata: MetadataPort
    groups: GroupCoordinatorPort
    transactions: TransactionCoordinatorPort
    node: NodePort
    config: BrokerConfig
    clock: Clock
    fetch_sessions: FetchSessionCache
    purgatories: Purgatories
    flusher: FlushPort
    log_dirs: LogDirsPort
    stats: StatsPort
    authorizer: BrokerAuthorizer
    quotas: BrokerQuotas
    schemas: SchemaValidation
    broker_config_check: BrokerConfigCheck | None = None
    """What the broker itself must accept in a BROKER resource's new dynamic configs (keystores)."""
