"""`MetadataDelta`: replays records on top of an image and builds the next image.

The delta copies only what the records touch (a topic's partitions are staged in a plain dict, so a
topic with many partitions costs one copy, not one per record). `apply()` returns the new image;
the base image is never modified. A record that contradicts the image (a partition of an unknown
topic, a second topic with the same name) raises `ReplayError`: the metadata log is corrupt or was
written by a buggy controller, and starting from a wrong image would be worse than stopping.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.image import (
    BrokerRegistration,
    ClusterImage,
    PartitionRegistration,
    TopicImage,
    frozen_map,
)
from odradek.metadata.records import (
    BrokerFenceRecord,
    ClusterIdRecord,
    ConfigRecord,
    ControllerRecord,
    FeatureLevelRecord,
    MetadataRecord,
    PartitionChangeRecord,
    PartitionRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
    RemoveTopicRecord,
    TopicRecord,
    UnregisterBrokerRecord,
)
from odradek.metadata.security_image import SecurityRecord
from odradek.metadata.security_records import SECURITY_RECORD_TYPES
from odradek.model.ids import BrokerId, Epoch


class ReplayError(ValueError):
    """A record cannot be applied to the image it follows."""


class MetadataDelta:
    def __init__(self, image: ClusterImage) -> None:
        self._image = image
        self._cluster_id = image.cluster_id
        self._controller = (image.controller_id, image.controller_epoch)
        self._next_producer_id = image.next_producer_id
        self._brokers: dict[BrokerId, BrokerRegistration] | None = None
        self._topics: dict[uuid.UUID, TopicImage] | None = None
        self._topic_names: set[str] | None = None
        self._staged_partitions: dict[uuid.UUID, dict[int, PartitionRegistration]] = {}
        self._configs: dict[ConfigResourceType, dict[str, dict[str, str]]] = {}
        self._security_records: list[SecurityRecord] = []
        self._features: dict[str, int] | None = None
        self.created_topic_ids: set[uuid.UUID] = set()
        self.removed_topics: dict[uuid.UUID, str] = {}
        self.changed_topic_ids: set[uuid.UUID] = set()

    @property
    def image(self) -> ClusterImage:
        return self._image

    def replay_all(self, records: Iterable[MetadataRecord]) -> MetadataDelta:
        for record in records:
            self.replay(record)
        return self

    def replay(self, record: MetadataRecord) -> None:
        handler = _HANDLERS.get(type(record))
        if handler is None:
            raise ReplayError(f"no replay rule for {type(record).__name__}")
        handler(self, record)

    # -- per-record rules -------------------------------------------------------------------------

    def _cluster_id_record(self, record: ClusterIdRecord) -> None:
        if self._cluster_id is not None and self._cluster_id != record.cluster_id:
            raise ReplayError(f"cluster id is {self._cluster_id}, a record sets {record.cluster_id}")
        self._cluster_id = record.cluster_id

    def _controller_record(self, record: ControllerRecord) -> None:
        self._controller = (record.controller_id, record.controller_epoch)

    def _register_broker(self, record: RegisterBrokerRecord) -> None:
        self._mutable_brokers()[record.broker_id] = BrokerRegistration(
            record.broker_id,
            record.host,
            record.port,
            record.rack,
            record.fenced,
            record.broker_epoch,
            record.endpoints,
        )

    def _fence_broker(self, record: BrokerFenceRecord) -> None:
        brokers = self._mutable_brokers()
        broker = brokers.get(record.broker_id)
        if broker is None:
            raise ReplayError(f"broker {record.broker_id} is not registered")
        brokers[record.broker_id] = BrokerRegistration(
            broker.broker_id,
            broker.host,
            broker.port,
            broker.rack,
            record.fenced,
            broker.broker_epoch,
            broker.endpoints,
        )

    def _unregister_broker(self, record: UnregisterBrokerRecord) -> None:
        self._mutable_brokers().pop(record.broker_id, None)

    def _topic_record(self, record: TopicRecord) -> None:
        topics = self._mutable_topics()
        if record.topic_id in topics:
            raise ReplayError(f"topic id {record.topic_id} already exists")
        if record.name in self._names():
            raise ReplayError(f"topic {record.name} already exists")
        topics[record.topic_id] = TopicImage(record.name, record.topic_id)
        self._names().add(record.name)
        self._staged_partitions[record.topic_id] = {}
        self.created_topic_ids.add(record.topic_id)

    def _partition_record(self, record: PartitionRecord) -> None:
        partitions = self._partitions_of(record.topic_id)
        partitions[record.partition_id] = PartitionRegistration(
            record.replicas,
            record.isr,
            record.leader,
            record.leader_epoch,
            record.partition_epoch,
            record.elr,
            record.last_known_elr,
            record.adding_replicas,
            record.removing_replicas,
            record.leader_recovery_state,
        )

    def _partition_change(self, record: PartitionChangeRecord) -> None:
        partitions = self._partitions_of(record.topic_id)
        old = partitions.get(record.partition_id)
        if old is None:
            raise ReplayError(f"partition {record.topic_id}:{record.partition_id} does not exist")
        leader_changed = record.leader is not None
        partitions[record.partition_id] = PartitionRegistration(
            replicas=old.replicas if record.replicas is None else record.replicas,
            isr=old.isr if record.isr is None else record.isr,
            leader=old.leader if record.leader is None else record.leader,
            leader_epoch=Epoch(old.leader_epoch + 1) if leader_changed else old.leader_epoch,
            partition_epoch=old.partition_epoch + 1,
            elr=old.elr if record.elr is None else record.elr,
            last_known_elr=old.last_known_elr if record.last_known_elr is None else record.last_known_elr,
            adding_replicas=old.adding_replicas if record.adding_replicas is None else record.adding_replicas,
            removing_replicas=(
                old.removing_replicas if record.removing_replicas is None else record.removing_replicas
            ),
            leader_recovery_state=(
                old.leader_recovery_state
                if record.leader_recovery_state is None
                else record.leader_recovery_state
            ),
        )

    def _remove_topic(self, record: RemoveTopicRecord) -> None:
        topic = self._mutable_topics().pop(record.topic_id, None)
        if topic is None:
            raise ReplayError(f"topic id {record.topic_id} does not exist")
        self._staged_partitions.pop(record.topic_id, None)
        self._names().discard(topic.name)
        self._mutable_configs(ConfigResourceType.TOPIC).pop(topic.name, None)
        if record.topic_id in self.created_topic_ids:
            self.created_topic_ids.discard(record.topic_id)
        else:
            self.removed_topics[record.topic_id] = topic.name
        self.changed_topic_ids.discard(record.topic_id)

    def _config_record(self, record: ConfigRecord) -> None:
        if record.resource_type not in (ConfigResourceType.TOPIC, ConfigResourceType.BROKER):
            raise ReplayError(f"configs of {record.resource_type.name} resources are not kept")
        configs = self._mutable_configs(record.resource_type)
        resource = dict(configs.get(record.resource_name, {}))
        if record.value is None:
            resource.pop(record.name, None)
        else:
            resource[record.name] = record.value
        if resource:
            configs[record.resource_name] = resource
        else:
            configs.pop(record.resource_name, None)

    def _producer_ids(self, record: ProducerIdsRecord) -> None:
        if record.next_producer_id < self._next_producer_id:
            raise ReplayError(
                f"producer ids would move back from {self._next_producer_id} to {record.next_producer_id}"
            )
        self._next_producer_id = record.next_producer_id

    def _feature_level(self, record: FeatureLevelRecord) -> None:
        if self._features is None:
            self._features = dict(self._image.finalized_features)
        self._features[record.name] = record.feature_level

    def _security_record(self, record: SecurityRecord) -> None:
        self._security_records.append(record)

    @property
    def security_changed(self) -> bool:
        return bool(self._security_records)

    # -- copy-on-write helpers --------------------------------------------------------------------

    def _mutable_brokers(self) -> dict[BrokerId, BrokerRegistration]:
        if self._brokers is None:
            self._brokers = dict(self._image.brokers)
        return self._brokers

    def _mutable_topics(self) -> dict[uuid.UUID, TopicImage]:
        if self._topics is None:
            self._topics = dict(self._image.topics_by_id)
        return self._topics

    def _names(self) -> set[str]:
        if self._topic_names is None:
            self._topic_names = set(self._image.topics_by_name)
        return self._topic_names

    def _partitions_of(self, topic_id: uuid.UUID) -> dict[int, PartitionRegistration]:
        staged = self._staged_partitions.get(topic_id)
        if staged is None:
            topic = self._mutable_topics().get(topic_id)
            if topic is None:
                raise ReplayError(f"topic id {topic_id} does not exist")
            staged = self._staged_partitions[topic_id] = dict(topic.partitions)
        if topic_id not in self.created_topic_ids:
            self.changed_topic_ids.add(topic_id)
        return staged

    def _mutable_configs(self, resource_type: ConfigResourceType) -> dict[str, dict[str, str]]:
        if resource_type not in self._configs:
            base = (
                self._image.topic_configs
                if resource_type is ConfigResourceType.TOPIC
                else self._image.broker_configs
            )
            self._configs[resource_type] = {name: dict(values) for name, values in base.items()}
        return self._configs[resource_type]

    # -- result -----------------------------------------------------------------------------------

    def apply(self) -> ClusterImage:
        """The image after every replayed record."""
        image = self._image
        topics_by_id = image.topics_by_id
        topics_by_name = image.topics_by_name
        if self._topics is not None or self._staged_partitions:
            topics = self._mutable_topics()
            for topic_id, partitions in self._staged_partitions.items():
                topic = topics[topic_id]
                topics[topic_id] = TopicImage(topic.name, topic_id, frozen_map(partitions))
            topics_by_id = frozen_map(topics)
            topics_by_name = frozen_map({t.name: t for t in topics.values()})
        security = image.security
        if self._security_records:
            try:
                security = security.replay(self._security_records)
            except ValueError as exc:
                raise ReplayError(str(exc)) from exc
        return ClusterImage(
            cluster_id=self._cluster_id,
            controller_id=self._controller[0],
            controller_epoch=self._controller[1],
            brokers=image.brokers if self._brokers is None else frozen_map(self._brokers),
            topics_by_id=topics_by_id,
            topics_by_name=topics_by_name,
            topic_configs=self._frozen_configs(ConfigResourceType.TOPIC, image.topic_configs),
            broker_configs=self._frozen_configs(ConfigResourceType.BROKER, image.broker_configs),
            next_producer_id=self._next_producer_id,
            security=security,
            finalized_features=image.finalized_features
            if self._features is None
            else frozen_map(self._features),
        )

    def _frozen_configs(
        self, resource_type: ConfigResourceType, unchanged: Mapping[str, Mapping[str, str]]
    ) -> Mapping[str, Mapping[str, str]]:
        configs = self._configs.get(resource_type)
        if configs is None:
            return unchanged
        return frozen_map({name: frozen_map(values) for name, values in configs.items()})


def replay(image: ClusterImage, records: Iterable[MetadataRecord]) -> ClusterImage:
    """The image after `records` (a convenience for one batch)."""
    return MetadataDelta(image).replay_all(records).apply()


_HANDLERS: dict[type[Any], Callable[[MetadataDelta, Any], None]] = {
    ClusterIdRecord: MetadataDelta._cluster_id_record,
    ControllerRecord: MetadataDelta._controller_record,
    RegisterBrokerRecord: MetadataDelta._register_broker,
    BrokerFenceRecord: MetadataDelta._fence_broker,
    UnregisterBrokerRecord: MetadataDelta._unregister_broker,
    TopicRecord: MetadataDelta._topic_record,
    PartitionRecord: MetadataDelta._partition_record,
    PartitionChangeRecord: MetadataDelta._partition_change,
    RemoveTopicRecord: MetadataDelta._remove_topic,
    ConfigRecord: MetadataDelta._config_record,
    ProducerIdsRecord: MetadataDelta._producer_ids,
    FeatureLevelRecord: MetadataDelta._feature_level,
    **dict.fromkeys(SECURITY_RECORD_TYPES, MetadataDelta._security_record),
}
