"""The read-only view of cluster topics a group coordinator needs: names, ids and partition counts.

KIP-848 groups assign partitions by topic id and need partition counts, and resolve regex
subscriptions against the topic names; OffsetCommit/OffsetFetch v10 name topics by id. The broker
implements `TopicsView` over its metadata image; `StaticTopics` is a plain in-memory one (tests,
tools).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import NamedTuple, Protocol


class TopicInfo(NamedTuple):
    topic_id: uuid.UUID
    name: str
    num_partitions: int


class TopicsView(Protocol):
    def topic(self, name: str) -> TopicInfo | None:
        """The topic named ``name``, or None if it does not exist."""
        ...

    def topic_by_id(self, topic_id: uuid.UUID) -> TopicInfo | None: ...

    def topic_names(self) -> Iterable[str]:
        """The names of every topic of the cluster (internal ones included)."""
        ...


class StaticTopics:
    """A `TopicsView` over a fixed mapping name -> (id, partition count); `set` changes it."""

    def __init__(self, topics: Mapping[str, tuple[uuid.UUID, int]] | None = None) -> None:
        self._by_name: dict[str, TopicInfo] = {}
        self._by_id: dict[uuid.UUID, TopicInfo] = {}
        for name, (topic_id, count) in (topics or {}).items():
            self.set(name, topic_id, count)

    def set(self, name: str, topic_id: uuid.UUID, num_partitions: int) -> None:
        old = self._by_name.get(name)
        if old is not None:
            del self._by_id[old.topic_id]
        info = TopicInfo(topic_id, name, num_partitions)
        self._by_name[name] = info
        self._by_id[topic_id] = info

    def delete(self, name: str) -> None:
        info = self._by_name.pop(name)
        del self._by_id[info.topic_id]

    def topic(self, name: str) -> TopicInfo | None:
        return self._by_name.get(name)

    def topic_by_id(self, topic_id: uuid.UUID) -> TopicInfo | None:
        return self._by_id.get(topic_id)

    def topic_names(self) -> Iterable[str]:
        return list(self._by_name)
