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

`elect_on_request` is the ElectLeaders API (preferred or unclean, on the partitions asked for);
`imbalanced_leaderships` what automatic leader rebalancing hands back to preferred replicas.

`elect_controller(image, me)` is what a broker writes to become controller: itself and the next
controller epoch (the write fails if another broker holds `/controller`).

Every leader change bumps the leader epoch (`PartitionChangeRecord` with a leader), which fences
the old leader's requests. Pure: the image and the configs are the only inputs.
"""

from __future__ import annotations

from collections.abc import Iterable

from odradek.metadata.config_resolution import resolve_topic_config
from odradek.metadata.controller.result import ApiError, ControllerResult
from odradek.metadata.image import ClusterImage, PartitionRegistration, TopicImage
from odradek.metadata.records import NO_LEADER, ControllerRecord, MetadataRecord, PartitionChangeRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.errors import ErrorCode
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


PREFERRED = 0
UNCLEAN = 1
PartitionKey = tuple[str, int]


def elect_on_request(
    image: ClusterImage, election_type: int, wanted: Iterable[PartitionKey] | None
) -> ControllerResult[dict[PartitionKey, ApiError]]:
    """ElectLeaders: per partition, the election's outcome (Kafka's errors).

    Preferred (0): the first replica becomes leader when it is live and in the ISR
    (PREFERRED_LEADER_NOT_AVAILABLE otherwise; ELECTION_NOT_NEEDED when it leads already).
    Unclean (1): a partition without a live leader gets its first live ISR member, else its first
    live replica with an ISR of itself (ELIGIBLE_LEADERS_NOT_AVAILABLE when none is live;
    ELECTION_NOT_NEEDED when it has a live leader). `wanted` None: every partition, and only the
    partitions where an election was needed are reported, as Kafka does.
    """
    everything = wanted is None
    keys = (
        [(t.name, p) for t in image.topics_by_name.values() for p in sorted(t.partitions)]
        if wanted is None
        else list(dict.fromkeys(wanted))
    )
    records: list[MetadataRecord] = []
    results: dict[PartitionKey, ApiError] = {}
    for key in keys:
        topic = image.topic(key[0])
        partition = None if topic is None else topic.partitions.get(key[1])
        if topic is None or partition is None:
            results[key] = ApiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The partition does not exist.")
            continue
        if election_type == PREFERRED:
            outcome = _preferred(image, topic, key[1], partition)
        else:
            outcome = _unclean(image, topic, key[1], partition)
        if isinstance(outcome, ApiError):
            if not (everything and outcome.code is ErrorCode.ELECTION_NOT_NEEDED):
                results[key] = outcome
            continue
        records.append(outcome)
        results[key] = ApiError(ErrorCode.NO_ERROR)
    return ControllerResult(tuple(records), results)


def _preferred(
    image: ClusterImage, topic: TopicImage, index: int, p: PartitionRegistration
) -> PartitionChangeRecord | ApiError:
    preferred = p.replicas[0]
    if p.leader == preferred and image.is_live(preferred):
        return ApiError(ErrorCode.ELECTION_NOT_NEEDED, "Leader election not needed for topic partition.")
    if not image.is_live(preferred) or preferred not in p.isr:
        return ApiError(
            ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
            f"Failed to elect leader for partition {topic.name}-{index} under strategy "
            "PreferredReplicaPartitionLeaderElectionStrategy",
        )
    return PartitionChangeRecord(topic.topic_id, index, leader=preferred)


def _unclean(
    image: ClusterImage, topic: TopicImage, index: int, p: PartitionRegistration
) -> PartitionChangeRecord | ApiError:
    if p.has_leader and image.is_live(p.leader):
        return ApiError(ErrorCode.ELECTION_NOT_NEEDED, "Leader election not needed for topic partition.")
    record = _new_leader(image, topic, index, p, unclean=True)
    if record is None or record.leader is None or record.leader == NO_LEADER:
        return ApiError(
            ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
            f"Failed to elect leader for partition {topic.name}-{index} under strategy "
            "UncleanPartitionLeaderElectionStrategy",
        )
    return record


def imbalanced_leaderships(image: ClusterImage, percentage: int) -> list[PartitionKey]:
    """Automatic leader rebalancing (`auto.leader.rebalance.enable`): on every broker whose share of
    partitions led by someone other than their preferred replica is above
    `leader.imbalance.per.broker.percentage`, the partitions to give back to it (it must be live and
    in the ISR), as Kafka's controller checks every `leader.imbalance.check.interval.seconds`."""
    preferred_of: dict[int, list[tuple[PartitionKey, PartitionRegistration]]] = {}
    for topic in image.topics_by_name.values():
        for index, p in topic.partitions.items():
            if p.replicas:
                preferred_of.setdefault(p.replicas[0], []).append(((topic.name, index), p))
    moves: list[PartitionKey] = []
    for broker, partitions in sorted(preferred_of.items()):
        if not image.is_live(broker):
            continue
        elsewhere = [(key, p) for key, p in partitions if p.leader != broker]
        if len(elsewhere) * 100 > percentage * len(partitions):
            moves += [key for key, p in elsewhere if broker in p.isr]
    return sorted(moves)
