"""CreatePartitions: grow a topic to a new partition count.

The count must increase (INVALID_PARTITIONS otherwise, with Kafka's two messages for "same" and
"fewer"); manual assignments, when given, must cover exactly the new partitions and match the
topic's replication factor (INVALID_REPLICATION_ASSIGNMENT); automatic placement continues the
existing layout (see `placement`) and fails with INVALID_REPLICATION_FACTOR when too few brokers
are live. Each new partition is one PartitionRecord. Validate-only requests get the same results
and no records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from odradek.metadata.controller.result import ApiError, ControllerResult, default_error, invalid_request
from odradek.metadata.controller.topics import MAX_RECORDS_PER_USER_OP, TOO_LARGE, new_partition_record
from odradek.metadata.image import ClusterImage, TopicImage
from odradek.metadata.placement import PlacementError, manual_assignment_error, place_new_partitions
from odradek.metadata.records import MetadataRecord
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId


@dataclass(frozen=True, slots=True)
class CreatePartitionsTopic:
    name: str
    count: int
    assignments: tuple[tuple[int, ...], ...] | None = None
    """Replica lists of the new partitions, in order; None for automatic placement."""


@dataclass(frozen=True, slots=True)
class CreatePartitionsResult:
    name: str
    error_code: ErrorCode
    error_message: str | None


def create_partitions(
    image: ClusterImage, topics: Sequence[CreatePartitionsTopic], *, validate_only: bool
) -> ControllerResult[tuple[CreatePartitionsResult, ...]]:
    counts = Counter(t.name for t in topics)
    records: list[MetadataRecord] = []
    results: list[CreatePartitionsResult] = []
    firsts = {t.name: t for t in reversed(topics)}
    for name in dict.fromkeys(t.name for t in topics):
        request = firsts[name]
        outcome = invalid_request("Duplicate topic name.") if counts[name] > 1 else _grow(image, request)
        if isinstance(outcome, ApiError):
            results.append(CreatePartitionsResult(name, outcome.code, outcome.message))
            continue
        if len(records) + len(outcome) > MAX_RECORDS_PER_USER_OP:
            unique = dict.fromkeys(t.name for t in topics)
            return ControllerResult(
                (), tuple(CreatePartitionsResult(n, TOO_LARGE.code, TOO_LARGE.message) for n in unique)
            )
        records.extend(outcome)
        results.append(CreatePartitionsResult(name, ErrorCode.NO_ERROR, None))
    return ControllerResult(() if validate_only else tuple(records), tuple(results))


def _grow(image: ClusterImage, request: CreatePartitionsTopic) -> ApiError | list[MetadataRecord]:
    topic = image.topic(request.name)
    if topic is None:
        return default_error(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
    current = len(topic.partitions)
    if request.count == current:
        return ApiError(ErrorCode.INVALID_PARTITIONS, f"Topic already has {current} partition(s).")
    if request.count < current:
        return ApiError(
            ErrorCode.INVALID_PARTITIONS,
            f"The topic {topic.name} currently has {current} partition(s); "
            f"{request.count} would not be an increase.",
        )
    additional = request.count - current
    if additional > MAX_RECORDS_PER_USER_OP:
        return TOO_LARGE
    replicas = _new_replicas(image, topic, request, additional)
    if isinstance(replicas, ApiError):
        return replicas
    return [new_partition_record(image, topic.topic_id, current + i, r) for i, r in enumerate(replicas)]


def _new_replicas(
    image: ClusterImage, topic: TopicImage, request: CreatePartitionsTopic, additional: int
) -> ApiError | list[tuple[BrokerId, ...]]:
    replication_factor = topic.replication_factor
    if request.assignments is None:
        existing = [topic.partitions[i].replicas for i in range(len(topic.partitions))]
        try:
            return place_new_partitions(image, existing, additional, replication_factor)
        except PlacementError as e:
            return ApiError(e.error_code, e.message)
    if len(request.assignments) != additional:
        return ApiError(
            ErrorCode.INVALID_REPLICATION_ASSIGNMENT,
            f"Attempted to add {additional} additional partition(s), but only "
            f"{len(request.assignments)} assignment(s) were specified.",
        )
    for offset, assignment in enumerate(request.assignments):
        problem = manual_assignment_error(image, assignment, replication_factor)
        if problem is None and not any(image.is_live(b) for b in assignment):
            problem = (
                "All brokers specified in the manual partition assignment for partition "
                f"{len(topic.partitions) + offset} are fenced or in controlled shutdown."
            )
        if problem is not None:
            return ApiError(ErrorCode.INVALID_REPLICATION_ASSIGNMENT, problem)
    return [tuple(BrokerId(b) for b in assignment) for assignment in request.assignments]
