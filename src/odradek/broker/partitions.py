"""The hosted partitions follow the metadata image (what Kafka's ReplicaManager does on a new image).

`reconcile(manager, image)` hosts every partition the image places on this broker with its
`LeaderAndIsr` (creating logs, becoming leader or follower, adopting a new epoch or ISR), stops
hosting topics the image no longer has (or that were recreated under a new id), and deletes logs on
disk that nothing hosts. It returns the directories to remove, which the caller removes off the
event loop. The image is the only input, so a ZooKeeper-fed image drives it the same way.
"""

from __future__ import annotations

from pathlib import Path

from odradek.metadata.image import ClusterImage, PartitionRegistration
from odradek.model.topic_partition import TopicPartition
from odradek.replication.manager import PartitionManager
from odradek.replication.replica_set import LeaderAndIsr


def leader_and_isr(registration: PartitionRegistration) -> LeaderAndIsr:
    return LeaderAndIsr(
        registration.leader,
        registration.leader_epoch,
        registration.replicas,
        registration.isr,
        registration.elr,
        registration.partition_epoch,
    )


def reconcile(manager: PartitionManager, image: ClusterImage) -> list[Path]:
    """Bring the hosted partitions in line with `image`; returns directories to remove."""
    doomed: list[Path] = []
    for name in list(manager.by_name):
        topic = image.topic(name)
        if topic is None or topic.topic_id != manager.topic_id(name):
            doomed += manager.drop_topic(name)
    node = manager.node_id
    for topic in image.topics_by_name.values():
        for index, registration in topic.partitions.items():
            if node in registration.replicas:
                manager.host(TopicPartition(topic.name, index), topic.topic_id, leader_and_isr(registration))
    doomed += manager.stray_logs()
    return doomed
