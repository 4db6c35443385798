"""Kafka's rules for topic names, and the names of the internal topics.

A legal name is 1..249 characters from `[a-zA-Z0-9._-]` and is neither "." nor "..". Because metric
names replace '.' with '_', two topics whose names differ only by '.' versus '_' in the same places
(`a.b` and `a_b`) may not both exist. The reason strings match Kafka's, so clients show the same text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

GROUP_METADATA_TOPIC_NAME = "__consumer_offsets"
TRANSACTION_STATE_TOPIC_NAME = "__transaction_state"
SHARE_GROUP_STATE_TOPIC_NAME = "__share_group_state"
INTERNAL_TOPICS = frozenset(
    {GROUP_METADATA_TOPIC_NAME, TRANSACTION_STATE_TOPIC_NAME, SHARE_GROUP_STATE_TOPIC_NAME}
)

MAX_NAME_LENGTH = 249
_LEGAL = re.compile(r"[a-zA-Z0-9._-]+")


def invalid_topic_reason(name: str) -> str | None:
    """Why `name` is not a legal topic name, or None if it is."""
    if not name:
        return "the empty string is not allowed"
    if name == ".":
        return "'.' is not allowed"
    if name == "..":
        return "'..' is not allowed"
    if len(name) > MAX_NAME_LENGTH:
        return f"the length of '{name}' is longer than the max allowed length {MAX_NAME_LENGTH}"
    if _LEGAL.fullmatch(name) is None:
        return f"'{name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"
    return None


def topic_name_error(name: str) -> str | None:
    """The INVALID_TOPIC_EXCEPTION message for `name`, or None if the name is legal."""
    reason = invalid_topic_reason(name)
    return None if reason is None else f"Topic name is invalid: {reason}"


def is_internal(name: str) -> bool:
    return name in INTERNAL_TOPICS


def has_collision_chars(name: str) -> bool:
    return "." in name or "_" in name


def unify_collision_chars(name: str) -> str:
    return name.replace(".", "_")


def colliding_topic(name: str, existing: Iterable[str]) -> str | None:
    """An existing topic (other than `name` itself) whose name collides with `name`, if any."""
    if not has_collision_chars(name):
        return None
    unified = unify_collision_chars(name)
    for other in existing:
        if other != name and unify_collision_chars(other) == unified:
            return other
    return None


def collision_error(name: str, other: str) -> str:
    return f"Topic '{name}' collides with existing topic: {other}"
