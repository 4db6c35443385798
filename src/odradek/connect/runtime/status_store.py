"""Connector and task status: in memory (standalone) or the status topic (distributed), folded
into a `StatusState` (`status_records.py`)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from typing import Any

from odradek.connect.runtime.kafka_log import KafkaLog, ensure_topic
from odradek.connect.runtime.status_records import (
    Status,
    StatusState,
    connector_key,
    task_key,
    topic_key,
    topic_value,
)


class StatusStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = StatusState()

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        with self._lock:
            self._state.apply(key, value)

    def snapshot(self) -> StatusState:
        with self._lock:
            return copy.deepcopy(self._state)

    def connector(self, name: str) -> Status | None:
        with self._lock:
            return self._state.connectors.get(name)

    def task(self, name: str, task: int) -> Status | None:
        with self._lock:
            return self._state.tasks.get((name, task))

    def topics(self, name: str) -> list[str]:
        with self._lock:
            return sorted(self._state.topics.get(name, {}))

    def _send(self, key: bytes, value: bytes | None) -> None:
        self.apply(key, value)

    def put_connector(self, name: str, status: Status | None) -> None:
        self._send(connector_key(name), None if status is None else status.to_json())

    def put_task(self, name: str, task: int, status: Status | None) -> None:
        self._send(task_key(name, task), None if status is None else status.to_json())

    def put_topic(self, connector: str, topic: str, task: int, now_ms: int) -> None:
        self._send(topic_key(topic, connector), topic_value(topic, connector, task, now_ms))

    def delete_topic(self, connector: str, topic: str) -> None:
        self._send(topic_key(topic, connector), None)

    def start(self) -> None:
        """Load what is stored."""

    def stop(self) -> None:
        """Release clients."""


class KafkaStatusStore(StatusStore):
    def __init__(
        self,
        topic: str,
        partitions: int,
        replication_factor: int,
        client_config: Mapping[str, Any],
        admin: Any,
    ) -> None:
        super().__init__()
        self.topic = topic
        self.partitions = partitions
        self.replication_factor = replication_factor
        self.admin = admin
        self.log = KafkaLog(topic, client_config, lambda k, v, _p, _o: self.apply(k, v))

    def start(self) -> None:
        self.partitions = ensure_topic(self.admin, self.topic, self.partitions, self.replication_factor)
        self.log.start(self.partitions)
        self.log.read_to_end()

    def stop(self) -> None:
        self.log.stop()

    def _send(self, key: bytes, value: bytes | None) -> None:
        self.apply(key, value)
        self.log.send(key, value)
