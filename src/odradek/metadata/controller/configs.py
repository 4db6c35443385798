"""AlterConfigs (legacy, full replace) and IncrementalAlterConfigs, for TOPIC and BROKER resources.

Legacy AlterConfigs replaces a resource's whole override set: keys not listed are removed.
IncrementalAlterConfigs applies SET, DELETE, APPEND and SUBTRACT per key; APPEND and SUBTRACT work on
LIST configs only and start from the current override, or the config's default when there is none.
Each resource succeeds or fails as a whole, independently of the others; one ConfigRecord is written
per changed key (per given key for BROKER resources, which Kafka rewrites even when unchanged so
brokers reload them).

Checks, in Kafka's order: a resource listed twice, duplicate keys, null values (INVALID_REQUEST);
the resource type (only TOPIC and BROKER are metadata; BROKER_LOGGER, GROUP and CLIENT_METRICS must
be handled before reaching here); for BROKER the resource name and the changes (INVALID_REQUEST);
for TOPIC the name (INVALID_REQUEST if empty, INVALID_TOPIC_EXCEPTION if illegal), the resulting
overrides (INVALID_CONFIG), the topic's existence (UNKNOWN_TOPIC_OR_PARTITION), then the policy
(POLICY_VIOLATION). A BROKER resource's resulting dynamic overrides then go through the broker's own
check (`BrokerConfigCheck`: e.g. a new keystore must load), whose refusal is INVALID_REQUEST with
its message, as Kafka's `ConfigAdminManager.validateBrokerConfigChange` answers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TypeVar

from odradek.metadata.broker_configs import BROKER_CONFIGS
from odradek.metadata.config_def import ConfigDef
from odradek.metadata.config_types import ConfigResourceType, ConfigType
from odradek.metadata.controller.config_checks import (
    check_broker_changes,
    check_broker_resource_name,
    check_topic_overrides,
)
from odradek.metadata.controller.result import (
    NO_ERROR,
    ApiError,
    ControllerResult,
    invalid_config,
    invalid_request,
)
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import ConfigRecord, MetadataRecord, PartitionChangeRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.metadata.topic_configs import TOPIC_CONFIGS
from odradek.metadata.topic_names import topic_name_error
from odradek.model.errors import ErrorCode


class AlterConfigOp(IntEnum):
    SET = 0
    DELETE = 1
    APPEND = 2
    SUBTRACT = 3


@dataclass(frozen=True, slots=True)
class AlterConfigsResource:
    """One resource of a legacy AlterConfigs request: its complete new set of overrides."""

    resource_type: int
    resource_name: str
    configs: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, slots=True)
class AlterableConfig:
    name: str
    operation: int
    value: str | None


@dataclass(frozen=True, slots=True)
class IncrementalAlterConfigsResource:
    resource_type: int
    resource_name: str
    configs: tuple[AlterableConfig, ...]


@dataclass(frozen=True, slots=True)
class AlterConfigsResourceResult:
    resource_type: int
    resource_name: str
    error_code: ErrorCode
    error_message: str | None


AlterConfigPolicy = Callable[[ConfigResourceType, str, Mapping[str, str | None]], str | None]
"""Given a resource and the configs a request sets (None = removed), a violation message or None."""

BrokerConfigCheck = Callable[[ClusterImage, str, Mapping[str, str]], str | None]
"""Given the image, a BROKER resource name and its complete dynamic overrides after the change, why the
broker cannot apply them, or None."""

R = TypeVar("R", AlterConfigsResource, IncrementalAlterConfigsResource)


def alter_configs(
    image: ClusterImage,
    static: StaticBrokerConfig,
    resources: Sequence[AlterConfigsResource],
    *,
    validate_only: bool,
    policy: AlterConfigPolicy | None = None,
    broker_check: BrokerConfigCheck | None = None,
) -> ControllerResult[tuple[AlterConfigsResourceResult, ...]]:
    def target(resource: AlterConfigsResource) -> dict[str, str | None] | ApiError:
        names = [name for name, _ in resource.configs]
        if len(set(names)) != len(names):
            return invalid_request("Error due to duplicate config keys")
        nulls = [name for name, value in resource.configs if value is None]
        if nulls:
            return invalid_request("Null value not supported for : " + ", ".join(nulls))
        return dict(resource.configs)

    return _alter(
        image,
        static,
        resources,
        target,
        validate_only=validate_only,
        checks=(policy, broker_check),
        replace=True,
    )


def incremental_alter_configs(
    image: ClusterImage,
    static: StaticBrokerConfig,
    resources: Sequence[IncrementalAlterConfigsResource],
    *,
    validate_only: bool,
    policy: AlterConfigPolicy | None = None,
    broker_check: BrokerConfigCheck | None = None,
) -> ControllerResult[tuple[AlterConfigsResourceResult, ...]]:
    def target(resource: IncrementalAlterConfigsResource) -> dict[str, str | None] | ApiError:
        names = [c.name for c in resource.configs]
        if len(set(names)) != len(names):
            return invalid_request("Error due to duplicate config keys")
        nulls = [c.name for c in resource.configs if c.operation != AlterConfigOp.DELETE and c.value is None]
        if nulls:
            return invalid_request("Null value not supported for : " + ", ".join(nulls))
        current = _current(image, resource.resource_type, resource.resource_name)
        definitions = TOPIC_CONFIGS if resource.resource_type == ConfigResourceType.TOPIC else BROKER_CONFIGS
        changes: dict[str, str | None] = {}
        for config in resource.configs:
            try:
                op = AlterConfigOp(config.operation)
            except ValueError:
                return invalid_request(f"Unknown operations type {config.operation}")
            new_value = _incremental_value(op, config, current.get(config.name), definitions.get(config.name))
            if isinstance(new_value, ApiError):
                return new_value
            changes[config.name] = new_value
        return changes

    return _alter(
        image,
        static,
        resources,
        target,
        validate_only=validate_only,
        checks=(policy, broker_check),
        replace=False,
    )


def _incremental_value(
    op: AlterConfigOp, config: AlterableConfig, current: str | None, definition: ConfigDef | None
) -> str | ApiError | None:
    if op is AlterConfigOp.SET:
        return config.value
    if op is AlterConfigOp.DELETE:
        return None
    if definition is None or definition.type is not ConfigType.LIST:
        return invalid_config(f"Can't {op.name} to key {config.name} because its type is not LIST.")
    base = current if current is not None else definition.default_string
    parts = [part for part in (base or "").split(",") if part]
    assert config.value is not None
    for part in config.value.split(","):
        if op is AlterConfigOp.APPEND and part not in parts:
            parts.append(part)
        elif op is AlterConfigOp.SUBTRACT and part in parts:
            parts.remove(part)
    return ",".join(parts)


def _current(image: ClusterImage, resource_type: int, name: str) -> Mapping[str, str]:
    if resource_type == ConfigResourceType.TOPIC:
        return image.topic_config_overrides(name)
    return image.broker_configs.get(name, {})


def _alter(
    image: ClusterImage,
    static: StaticBrokerConfig,
    resources: Sequence[R],
    target: Callable[[R], dict[str, str | None] | ApiError],
    *,
    validate_only: bool,
    checks: tuple[AlterConfigPolicy | None, BrokerConfigCheck | None],
    replace: bool,
) -> ControllerResult[tuple[AlterConfigsResourceResult, ...]]:
    """The shared flow; `target` gives the keys a resource sets (None = remove), or an error."""
    seen = Counter((r.resource_type, r.resource_name) for r in resources)
    records: list[MetadataRecord] = []
    results: list[AlterConfigsResourceResult] = []
    for resource in resources:
        if seen[(resource.resource_type, resource.resource_name)] > 1:
            error = invalid_request("Each resource must appear at most once.")
        else:
            changes = target(resource)
            if isinstance(changes, ApiError):
                error = changes
            else:
                error, resource_records = _resource_records(
                    image, static, resource, changes, checks=checks, replace=replace
                )
                records.extend(resource_records)
        results.append(
            AlterConfigsResourceResult(
                resource.resource_type, resource.resource_name, error.code, error.message
            )
        )
    records.extend(_elr_cleared(image, records))
    return ControllerResult(() if validate_only else tuple(records), tuple(results))


def _elr_cleared(image: ClusterImage, records: Sequence[MetadataRecord]) -> list[MetadataRecord]:
    """As Kafka with KIP-966: setting `min.insync.replicas` clears the eligible leader replicas (and
    the last known ELR) of the partitions it applies to: a topic's, or every topic's for a broker's
    or the cluster default's (its value may differ from the one the ELR was kept under)."""
    named = [r for r in records if isinstance(r, ConfigRecord) and r.name == "min.insync.replicas"]
    if not named:
        return []
    everywhere = any(r.resource_type != ConfigResourceType.TOPIC for r in named)
    topics = None if everywhere else {r.resource_name for r in named}
    chosen = (
        image.topics_by_name.values()
        if topics is None
        else [image.topics_by_name[n] for n in sorted(topics) if n in image.topics_by_name]
    )
    return [
        PartitionChangeRecord(topic.topic_id, index, elr=(), last_known_elr=())
        for topic in chosen
        for index, p in sorted(topic.partitions.items())
        if p.elr or p.last_known_elr
    ]


def _resource_records(
    image: ClusterImage,
    static: StaticBrokerConfig,
    resource: AlterConfigsResource | IncrementalAlterConfigsResource,
    changes: dict[str, str | None],
    *,
    checks: tuple[AlterConfigPolicy | None, BrokerConfigCheck | None],
    replace: bool,
) -> tuple[ApiError, list[ConfigRecord]]:
    policy, broker_check = checks
    kind, name = resource.resource_type, resource.resource_name
    current = _current(image, kind, name)
    explicit = dict(changes)
    if replace:
        # Explicit keys first, then the implicit removals, as Kafka orders the records.
        changes = {**changes, **dict.fromkeys(k for k in current if k not in changes)}
    if kind == ConfigResourceType.BROKER:
        error = check_broker_resource_name(static, name) or check_broker_changes(name, changes)
        resource_type = ConfigResourceType.BROKER
        # Kafka rewrites given broker keys even when unchanged, so brokers reload them.
        keys = [k for k in changes if k in explicit or current.get(k) != changes[k]]
    elif kind == ConfigResourceType.TOPIC:
        error = _check_topic(image, static, name, current, changes)
        resource_type = ConfigResourceType.TOPIC
        keys = [k for k in changes if current.get(k) != changes[k]]
    else:
        return invalid_request(f"Unknown resource type {kind}"), []
    if error is None and broker_check is not None and kind == ConfigResourceType.BROKER:
        after = {k: v for k, v in {**current, **changes}.items() if v is not None}
        refusal = broker_check(image, name, after)
        if refusal is not None:
            error = invalid_request(refusal)
    if error is None and policy is not None:
        violation = policy(resource_type, name, explicit)
        if violation is not None:
            error = ApiError(ErrorCode.POLICY_VIOLATION, violation)
    if error is not None:
        return error, []
    return NO_ERROR, [ConfigRecord(resource_type, name, key, changes[key]) for key in keys]


def _check_topic(
    image: ClusterImage,
    static: StaticBrokerConfig,
    name: str,
    current: Mapping[str, str],
    changes: Mapping[str, str | None],
) -> ApiError | None:
    if name == "":
        return invalid_request("Default topic resources are not allowed.")
    name_error = topic_name_error(name)
    if name_error is not None:
        return ApiError(ErrorCode.INVALID_TOPIC_EXCEPTION, name_error)
    merged = {**current, **changes}
    overrides = {key: value for key, value in merged.items() if value is not None}
    error = check_topic_overrides(image, static, overrides)
    if error is not None:
        return error
    if image.topic(name) is None:
        return ApiError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"The topic '{name}' does not exist.")
    return None
