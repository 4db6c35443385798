"""`records_between(before, after)`: records that turn one image into another (pure).

A ZooKeeper store learns of other brokers' changes as a new image read from znodes, not as the
records that made it; publishers hear such a change with these records instead, so a change seen
through a watch reads like one made here: `replay(before, records_between(before, after)) == after`
(ACLs, SCRAM credentials and quotas excepted: a change of those is published with the images only).
"""

from __future__ import annotations

from collections.abc import Mapping

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import (
    ClusterIdRecord,
    ConfigRecord,
    ControllerRecord,
    FeatureLevelRecord,
    MetadataRecord,
    ProducerIdsRecord,
    RegisterBrokerRecord,
    RemoveTopicRecord,
    TopicRecord,
    UnregisterBrokerRecord,
)
from odradek.model.ids import BrokerId


def records_between(before: ClusterImage, after: ClusterImage) -> tuple[MetadataRecord, ...]:
    out: list[MetadataRecord] = []
    if after.cluster_id is not None and after.cluster_id != before.cluster_id:
        out.append(ClusterIdRecord(after.cluster_id))
    if (after.controller_id, after.controller_epoch) != (before.controller_id, before.controller_epoch):
        out.append(ControllerRecord(after.controller_id, after.controller_epoch))
    for broker_id in before.brokers.keys() - after.brokers.keys():
        out.append(UnregisterBrokerRecord(BrokerId(broker_id)))
    for broker_id, b in sorted(after.brokers.items()):
        if before.brokers.get(broker_id) != b:
            out.append(
                RegisterBrokerRecord(
                    b.broker_id, b.host, b.port, b.rack, b.fenced, b.broker_epoch, b.endpoints
                )
            )
    out += _config_changes(ConfigResourceType.BROKER, before.broker_configs, after.broker_configs)
    for topic_id in before.topics_by_id:
        if topic_id not in after.topics_by_id:
            out.append(RemoveTopicRecord(topic_id))
    removed = {t.name for i, t in before.topics_by_id.items() if i not in after.topics_by_id}
    old_configs = {n: c for n, c in before.topic_configs.items() if n not in removed}
    out += _config_changes(ConfigResourceType.TOPIC, old_configs, after.topic_configs)
    for topic_id, topic in sorted(after.topics_by_id.items(), key=lambda kv: kv[1].name):
        old = before.topics_by_id.get(topic_id)
        if old is topic:  # shared with the last image: unchanged
            continue
        if old is None:
            out.append(TopicRecord(topic.name, topic_id))
        for index, p in sorted(topic.partitions.items()):
            if old is None or old.partitions.get(index) != p:
                out.append(p.to_record(topic_id, index))
    if after.next_producer_id != before.next_producer_id:
        out.append(ProducerIdsRecord(BrokerId(-1), after.next_producer_id))
    for name, level in sorted(after.finalized_features.items()):
        if before.finalized_features.get(name) != level:
            out.append(FeatureLevelRecord(name, level))
    return tuple(out)


def _config_changes(
    resource_type: ConfigResourceType,
    old: Mapping[str, Mapping[str, str]],
    new: Mapping[str, Mapping[str, str]],
) -> list[MetadataRecord]:
    out: list[MetadataRecord] = []
    for resource in sorted(old.keys() | new.keys()):
        o, n = old.get(resource, _NONE), new.get(resource, _NONE)
        for key in sorted(o.keys() | n.keys()):
            if o.get(key) != n.get(key):
                out.append(ConfigRecord(resource_type, resource, key, n.get(key)))
    return out


_NONE: Mapping[str, str] = {}
