"""The config log behind the herder: in memory (standalone) or the config topic (distributed).
Both fold the same records (`config_records.py`) into a `ConfigState`, so both behave alike;
listeners are called after each change (the herder wakes up)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any

from odradek.connect.runtime.config_records import (
    ConfigState,
    TargetState,
    commit_record,
    connector_record,
    fencing_record,
    logger_record,
    restart_record,
    target_state_record,
    task_record,
)
from odradek.connect.runtime.kafka_log import KafkaLog, ensure_topic


class ConfigStore:
    """In-memory config log (standalone mode); `KafkaConfigStore` adds the topic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = ConfigState()
        self._listeners: list[Callable[[], None]] = []
        self._offset = 0

    def add_listener(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def apply(self, key: bytes | None, value: bytes | None, offset: int = -1) -> None:
        with self._lock:
            self._state.apply(key, value, offset)
        for listener in self._listeners:
            listener()

    def snapshot(self) -> ConfigState:
        with self._lock:
            return copy.deepcopy(self._state)

    def write(self, records: list[tuple[bytes, bytes | None]]) -> None:
        for key, value in records:
            self._offset += 1
            self.apply(key, value, self._offset)

    def start(self) -> None:
        """Load what is stored."""

    def stop(self) -> None:
        """Release clients."""

    def read_to_end(self) -> None:
        """Catch up with writes made elsewhere."""

    # -- writes ----------------------------------------------------------------------------------

    def put_connector_config(
        self, name: str, config: Mapping[str, str], target: TargetState | None = None
    ) -> None:
        records = [connector_record(name, dict(config))]
        if target is not None:
            records.append(target_state_record(name, target))
        self.write(records)

    def remove_connector(self, name: str) -> None:
        self.write([connector_record(name, None), target_state_record(name, None)])

    def put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        records: list[tuple[bytes, bytes | None]] = [task_record(name, i, c) for i, c in enumerate(configs)]
        records.append(commit_record(name, len(configs)))
        self.write(records)

    def put_target_state(self, name: str, state: TargetState) -> None:
        self.write([target_state_record(name, state)])

    def put_restart_request(self, name: str, include_tasks: bool, only_failed: bool) -> None:
        self.write([restart_record(name, include_tasks, only_failed)])

    def put_fencing(self, name: str, task_count: int) -> None:
        self.write([fencing_record(name, task_count)])

    def put_logger_level(self, namespace: str, level: str) -> None:
        self.write([logger_record(namespace, level)])


class KafkaConfigStore(ConfigStore):
    def __init__(
        self, topic: str, replication_factor: int, client_config: Mapping[str, Any], admin: Any
    ) -> None:
        super().__init__()
        self.topic = topic
        self.replication_factor = replication_factor
        self.admin = admin
        self.log = KafkaLog(topic, client_config, lambda k, v, _p, o: self.apply(k, v, o))

    def start(self) -> None:
        ensure_topic(self.admin, self.topic, 1, self.replication_factor)
        self.log.start(1)
        self.log.read_to_end()

    def stop(self) -> None:
        self.log.stop()

    def read_to_end(self) -> None:
        self.log.read_to_end()

    def write(self, records: list[tuple[bytes, bytes | None]]) -> None:
        for key, value in records:
            self.log.send(key, value, partition=0)
        self.log.read_to_end()
