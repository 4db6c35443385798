"""Partition reassignment: AlterPartitionReassignments and ListPartitionReassignments (pure).

A reassignment moves a partition to a new replica list in Kafka's three steps:

1. the partition's replicas become the target followed by the replicas being removed, with
   `adding_replicas` (target minus current) and `removing_replicas` (current minus target) set;
   the added brokers host the partition and fetch from its leader;
2. each added replica that catches up joins the ISR (the leader's ISR expansion);
3. once every added replica is in the ISR, the change that stores that ISR also completes the
   reassignment (`partition_change`): the removed replicas leave the replicas and the ISR, the
   leader moves when it was one of them, and the leader epoch is bumped to fence them.

A reassignment that only reorders replicas, or only removes some, completes at once when the ISR
allows. `replicas` None cancels a reassignment in progress: the added replicas go, the removed
ones stay (NO_REASSIGNMENT_IN_PROGRESS when there is none; INVALID_REPLICA_ASSIGNMENT when the
revert would leave no in-sync replica, unless the topic allows unclean election). Errors are
Kafka's: UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT (empty list, duplicate or
unregistered broker), INVALID_REPLICATION_FACTOR (v1 with `allow_replication_factor_change`
false and a different replica count).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from odradek.metadata.config_resolution import resolve_topic_config
from odradek.metadata.controller.partition_change import ONLINE, UNCLEAN, partition_change
from odradek.metadata.controller.result import ApiError, ControllerResult
from odradek.metadata.features import elr_enabled
from odradek.metadata.image import ClusterImage, PartitionRegistration
from odradek.metadata.placement import manual_assignment_error
from odradek.metadata.records import MetadataRecord, PartitionChangeRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId

PartitionKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class OngoingReassignment:
    topic: str
    partition: int
    replicas: tuple[BrokerId, ...]
    adding: tuple[BrokerId, ...]
    removing: tuple[BrokerId, ...]


def alter_reassignments(
    image: ClusterImage,
    static: StaticBrokerConfig,
    wanted: Sequence[tuple[str, int, Sequence[int] | None]],
    *,
    allow_replication_factor_change: bool = True,
) -> ControllerResult[dict[PartitionKey, ApiError]]:
    """Per (topic, partition, target replicas or None to cancel): the outcome; the records of
    every accepted one."""
    records: list[MetadataRecord] = []
    results: dict[PartitionKey, ApiError] = {}
    for topic_name, index, target in wanted:
        topic = image.topic(topic_name)
        p = None if topic is None else topic.partitions.get(index)
        if topic is None or p is None:
            results[(topic_name, index)] = ApiError(
                ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"Unable to find partition {topic_name}:{index}."
            )
            continue
        min_isr, unclean = _settings(image, static, topic_name)
        if target is None:
            outcome = _cancel(image, topic.topic_id, topic_name, index, p, min_isr, unclean)
        else:
            outcome = _change(
                image, topic.topic_id, index, p, tuple(target), min_isr, allow_replication_factor_change
            )
        if isinstance(outcome, ApiError):
            results[(topic_name, index)] = outcome
            continue
        if outcome is not None:
            records.append(outcome)
        results[(topic_name, index)] = ApiError(ErrorCode.NO_ERROR)
    return ControllerResult(tuple(records), results)


def _settings(image: ClusterImage, static: StaticBrokerConfig, topic: str) -> tuple[int, bool]:
    overrides = image.topic_config_overrides(topic)
    min_isr = resolve_topic_config(image, static, overrides, "min.insync.replicas").value
    unclean = resolve_topic_config(image, static, overrides, "unclean.leader.election.enable").value
    assert isinstance(min_isr, int)
    return min_isr, unclean is True


def _change(
    image: ClusterImage,
    topic_id: uuid.UUID,
    index: int,
    p: PartitionRegistration,
    target: tuple[int, ...],
    min_isr: int,
    allow_rf_change: bool,
) -> PartitionChangeRecord | ApiError | None:
    problem = manual_assignment_error(image, target, None)
    if problem is not None:
        return ApiError(ErrorCode.INVALID_REPLICATION_ASSIGNMENT, problem)
    original = tuple(r for r in p.replicas if r not in p.adding_replicas)
    if not allow_rf_change and len(target) != len(original):
        return ApiError(
            ErrorCode.INVALID_REPLICATION_FACTOR,
            "The replication factor is changed from "
            f"{len(original)} to {len(target)} but allowReplicationFactorChange is false",
        )
    wanted = tuple(BrokerId(r) for r in target)
    removing = tuple(r for r in p.replicas if r not in wanted)
    adding = tuple(r for r in wanted if r not in p.replicas)
    return partition_change(
        p,
        topic_id,
        index,
        min_isr=min_isr,
        acceptable=image.is_live,
        target_replicas=wanted + removing,
        target_adding=adding,
        target_removing=removing,
        elr_enabled=elr_enabled(image),
    )


def _cancel(
    image: ClusterImage,
    topic_id: uuid.UUID,
    topic: str,
    index: int,
    p: PartitionRegistration,
    min_isr: int,
    unclean: bool,
) -> PartitionChangeRecord | ApiError | None:
    if not p.reassigning:
        return ApiError(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, "No partition reassignment is in progress.")
    replicas = tuple(r for r in p.replicas if r not in p.adding_replicas)
    isr = tuple(r for r in p.isr if r not in p.adding_replicas)
    if not isr and not unclean:
        return ApiError(
            ErrorCode.INVALID_REPLICATION_ASSIGNMENT,
            f"Unable to revert partition assignment for {topic}:{index} because it would require an "
            "unclean leader election.",
        )
    return partition_change(
        p,
        topic_id,
        index,
        min_isr=min_isr,
        acceptable=image.is_live,
        target_isr=isr,
        target_replicas=replicas,
        target_adding=(),
        target_removing=(),
        election=UNCLEAN if unclean else ONLINE,
        elr_enabled=elr_enabled(image),
    )


def list_reassignments(
    image: ClusterImage, wanted: Iterable[tuple[str, Sequence[int]]] | None
) -> list[OngoingReassignment]:
    """Reassignments in progress: of every partition (None), or of those asked for (unknown ones
    are left out, as Kafka does)."""
    out: list[OngoingReassignment] = []
    if wanted is None:
        keys = [(t.name, i) for t in image.topics_by_name.values() for i in sorted(t.partitions)]
    else:
        keys = [(name, i) for name, indexes in wanted for i in indexes]
    for name, index in keys:
        topic = image.topic(name)
        p = None if topic is None else topic.partitions.get(index)
        if p is not None and p.reassigning:
            out.append(OngoingReassignment(name, index, p.replicas, p.adding_replicas, p.removing_replicas))
    return out
