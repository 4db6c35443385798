"""CreateTopics and DeleteTopics as pure functions of the image.

CreateTopics checks each topic in Kafka's order and reports the first failure: a name given twice
(INVALID_REQUEST), an illegal name or one colliding with an existing topic or with an earlier topic
of the same request over '.' versus '_' (INVALID_TOPIC_EXCEPTION), an existing topic
(TOPIC_ALREADY_EXISTS), bad configs (INVALID_CONFIG), a bad manual assignment
(INVALID_REQUEST / INVALID_REPLICATION_ASSIGNMENT), a bad replication factor or partition count
(INVALID_REPLICATION_FACTOR / INVALID_PARTITIONS), then the policy (POLICY_VIOLATION). A created
topic gets a fresh random topic id, its ConfigRecords (sorted by name) and one PartitionRecord per
partition, whose ISR is its live replicas and whose leader is the first of them. Like Kafka, an
operation that would write more than 10,000 records fails as a whole with POLICY_VIOLATION.
Validate-only requests get the same results and no records.
"""

from __future__ import annotations

import base64
import itertools
import random
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from odradek.metadata.config_resolution import broker_config_value, resolve_topic_configs
from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.controller.config_checks import check_topic_overrides
from odradek.metadata.controller.result import (
    NO_ERROR,
    ApiError,
    ControllerResult,
    default_error,
    invalid_config,
    invalid_request,
)
from odradek.metadata.describe_configs import ConfigEntry, config_entry
from odradek.metadata.image import ClusterImage
from odradek.metadata.placement import PlacementError, manual_assignment_error, place_new_topic
from odradek.metadata.records import (
    ConfigRecord,
    MetadataRecord,
    PartitionRecord,
    RemoveTopicRecord,
    TopicRecord,
)
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.metadata.topic_names import colliding_topic, collision_error, topic_name_error
from odradek.model.errors import ErrorCode
from odradek.model.ids import BrokerId
from odradek.model.topic_partition import ZERO_UUID

MAX_RECORDS_PER_USER_OP = 10_000
TOO_LARGE = ApiError(ErrorCode.POLICY_VIOLATION, "Unable to perform excessively large batch operation.")


@dataclass(frozen=True, slots=True)
class CreatableReplicaAssignment:
    partition_index: int
    broker_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CreatableTopic:
    name: str
    num_partitions: int = -1
    replication_factor: int = -1
    assignments: tuple[CreatableReplicaAssignment, ...] = ()
    configs: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, slots=True)
class CreateTopicResult:
    """What CreateTopics v5+ returns for one topic (`configs` None on error)."""

    name: str
    topic_id: uuid.UUID
    error_code: ErrorCode
    error_message: str | None
    num_partitions: int = -1
    replication_factor: int = -1
    configs: tuple[ConfigEntry, ...] | None = None


@dataclass(frozen=True, slots=True)
class CreateTopicPolicyRequest:
    """What a create-topic policy sees: counts for automatic placement, or the manual assignment."""

    name: str
    num_partitions: int | None
    replication_factor: int | None
    assignments: Mapping[int, tuple[int, ...]] | None
    configs: Mapping[str, str]


CreateTopicPolicy = Callable[[CreateTopicPolicyRequest], str | None]
"""Returns a violation message to refuse the topic, or None to accept it."""


def new_topic_id(rng: random.Random, taken: Collection[uuid.UUID]) -> uuid.UUID:
    """A random (version 4) topic id; like Kafka, never 0, 1, or one whose base64 form starts with '-'."""
    while True:
        candidate = uuid.UUID(bytes=rng.randbytes(16), version=4)
        if candidate.int in (0, 1) or candidate in taken:
            continue
        if base64.urlsafe_b64encode(candidate.bytes).startswith(b"-"):
            continue
        return candidate


def create_topics(
    image: ClusterImage,
    static: StaticBrokerConfig,
    topics: Sequence[CreatableTopic],
    *,
    validate_only: bool,
    rng: random.Random,
    policy: CreateTopicPolicy | None = None,
) -> ControllerResult[tuple[CreateTopicResult, ...]]:
    counts = Counter(t.name for t in topics)
    firsts = {t.name: t for t in reversed(topics)}
    records: list[MetadataRecord] = []
    results: list[CreateTopicResult] = []
    created: list[str] = []
    taken_ids = set(image.topics_by_id)
    too_large = False
    for topic in (firsts[name] for name in dict.fromkeys(t.name for t in topics)):
        if counts[topic.name] > 1:
            results.append(_failure(topic.name, invalid_request("Duplicate topic name.")))
            continue
        error = _check_new_topic(image, static, topic, created)
        if error is not None:
            results.append(_failure(topic.name, error))
            continue
        overrides = {name: value for name, value in topic.configs if value is not None}
        placed = _replicas(image, static, topic, rng)
        if placed is TOO_LARGE:
            too_large = True
            break
        if isinstance(placed, ApiError):
            results.append(_failure(topic.name, placed))
            continue
        replicas, policy_request = placed
        if len(records) + 1 + len(overrides) + len(replicas) > MAX_RECORDS_PER_USER_OP:
            too_large = True
            break
        if policy is not None:
            violation = policy(CreateTopicPolicyRequest(topic.name, *policy_request, overrides))
            if violation is not None:
                results.append(_failure(topic.name, ApiError(ErrorCode.POLICY_VIOLATION, violation)))
                continue
        topic_id = new_topic_id(rng, taken_ids)
        taken_ids.add(topic_id)
        created.append(topic.name)
        records.extend(_topic_records(image, topic.name, topic_id, overrides, replicas))
        configs = resolve_topic_configs(image, static, overrides)
        entries = tuple(
            config_entry(r, read_only=False, include_synonyms=False, include_documentation=False)
            for r in configs.values()
        )
        results.append(
            CreateTopicResult(
                topic.name, topic_id, ErrorCode.NO_ERROR, None, len(replicas), len(replicas[0]), entries
            )
        )
    if too_large:
        unique = dict.fromkeys(t.name for t in topics)
        return ControllerResult((), tuple(_failure(name, TOO_LARGE) for name in unique))
    return ControllerResult(() if validate_only else tuple(records), tuple(results))


def _failure(name: str, error: ApiError) -> CreateTopicResult:
    return CreateTopicResult(name, ZERO_UUID, error.code, error.message)


def _check_new_topic(
    image: ClusterImage, static: StaticBrokerConfig, topic: CreatableTopic, created: list[str]
) -> ApiError | None:
    name_error = topic_name_error(topic.name)
    if name_error is not None:
        return ApiError(ErrorCode.INVALID_TOPIC_EXCEPTION, name_error)
    other = colliding_topic(topic.name, itertools.chain(image.topics_by_name, created))
    if other is not None and image.topic(topic.name) is None:
        return ApiError(ErrorCode.INVALID_TOPIC_EXCEPTION, collision_error(topic.name, other))
    if image.topic(topic.name) is not None:
        return ApiError(ErrorCode.TOPIC_ALREADY_EXISTS, f"Topic '{topic.name}' already exists.")
    nulls = [name for name, value in topic.configs if value is None]
    if nulls:
        return invalid_config("Null value not supported for topic configs: " + ",".join(nulls))
    return check_topic_overrides(image, static, dict(topic.configs))


def _replicas(
    image: ClusterImage, static: StaticBrokerConfig, topic: CreatableTopic, rng: random.Random
) -> (
    tuple[list[tuple[BrokerId, ...]], tuple[int | None, int | None, dict[int, tuple[int, ...]] | None]]
    | ApiError
):
    """The replica lists of the new partitions and what the policy is told, or the error."""
    if topic.assignments:
        if topic.replication_factor != -1:
            return invalid_request(
                "A manual partition assignment was specified, but replication factor was not set to -1."
            )
        if topic.num_partitions != -1:
            return invalid_request(
                "A manual partition assignment was specified, but numPartitions was not set to -1."
            )
        manual: dict[int, tuple[int, ...]] = {}
        replication_factor: int | None = None
        for assignment in topic.assignments:
            index = assignment.partition_index
            if index in manual:
                return _bad_assignment(f"Found multiple manual partition assignments for partition {index}")
            problem = manual_assignment_error(image, assignment.broker_ids, replication_factor)
            if problem is not None:
                return _bad_assignment(problem)
            replication_factor = len(assignment.broker_ids)
            if not any(image.is_live(b) for b in assignment.broker_ids):
                return _bad_assignment(
                    f"All brokers specified in the manual partition assignment for partition {index} "
                    "are fenced or in controlled shutdown."
                )
            manual[index] = assignment.broker_ids
        if sorted(manual) != list(range(len(manual))):
            return _bad_assignment("partitions should be a consecutive 0-based integer sequence")
        replicas = [tuple(BrokerId(b) for b in manual[i]) for i in range(len(manual))]
        return replicas, (None, None, manual)
    if topic.replication_factor < -1 or topic.replication_factor == 0:
        return ApiError(
            ErrorCode.INVALID_REPLICATION_FACTOR,
            "Replication factor must be larger than 0, or -1 to use the default value.",
        )
    if topic.num_partitions < -1 or topic.num_partitions == 0:
        return ApiError(
            ErrorCode.INVALID_PARTITIONS, "Number of partitions was set to an invalid non-positive value."
        )
    num_partitions = topic.num_partitions
    if num_partitions == -1:
        num_partitions = _int_config(image, static, "num.partitions")
    replication_factor = topic.replication_factor
    if replication_factor == -1:
        replication_factor = _int_config(image, static, "default.replication.factor")
    if num_partitions > MAX_RECORDS_PER_USER_OP:
        return TOO_LARGE
    try:
        replicas = place_new_topic(image, num_partitions, replication_factor, rng)
    except PlacementError as e:
        return ApiError(e.error_code, f"Unable to replicate the partition {replication_factor} time(s): {e}")
    return replicas, (num_partitions, replication_factor, None)


def _bad_assignment(message: str) -> ApiError:
    return ApiError(ErrorCode.INVALID_REPLICATION_ASSIGNMENT, message)


def _int_config(image: ClusterImage, static: StaticBrokerConfig, name: str) -> int:
    value = broker_config_value(image, static, name)
    assert isinstance(value, int)
    return value


def _topic_records(
    image: ClusterImage,
    name: str,
    topic_id: uuid.UUID,
    overrides: Mapping[str, str],
    replicas: list[tuple[BrokerId, ...]],
) -> list[MetadataRecord]:
    records: list[MetadataRecord] = [TopicRecord(name, topic_id)]
    for key, value in sorted(overrides.items()):
        records.append(ConfigRecord(ConfigResourceType.TOPIC, name, key, value))
    for index, partition_replicas in enumerate(replicas):
        records.append(new_partition_record(image, topic_id, index, partition_replicas))
    return records


def new_partition_record(
    image: ClusterImage, topic_id: uuid.UUID, index: int, replicas: tuple[BrokerId, ...]
) -> PartitionRecord:
    """A new partition: ISR = its live replicas, leader = the first of them, epochs 0."""
    isr = tuple(b for b in replicas if image.is_live(b))
    return PartitionRecord(topic_id, index, replicas, isr, isr[0])


@dataclass(frozen=True, slots=True)
class DeleteTopicRef:
    """A topic to delete, by name (DeleteTopics v1-v5, or v6 with a zero id) or by id (v6)."""

    name: str | None = None
    topic_id: uuid.UUID = ZERO_UUID


@dataclass(frozen=True, slots=True)
class DeleteTopicResult:
    name: str | None
    topic_id: uuid.UUID
    error_code: ErrorCode
    error_message: str | None


def delete_topics(
    image: ClusterImage, static: StaticBrokerConfig, topics: Sequence[DeleteTopicRef]
) -> ControllerResult[tuple[DeleteTopicResult, ...]]:
    """Deletes topics by name or id; a topic named twice (by name or by id) is an INVALID_REQUEST."""
    if broker_config_value(image, static, "delete.topic.enable") is False:
        disabled = default_error(ErrorCode.TOPIC_DELETION_DISABLED)
        return ControllerResult((), tuple(_deletion(ref.name, ref.topic_id, disabled) for ref in topics))
    names = Counter(ref.name for ref in topics if ref.name is not None and ref.topic_id == ZERO_UUID)
    ids = Counter(ref.topic_id for ref in topics if ref.name is None and ref.topic_id != ZERO_UUID)
    records: dict[uuid.UUID, MetadataRecord] = {}
    results: list[DeleteTopicResult] = []
    for ref in dict.fromkeys(topics):
        name, topic_id = ref.name, ref.topic_id
        if name is not None and topic_id != ZERO_UUID:
            error = invalid_request("You may not specify both topic name and topic id.")
        elif name is None and topic_id == ZERO_UUID:
            error = invalid_request("Neither topic name nor id were specified.")
        elif name is not None and names[name] > 1:
            error = invalid_request("Duplicate topic name.")
            topic_id = ZERO_UUID
        elif name is None and ids[topic_id] > 1:
            error = invalid_request("Duplicate topic id.")
        else:
            topic = image.topic(name) if name is not None else image.topics_by_id.get(topic_id)
            if topic is None:
                code = (
                    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION if name is not None else ErrorCode.UNKNOWN_TOPIC_ID
                )
                error = default_error(code)
            else:
                error, name, topic_id = NO_ERROR, topic.name, topic.topic_id
                records[topic_id] = RemoveTopicRecord(topic_id)
        results.append(_deletion(name, topic_id, error))
    if len(records) > MAX_RECORDS_PER_USER_OP:
        return ControllerResult((), tuple(_deletion(r.name, r.topic_id, TOO_LARGE) for r in results))
    return ControllerResult(tuple(records.values()), tuple(results))


def _deletion(name: str | None, topic_id: uuid.UUID, error: ApiError) -> DeleteTopicResult:
    return DeleteTopicResult(name, topic_id, error.code, error.message)
