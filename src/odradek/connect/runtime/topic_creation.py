"""KIP-158: source connectors create the topics they write to, with settings from their config.

    topic.creation.default.replication.factor=3     required once any topic.creation.* is set
    topic.creation.default.partitions=6              (-1 for either: the broker's default)
    topic.creation.default.cleanup.policy=compact    any other key: a topic config
    topic.creation.groups=inorder,compacted          more groups, matched in this order
    topic.creation.inorder.include=orders-.*         regexes (comma-separated); a topic matching
    topic.creation.inorder.exclude=orders-test.*     include and not exclude belongs to the group
    topic.creation.inorder.partitions=1              a group's unset RF/partitions are the default's

A topic that no group matches gets the `default` group's settings. The worker's
`topic.creation.enable` (default true) switches the feature off for every connector (their
settings are then ignored with a warning, as Kafka does). The source task runner calls
`TopicCreator.ensure(topic)` before it first writes to a topic: if the topic does not exist it is
created (an existing topic is left as it is).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("odradek.connect.topic_creation")
PREFIX = "topic.creation."
DEFAULT_GROUP = "default"
GROUPS = "topic.creation.groups"
_OWN = ("include", "exclude", "replication.factor", "partitions")


@dataclass(frozen=True)
class TopicCreationGroup:
    name: str
    replication_factor: int
    partitions: int
    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    configs: dict[str, str] = field(default_factory=dict)

    def matches(self, topic: str) -> bool:
        if self.name == DEFAULT_GROUP:
            return True
        return any(p.fullmatch(topic) for p in self.include) and not any(
            p.fullmatch(topic) for p in self.exclude
        )


def uses_topic_creation(props: Mapping[str, str]) -> bool:
    return any(key.startswith(PREFIX) for key in props)


def _list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _count(props: Mapping[str, str], key: str, errors: dict[str, list[str]], fallback: int | None) -> int:
    raw = props.get(key)
    if raw is None or raw == "":
        if fallback is None:
            errors.setdefault(key, []).append(
                f'Missing required configuration "{key}" which has no default value.'
            )
            return -1
        return fallback
    try:
        value = int(raw)
    except ValueError:
        errors.setdefault(key, []).append(
            f"Invalid value {raw} for configuration {key}: Not a number of type INT"
        )
        return -1
    if value == 0 or value < -1:
        what = "replication factor" if key.endswith("replication.factor") else "number of partitions"
        errors.setdefault(key, []).append(
            f"Invalid value {value} for configuration {key}: {what} must be -1 (the broker's default) or at least 1"
        )
    return value


def _patterns(
    props: Mapping[str, str], key: str, errors: dict[str, list[str]]
) -> tuple[re.Pattern[str], ...]:
    out = []
    for pattern in _list(props.get(key)):
        try:
            out.append(re.compile(pattern))
        except re.error as exc:
            errors.setdefault(key, []).append(f"Invalid regex {pattern!r}: {exc}")
    return tuple(out)


def parse_groups(props: Mapping[str, str]) -> tuple[list[TopicCreationGroup], dict[str, list[str]]]:
    """The connector's groups (the default last) and the errors by config key; no groups when the
    connector sets no `topic.creation.*` key."""
    errors: dict[str, list[str]] = {}
    if not uses_topic_creation(props):
        return [], errors
    default_prefix = f"{PREFIX}{DEFAULT_GROUP}."
    for own in ("include", "exclude"):
        if default_prefix + own in props:
            errors.setdefault(default_prefix + own, []).append(
                "The default group matches every topic no other group matches: it takes no include/exclude"
            )
    default_rf = _count(props, default_prefix + "replication.factor", errors, None)
    default_partitions = _count(props, default_prefix + "partitions", errors, None)
    names = _list(props.get(GROUPS))
    groups: list[TopicCreationGroup] = []
    for name in names:
        if name == DEFAULT_GROUP:
            errors.setdefault(GROUPS, []).append("'default' is always a group: do not list it")
            continue
        prefix = f"{PREFIX}{name}."
        groups.append(
            TopicCreationGroup(
                name,
                _count(props, prefix + "replication.factor", errors, default_rf),
                _count(props, prefix + "partitions", errors, default_partitions),
                _patterns(props, prefix + "include", errors),
                _patterns(props, prefix + "exclude", errors),
                _topic_configs(props, prefix),
            )
        )
    groups.append(
        TopicCreationGroup(
            DEFAULT_GROUP, default_rf, default_partitions, configs=_topic_configs(props, default_prefix)
        )
    )
    known = {f"{PREFIX}{g}." for g in [*names, DEFAULT_GROUP]}
    for key in props:
        if key.startswith(PREFIX) and key != GROUPS and not any(key.startswith(k) for k in known):
            errors.setdefault(key, []).append(
                f"{key} names a group that is not in {GROUPS} (groups: {', '.join([*names, DEFAULT_GROUP])})"
            )
    return groups, errors


def _topic_configs(props: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {
        key[len(prefix) :]: value
        for key, value in props.items()
        if key.startswith(prefix) and key[len(prefix) :] not in _OWN
    }


def group_for(groups: list[TopicCreationGroup], topic: str) -> TopicCreationGroup | None:
    for group in groups:
        if group.matches(topic):
            return group
    return None


class TopicCreator:
    """Creates a source task's topics on first use (the shell around `parse_groups`)."""

    def __init__(self, groups: list[TopicCreationGroup], admin_config: Mapping[str, Any]) -> None:
        self.groups = groups
        self.admin_config = dict(admin_config)
        self.known: set[str] = set()
        self._admin: Any = None

    def ensure(self, topic: str) -> None:
        if topic in self.known:
            return
        group = group_for(self.groups, topic)
        if group is None:
            self.known.add(topic)
            return
        from confluent_kafka import KafkaError, KafkaException
        from confluent_kafka.admin import AdminClient, NewTopic

        if self._admin is None:
            self._admin = AdminClient(self.admin_config)
        new = NewTopic(topic, group.partitions, group.replication_factor, config=dict(group.configs))
        try:
            self._admin.create_topics([new])[topic].result(30)
            log.info(
                "Created topic %s (group %s: %d partitions, replication factor %d, %s)",
                topic,
                group.name,
                group.partitions,
                group.replication_factor,
                group.configs,
            )
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
        self.known.add(topic)
