"""The cluster image: an immutable snapshot of the cluster metadata.

It holds the cluster id, the controller, the registered brokers, the topics (by name and by topic id)
with each partition's replicas, ISR, ELR, leader and epochs, the dynamic config overrides of topics
and brokers, the producer-id allocation watermark, and the security image (ACLs, SCRAM credentials,
client quotas). An image is never changed: `MetadataDelta`
replays records on top of one and builds the next. Maps are read-only views; `to_records()` gives
the records that rebuild the image from `ClusterImage.EMPTY` (a snapshot).

Invariants (kept by the controller, checked by tests): partition ids of a topic are 0..n-1; a
leader, when not NO_LEADER, is in the ISR; the ISR is a subset of the replicas; topic names are
unique and so are topic ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, TypeVar

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.records import (
    FIRST_EPOCH,
    NO_LEADER,
    ClusterIdRecord,
    ConfigRecord,
    ControllerRecord,
    FeatureLevelRecord,
    MetadataRecord,
    PartitionRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
    TopicRecord,
)
from odradek.metadata.security_image import EMPTY_SECURITY, SecurityImage
from odradek.metadata.topic_names import is_internal
from odradek.model.ids import BrokerId, Epoch
from odradek.model.leader_recovery import LeaderRecoveryState

K = TypeVar("K")
V = TypeVar("V")


def frozen_map(items: Mapping[K, V] | None = None) -> Mapping[K, V]:
    """A read-only copy of `items` (images share these maps, so nobody may change them)."""
    return MappingProxyType(dict(items or {}))


@dataclass(frozen=True, slots=True)
class BrokerRegistration:
    """A registered broker: its endpoint, rack, fencing and epoch."""

    broker_id: BrokerId
    host: str
    port: int
    rack: str | None = None
    fenced: bool = False
    broker_epoch: int = 0
    endpoints: tuple[str, ...] = ()
    """`NAME://host:port` per advertised listener; empty: only `host`/`port` (single node)."""

    def endpoint(self, listener: str | None) -> tuple[str, int]:
        """The endpoint on the listener named `listener`, else the first one (host, port)."""
        for endpoint in self.endpoints:
            name, _, address = endpoint.partition("://")
            if name == listener:
                host, _, port = address.rpartition(":")
                return host.strip("[]"), int(port)
        return self.host, self.port


@dataclass(frozen=True, slots=True)
class PartitionRegistration:
    """A partition's replicas, ISR, ELR, leader and epochs."""

    replicas: tuple[BrokerId, ...]
    isr: tuple[BrokerId, ...]
    leader: BrokerId
    leader_epoch: Epoch = FIRST_EPOCH
    partition_epoch: int = 0
    elr: tuple[BrokerId, ...] = ()
    last_known_elr: tuple[BrokerId, ...] = ()
    adding_replicas: tuple[BrokerId, ...] = ()
    """A reassignment in progress: replicas being added (also in `replicas`)."""
    removing_replicas: tuple[BrokerId, ...] = ()
    """A reassignment in progress: replicas to drop once the added ones are in sync."""
    leader_recovery_state: LeaderRecoveryState = LeaderRecoveryState.RECOVERED
    """KIP-704: RECOVERING from an unclean election until its leader says it recovered."""

    @property
    def has_leader(self) -> bool:
        return self.leader != NO_LEADER

    @property
    def reassigning(self) -> bool:
        return bool(self.adding_replicas or self.removing_replicas)

    def to_record(self, topic_id: uuid.UUID, index: int) -> PartitionRecord:
        """The record that creates this state (a snapshot's, a ZooKeeper image's)."""
        return PartitionRecord(
            topic_id,
            index,
            self.replicas,
            self.isr,
            self.leader,
            self.leader_epoch,
            self.partition_epoch,
            self.elr,
            self.last_known_elr,
            self.adding_replicas,
            self.removing_replicas,
            self.leader_recovery_state,
        )


@dataclass(frozen=True, slots=True)
class TopicImage:
    """A topic in the image: its name, id and partitions."""

    name: str
    topic_id: uuid.UUID
    partitions: Mapping[int, PartitionRegistration] = field(default_factory=frozen_map)

    @property
    def is_internal(self) -> bool:
        return is_internal(self.name)

    @property
    def replication_factor(self) -> int:
        first = self.partitions.get(0)
        return 0 if first is None else len(first.replicas)


@dataclass(frozen=True, slots=True)
class ClusterImage:
    """The whole cluster metadata at one point of the metadata log."""

    cluster_id: str | None = None
    controller_id: BrokerId = NO_LEADER
    controller_epoch: int = 0
    brokers: Mapping[BrokerId, BrokerRegistration] = field(default_factory=frozen_map)
    topics_by_id: Mapping[uuid.UUID, TopicImage] = field(default_factory=frozen_map)
    topics_by_name: Mapping[str, TopicImage] = field(default_factory=frozen_map)
    topic_configs: Mapping[str, Mapping[str, str]] = field(default_factory=frozen_map)
    """Topic config overrides by topic name."""
    broker_configs: Mapping[str, Mapping[str, str]] = field(default_factory=frozen_map)
    """Dynamic broker configs by resource name: a broker id, or "" for the cluster default."""
    next_producer_id: int = 0
    security: SecurityImage = EMPTY_SECURITY
    """ACLs, SCRAM credentials and client quotas."""
    finalized_features: Mapping[str, int] = field(default_factory=frozen_map)
    """Feature levels set by UpdateFeatures (KIP-584); a feature not here has its default
    (`metadata.features`)."""

    EMPTY: ClassVar[ClusterImage]

    def topic(self, name: str) -> TopicImage | None:
        return self.topics_by_name.get(name)

    def has_partition(self, topic: str, partition: int) -> bool:
        found = self.topics_by_name.get(topic)
        return found is not None and partition in found.partitions

    def is_live(self, broker_id: int) -> bool:
        """Registered and not fenced: may lead partitions and be placed on."""
        broker = self.brokers.get(BrokerId(broker_id))
        return broker is not None and not broker.fenced

    def live_brokers(self) -> tuple[BrokerRegistration, ...]:
        return tuple(b for _, b in sorted(self.brokers.items()) if not b.fenced)

    def live_leader(self, partition: PartitionRegistration) -> int:
        """The partition's leader if it is live (clients may send to it), else -1 (Metadata and
        DescribeTopicPartitions then answer LEADER_NOT_AVAILABLE)."""
        return partition.leader if partition.has_leader and self.is_live(partition.leader) else -1

    def offline_replicas(self, partition: PartitionRegistration) -> tuple[BrokerId, ...]:
        """Replicas on brokers that are unregistered or fenced (Metadata `offline_replicas`)."""
        return tuple(r for r in partition.replicas if not self.is_live(r))

    def topic_config_overrides(self, name: str) -> Mapping[str, str]:
        return self.topic_configs.get(name, _NO_CONFIGS)

    def to_records(self) -> list[MetadataRecord]:
        """Records that rebuild this image from EMPTY, in a replayable order."""
        records: list[MetadataRecord] = []
        if self.cluster_id is not None:
            records.append(ClusterIdRecord(self.cluster_id))
        if self.controller_id != NO_LEADER or self.controller_epoch:
            records.append(ControllerRecord(self.controller_id, self.controller_epoch))
        for broker in (b for _, b in sorted(self.brokers.items())):
            records.append(
                RegisterBrokerRecord(
                    broker.broker_id,
                    broker.host,
                    broker.port,
                    broker.rack,
                    broker.fenced,
                    broker.broker_epoch,
                    broker.endpoints,
                )
            )
        for resource, configs in sorted(self.broker_configs.items()):
            for name, value in sorted(configs.items()):
                records.append(ConfigRecord(ConfigResourceType.BROKER, resource, name, value))
        for topic in (t for _, t in sorted(self.topics_by_name.items())):
            records.append(TopicRecord(topic.name, topic.topic_id))
            for name, value in sorted(self.topic_config_overrides(topic.name).items()):
                records.append(ConfigRecord(ConfigResourceType.TOPIC, topic.name, name, value))
            for index, p in sorted(topic.partitions.items()):
                records.append(p.to_record(topic.topic_id, index))
        # Overrides of topics that do not exist (harmless leftovers) survive a snapshot too.
        for name, configs in sorted(self.topic_configs.items()):
            if name not in self.topics_by_name:
                for key, value in sorted(configs.items()):
                    records.append(ConfigRecord(ConfigResourceType.TOPIC, name, key, value))
        if self.next_producer_id:
            records.append(ProducerIdsRecord(NO_LEADER, self.next_producer_id))
        records.extend(self.security.to_records())
        records += [FeatureLevelRecord(n, level) for n, level in sorted(self.finalized_features.items())]
        return records


_NO_CONFIGS: Mapping[str, str] = frozen_map()
ClusterImage.EMPTY = ClusterImage()
