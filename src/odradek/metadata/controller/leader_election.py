"""What the controller does when brokers come and go: leaders from the ISR, offline replicas out of it.

`elect_leaders(image, static)` looks at every partition and returns the changes the cluster needs,
as Kafka's controller does on a broker change (its partition and replica state machines):

* a partition whose leader is live keeps it; members of the ISR that are not live (their broker's
  ZooKeeper session ended, or it is fenced in a controlled shutdown) leave it, so acks=all stops
  waiting for them; while the ISR is below `min.insync.replicas` they go to the eligible leader
  replicas (ELR, KIP-966: `partition_change.py`). A dead leader leaves the ISR too, which may empty;
* a partition without a live leader gets the first replica (in assignment order: the preferred one
  first) that is live and in the ISR, or, with the ISR empty, in the ELR; with neither, the last
  known leader when it is back (an unclean election); only when `unclean.leader.election.enable` is
  true for the topic (its override, else the broker's) does any live replica outside them become
  leader, with an ISR of itself: what it lacks is lost;
* `unclean_shutdown_changes`: a broker back from an unclean shutdown leaves every ISR and ELR.

`elect_on_request` is the ElectLeaders API (preferred or unclean, on the partitions asked for);
`imbalanced_leaderships` what automatic leader rebalancing hands back to preferred replicas.

`elect_controller(image, me)` is what a broker writes to become controller: itself and the next
controller epoch (the write fails if another broker holds `/controller`).

Every leader change bumps the leader epoch (`PartitionChangeRecord` with a leader), which fences
the old leader's requests. Pure: the image and the configs are the only inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from odradek.metadata.config_resolution import resolve_topic_config
from odradek.metadata.controller.partition_change import ONLINE, partition_change
from odradek.metadata.controller.partition_change import UNCLEAN as UNCLEAN_ELECTION
from odradek.metadata.controller.result import ApiError, ControllerResult
from odradek.metadata.features import elr_enabled
from odradek.metadata.image import ClusterImage, PartitionRegistration, TopicImage
from odradek.metadata.records import NO_LEADER, ControllerRecord, MetadataRecord, PartitionChangeRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId

log = logging.getLogger("odradek.metadata.controller")


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
    elr = elr_enabled(image)
    for topic in image.topics_by_name.values():
        settings: tuple[int, int] | None = None
        for index, partition in sorted(topic.partitions.items()):
            if _settled(image, partition):
                continue
            if settings is None:
                settings = _election_settings(image, static, topic.name)
            record = partition_change(
                partition,
                topic.topic_id,
                index,
                min_isr=settings[0],
                acceptable=image.is_live,
                target_isr=tuple(r for r in partition.isr if image.is_live(r)),
                election=settings[1],
                elr_enabled=elr,
            )
            if record is not None:
                records.append(record)
                if record.leader is not None and record.leader != NO_LEADER:
                    elected += 1
                    _log_unclean(topic.name, index, partition, record)
    return ControllerResult(tuple(records), elected)


def unclean_shutdown_changes(
    image: ClusterImage, static: StaticBrokerConfig, broker: BrokerId
) -> tuple[MetadataRecord, ...]:
    """A broker back from an unclean shutdown (its log directories had no clean-shutdown marker:
    it may have lost an unflushed tail) leaves every ISR and ELR it is in (KIP-966), before it
    registers; leaderships it held move as after its death. Nothing with
    `eligible.leader.replicas.version` 0 (before KIP-966 it stays in the ISRs, as in Kafka)."""
    if not elr_enabled(image):
        return ()
    return _changes(
        image,
        static,
        lambda p: broker in p.isr or broker in p.elr,
        acceptable=lambda r: r != broker and image.is_live(r),
        target_isr=lambda p: tuple(r for r in p.isr if r != broker),
        unclean_shutdown=(broker,),
    )


def elr_cleared_changes(image: ClusterImage, static: StaticBrokerConfig) -> tuple[MetadataRecord, ...]:
    """What turning `eligible.leader.replicas.version` off to 0 does to the partitions: every ELR and
    last known ELR is cleared, as Kafka's controller does. A partition whose ISR is empty gets its
    ELR (else its last known leader) back as its ISR, the state it would have had before KIP-966
    (the ISR never empties: its last members stay), and is led by one of them that is live."""
    return _changes(
        image, static, lambda p: bool(p.elr or p.last_known_elr), acceptable=image.is_live, elr_enabled=False
    )


def _changes(
    image: ClusterImage,
    static: StaticBrokerConfig,
    touched: Callable[[PartitionRegistration], bool],
    *,
    acceptable: Callable[[int], bool],
    target_isr: Callable[[PartitionRegistration], tuple[BrokerId, ...] | None] = lambda p: None,
    unclean_shutdown: tuple[BrokerId, ...] = (),
    elr_enabled: bool = True,
) -> tuple[MetadataRecord, ...]:
    """`partition_change` of every partition `touched` selects, with its topic's settings."""
    records: list[MetadataRecord] = []
    for topic in image.topics_by_name.values():
        for index, partition in sorted(topic.partitions.items()):
            if not touched(partition):
                continue
            min_isr, election = _election_settings(image, static, topic.name)
            record = partition_change(
                partition,
                topic.topic_id,
                index,
                min_isr=min_isr,
                acceptable=acceptable,
                target_isr=target_isr(partition),
                election=election,
                unclean_shutdown=unclean_shutdown,
                elr_enabled=elr_enabled,
            )
            if record is not None:
                records.append(record)
    return tuple(records)


def _settled(image: ClusterImage, p: PartitionRegistration) -> bool:
    """Nothing for the controller to do: a live leader, a live ISR, no ELR state to clear."""
    return (
        p.has_leader
        and not p.reassigning
        and not p.elr
        and not p.last_known_elr
        and image.is_live(p.leader)
        and all(image.is_live(r) for r in p.isr)
    )


def _election_settings(image: ClusterImage, static: StaticBrokerConfig, topic: str) -> tuple[int, int]:
    """(min.insync.replicas, election type) of a topic."""
    min_isr = resolve_topic_config(
        image, static, image.topic_config_overrides(topic), "min.insync.replicas"
    ).value
    assert isinstance(min_isr, int)
    return min_isr, UNCLEAN_ELECTION if unclean_allowed(image, static, topic) else ONLINE


def _log_unclean(
    topic: str, index: int, before: PartitionRegistration, record: PartitionChangeRecord
) -> None:
    leader = record.leader
    if (
        leader is not None
        and record.isr == (leader,)
        and leader not in before.isr
        and leader not in before.elr
    ):
        log.warning(
            "unclean leader election: %s-%d is led by %d, outside the ISR %s and the ELR %s; "
            "records it lacks are lost; the partition is RECOVERING until its leader has recovered",
            topic,
            index,
            leader,
            list(before.isr),
            list(before.elr),
        )


PREFERRED = 0
UNCLEAN = 1
PartitionKey = tuple[str, int]


def elect_on_request(
    image: ClusterImage, election_type: int, wanted: Iterable[PartitionKey] | None, static: StaticBrokerConfig
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
            outcome = _unclean(image, topic, key[1], partition, _election_settings(image, static, key[0])[0])
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
    image: ClusterImage, topic: TopicImage, index: int, p: PartitionRegistration, min_isr: int
) -> PartitionChangeRecord | ApiError:
    if p.has_leader and image.is_live(p.leader):
        return ApiError(ErrorCode.ELECTION_NOT_NEEDED, "Leader election not needed for topic partition.")
    record = partition_change(
        p,
        topic.topic_id,
        index,
        min_isr=min_isr,
        acceptable=image.is_live,
        target_isr=tuple(r for r in p.isr if image.is_live(r)),
        election=UNCLEAN_ELECTION,
        elr_enabled=elr_enabled(image),
    )
    if record is None or record.leader is None or record.leader == NO_LEADER:
        return ApiError(
            ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE,
            f"Failed to elect leader for partition {topic.name}-{index} under strategy "
            "UncleanPartitionLeaderElectionStrategy",
        )
    _log_unclean(topic.name, index, p, record)
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
