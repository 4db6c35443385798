"""BROKER_LOGGER config resources: this process's log levels, read and changed at run time.

Kafka exposes its log4j loggers as the configs of a BROKER_LOGGER resource named by the broker id;
here the loggers are Python's (`logging`): "root" is the root logger, every other name a logger the
process has created ("odradek.broker", "odradek.storage.partition_log", ...). Kafka's level names
map onto Python levels (TRACE is 5, below DEBUG; WARN is WARNING; FATAL is CRITICAL); a described
value is the logger's effective level.

Rules, with Kafka's messages: the resource name must be this broker's id, no key may come twice
and SET needs a value (INVALID_REQUEST); SET needs an existing logger and a valid level
(INVALID_CONFIG); DELETE makes a logger inherit its parent's level again and is refused for the root
logger (INVALID_REQUEST); APPEND and SUBTRACT are INVALID_REQUEST. A resource's changes are all
checked before any is applied.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

from odradek.metadata.config_types import ConfigResourceType, ConfigSource, ConfigType
from odradek.metadata.controller.configs import AlterableConfig, AlterConfigOp, AlterConfigsResourceResult
from odradek.metadata.controller.result import NO_ERROR, ApiError, invalid_config, invalid_request
from odradek.metadata.describe_configs import ConfigEntry, DescribeConfigsResult
from odradek.model.errors import ErrorCode

ROOT_LOGGER = "root"
TRACE = 5
LEVELS: dict[str, int] = {
    "TRACE": TRACE,
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
    "FATAL": logging.CRITICAL,
}
"""Kafka's valid log levels (most verbose first) and the Python level each sets."""


def level_name(level: int) -> str:
    """The Kafka name of a Python level: the least verbose Kafka level at or below it."""
    name = "TRACE"
    for candidate, value in LEVELS.items():
        if value <= level:
            name = candidate
    return name


def _logger(name: str) -> logging.Logger | None:
    if name == ROOT_LOGGER:
        return logging.getLogger()
    found = logging.Logger.manager.loggerDict.get(name)
    return found if isinstance(found, logging.Logger) else None


def logger_names() -> list[str]:
    """ "root" and every logger created in this process, sorted."""
    names = [n for n, lg in logging.Logger.manager.loggerDict.items() if isinstance(lg, logging.Logger)]
    return [ROOT_LOGGER, *sorted(names)]


def _check_name(node_id: int, resource_name: str) -> ApiError | None:
    if resource_name == "":
        return invalid_request("Broker id must not be empty")
    try:
        broker_id = int(resource_name)
    except ValueError:
        return invalid_request(f"Broker id must be an integer, but it is: {resource_name}")
    if broker_id != node_id:
        return invalid_request(f"Unexpected broker id, expected {node_id} but received {resource_name}")
    return None


def describe_broker_loggers(
    node_id: int, resource_name: str, keys: Collection[str] | None
) -> DescribeConfigsResult:
    kind = ConfigResourceType.BROKER_LOGGER
    error = _check_name(node_id, resource_name)
    if error is not None:
        return DescribeConfigsResult(kind, resource_name, error.code, error.message, ())
    entries = []
    for name in logger_names():
        logger = _logger(name)
        if logger is None or (keys and name not in keys):
            continue
        entries.append(
            ConfigEntry(
                name=name,
                value=level_name(logger.getEffectiveLevel()),
                read_only=False,
                source=ConfigSource.DYNAMIC_BROKER_LOGGER_CONFIG,
                is_sensitive=False,
                synonyms=(),
                config_type=ConfigType.UNKNOWN,
                documentation=None,
            )
        )
    return DescribeConfigsResult(kind, resource_name, ErrorCode.NO_ERROR, None, tuple(entries))


def _check_change(change: AlterableConfig) -> ApiError | None:
    try:
        op = AlterConfigOp(change.operation)
    except ValueError:
        return invalid_request(f"Unknown operation type {change.operation}")
    if op in (AlterConfigOp.APPEND, AlterConfigOp.SUBTRACT):
        return invalid_request(f"{op.name} operation is not allowed for the BROKER_LOGGER resource")
    if _logger(change.name) is None:
        return invalid_config(f"Logger {change.name} does not exist!")
    if op is AlterConfigOp.DELETE:
        if change.name == ROOT_LOGGER:
            return invalid_request(f"Removing the log level of the {ROOT_LOGGER} logger is not allowed")
        return None
    if change.value not in LEVELS:
        return invalid_config(
            f"Cannot set the log level of {change.name} to {change.value} as it is not a supported "
            f"log level. Valid log levels are {', '.join(reversed(LEVELS))}"
        )
    return None


def alter_broker_loggers(
    node_id: int, resource_name: str, changes: Sequence[AlterableConfig], *, validate_only: bool
) -> AlterConfigsResourceResult:
    """IncrementalAlterConfigs of one BROKER_LOGGER resource: check every change, then apply them."""
    kind = ConfigResourceType.BROKER_LOGGER
    names = [c.name for c in changes]
    nulls = [c.name for c in changes if c.operation != AlterConfigOp.DELETE and c.value is None]
    error = _check_name(node_id, resource_name)
    if error is None and len(set(names)) != len(names):
        error = invalid_request("Error due to duplicate config keys")
    if error is None and nulls:
        error = invalid_request("Null value not supported for : " + ", ".join(nulls))
    for change in changes:
        if error is not None:
            break
        error = _check_change(change)
    if error is None:
        error = NO_ERROR
        if not validate_only:
            for change in changes:
                logger = _logger(change.name)
                assert logger is not None
                if change.operation == AlterConfigOp.DELETE:
                    logger.setLevel(logging.NOTSET)
                else:
                    assert change.value is not None
                    logger.setLevel(LEVELS[change.value])
    return AlterConfigsResourceResult(kind, resource_name, error.code, error.message)
