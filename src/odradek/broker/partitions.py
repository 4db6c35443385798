"""The hosted partitions follow the metadata image (what Kafka's ReplicaManager does on a new image).

`reconcile(manager, image)` hosts every partition the image places on this broker with its
`LeaderAndIsr` (creating logs, becoming leader or follower, adopting a new epoch or ISR), stops
hosting topics the image no longer has (or that were recreated under a new id), and deletes logs on
disk that nothing hosts. It returns the directories to remove, which the caller removes off the
event loop. The image is the only input, so a ZooKeeper-fed image drives it the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from odradek.metadata.features import elr_enabled
from odradek.metadata.image import ClusterImage, PartitionRegistration
from odradek.metadata.records import MetadataRecord, PartitionRecord
from odradek.model.topic_partition import TopicPartition
from odradek.replication.manager import PartitionManager
from odradek.replication.replica_set import LeaderAndIsr


def leader_and_isr(
    registration: PartitionRegistration, eligible_leader_replicas: bool = True
) -> LeaderAndIsr:
    return LeaderAndIsr(
        registration.leader,
        registration.leader_epoch,
        registration.replicas,
        registration.isr,
        registration.elr,
        registration.partition_epoch,
        registration.leader_recovery_state,
        eligible_leader_replicas,
    )


def reconcile(
    manager: PartitionManager, image: ClusterImage, before: ClusterImage | None = None
) -> list[Path]:
    """Bring the hosted partitions in line with `image`; returns directories to remove.

    Given the image `before` the change, only the topics the change touched are looked at (a
    changed topic is a new `TopicImage` object: images share what they do not change), so a change
    costs what it changes, not what the broker hosts (20,000 partitions). Without it (the first
    image at start) every topic is, and logs on disk that nothing hosts are deleted.
    """
    doomed: list[Path] = []
    elr = elr_enabled(image)
    before_topics = before.topics_by_name if before is not None else None
    if before is not None and elr_enabled(before) != elr:
        before_topics = None  # eligible.leader.replicas.version changed: every partition's rule did
    for name in list(manager.by_name):
        topic = image.topic(name)
        if before_topics is not None and topic is not None and before_topics.get(name) is topic:
            continue
        if topic is None or topic.topic_id != manager.topic_id(name):
            doomed += manager.drop_topic(name)
    node = manager.node_id
    for name, topic in image.topics_by_name.items():
        if before_topics is not None and before_topics.get(name) is topic:
            continue
        for index, registration in topic.partitions.items():
            if node in registration.replicas:
                state = leader_and_isr(registration, elr)
                manager.host(TopicPartition(topic.name, index), topic.topic_id, state)
            elif manager.get(topic.name, index) is not None:  # reassigned away from this broker
                tp = TopicPartition(topic.name, index)
                doomed += manager.drop_partition(tp, leader_and_isr(registration, elr))
    if before is None:
        doomed += manager.stray_logs()
    return doomed


def config_changed_topics(before: ClusterImage, after: ClusterImage) -> list[str] | None:
    """Topics whose log configs may differ after the change (None: every topic, a broker config
    changed); new topics are left out (their logs are created with their configs)."""
    if before.broker_configs != after.broker_configs:
        return None
    if before.topic_configs is after.topic_configs:
        return []
    return [
        name
        for name in after.topics_by_name
        if name in before.topics_by_name
        and before.topic_config_overrides(name) != after.topic_config_overrides(name)
    ]


def new_local_partitions(
    manager: PartitionManager, after: ClusterImage, records: Sequence[MetadataRecord]
) -> list[tuple[TopicPartition, PartitionRecord]]:
    """The partitions `records` create on this broker that it does not host yet: the directories a
    change must make before its records are written (Kafka's controller cannot fail on a disk; a
    single node can, so it makes the directories first and writes the records only once they exist)."""
    node = manager.node_id
    created = []
    for record in records:
        if not isinstance(record, PartitionRecord) or node not in record.replicas:
            continue
        topic = after.topics_by_id.get(record.topic_id)
        if topic is None:
            continue  # created and removed by the same change
        tp = TopicPartition(topic.name, record.partition_id)
        if manager.get(tp.topic, tp.partition) is None:
            created.append((tp, record))
    return created
