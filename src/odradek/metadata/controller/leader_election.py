"""What the controller does when brokers come and go: leaders from the ISR, offline replicas out of it.

`elect_leaders(image, static)` looks at every partition and returns the changes the cluster needs,
as Kafka's controller does on a broker change (its partition and replica state machines):

* a partition whose leader is live keeps it; followers that are not live (their broker's ZooKeeper
  session ended) leave the ISR, so acks=all stops waiting for them. The leader itself never leaves:
  the ISR is never emptied;
* a partition whose leader is gone gets the first replica (in assignment order: the preferred one
  first) that is live and in the ISR; the ISR keeps its live members;
* with no live ISR member, the partition has no leader (clients get LEADER_NOT_AVAILABLE) and keeps
  its last ISR, so the last in-sync replica can take over when it comes back. Only when
  `unclean.leader.election.enable` is true for the topic (its override, else the broker's) does a
  live replica outside the ISR become leader, with an ISR of itself: what it lacks is lost.

`elect_controller(image, me)` is what a broker writes to become controller: itself and the next
controller epoch (the write fails if another broker holds `/controller`).

Every leader change bumps the leader epoch (`PartitionChangeRecord` with a leader), which fences
the old leader's requests. Pure: the image and the configs are the only inputs.
"""

from __future__ import annotations

from odradek.metadata.config_resolution import resolve_topic_config
from odradek.metadata.controller.result import ControllerResult
from odradek.metadata.image import ClusterImage, PartitionRegistration, TopicImage
from odradek.metadata.records import NO_LEADER, ControllerRecord, MetadataRecord, PartitionChangeRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.ids import BrokerId


def elect_controller(image: ClusterImage, me: BrokerId) -> ControllerResult[bool]:
    if image.controller_id == me:
        return ControllerResult((), True)
    if image.controller_id != NO_LEADER:
        return ControllerResult((), False)
    return ControllerResult((ControllerRecord(me, image.controller_epoch + 1),), True)


def movable_leaderships(image: ClusterImage, broker: BrokerId) -> int:
    """Partitions `broker` leads that another live ISR member could lead (a controlled shutdown waits
    for this to reach 0)."""
    return sum(
        1
        for topic in image.topics_by_name.values()
        for p in topic.partitions.values()
        if p.leader == broker and any(r != broker and image.is_live(r) for r in p.isr)
    )


def unclean_allowed(image: ClusterImage, static: StaticBrokerConfig, topic: str) -> bool:
    value = resolve_topic_config(
        image, static, image.topic_config_overrides(topic), "unclean.leader.election.enable"
    ).value
    return value is True


def elect_leaders(image: ClusterImage, static: StaticBrokerConfig) -> ControllerResult[int]:
    """Records for every partition that must change; the response counts leader changes."""
    records: list[MetadataRecord] = []
    elected = 0
    for topic in image.topics_by_name.values():
        unclean: bool | None = None
        for index, partition in sorted(topic.partitions.items()):
            if partition.has_leader and image.is_live(partition.leader):
                record = _shrink_offline(image, topic, index, partition)
            else:
                if unclean is None:
                    unclean = unclean_allowed(image, static, topic.name)
                record = _new_leader(image, topic, index, partition, unclean)
                elected += record is not None and record.leader is not None
            if record is not None:
                records.append(record)
    return ControllerResult(tuple(records), elected)


def _shrink_offline(
    image: ClusterImage, topic: TopicImage, index: int, p: PartitionRegistration
) -> PartitionChangeRecord | None:
    isr = tuple(r for r in p.isr if r == p.leader or image.is_live(r))
    if isr == p.isr:
        return None
    return PartitionChangeRecord(topic.topic_id, index, isr=isr)


def _new_leader(
    image: ClusterImage, topic: TopicImage, index: int, p: PartitionRegistration, unclean: bool
) -> PartitionChangeRecord | None:
    live_isr = tuple(r for r in p.isr if image.is_live(r))
    candidates = [r for r in p.replicas if r in live_isr]
    if candidates:
        return PartitionChangeRecord(topic.topic_id, index, leader=candidates[0], isr=live_isr)
    live = [r for r in p.replicas if image.is_live(r)]
    if unclean and live:
        return PartitionChangeRecord(topic.topic_id, index, leader=live[0], isr=(live[0],))
    if p.has_leader:  # the leader died with no live ISR member to take over: keep the last ISR
        return PartitionChangeRecord(topic.topic_id, index, leader=BrokerId(NO_LEADER))
    return None
