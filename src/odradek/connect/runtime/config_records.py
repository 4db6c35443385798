r"""The config topic (`config.storage.topic`, one partition, compacted) in Kafka Connect's format.

Keys are plain UTF-8 strings; values JSON (JsonConverter with schemas off), a null value deletes:

| key | value |
|---|---|
| `connector-<name>` | `{"properties": {<connector config>}}` |
| `task-<name>-<n>` | `{"properties": {<task config>}}` (applied only at the next commit) |
| `commit-<name>` | `{"tasks": <count>}`: the preceding task configs of this connector take effect |
| `target-state-<name>` | `{"state": "STARTED"\|"PAUSED", "state.v2": "STARTED"\|"PAUSED"\|"STOPPED"}` |
| `tasks-fencing-<name>` | `{"task-count": <n>}`: an exactly-once connector's previous tasks were fenced |
| `restart-connector-<name>` | `{"include-tasks": bool, "only-failed": bool}` |
| `session-key` | `{"key": ..., "algorithm": ..., "creation-timestamp": ...}` (kept, not used) |
| `logger-cluster-<namespace>` | `{"level": "DEBUG"}` |

`ConfigState` is the pure materialized view: `apply(key, value)` for each record in log order.
Task configs are buffered per connector and applied only when a `commit-` with a matching count
arrives (Connect's rule, so readers never see half of a reconfiguration); a commit whose task
configs are missing marks the connector inconsistent until the next complete commit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

CONNECTOR_PREFIX = "connector-"
TASK_PREFIX = "task-"
COMMIT_PREFIX = "commit-"
TARGET_STATE_PREFIX = "target-state-"
FENCING_PREFIX = "tasks-fencing-"
RESTART_PREFIX = "restart-connector-"
LOGGER_PREFIX = "logger-cluster-"
SESSION_KEY = "session-key"
_TASK_KEY = re.compile(r"^task-(.+)-(\d+)$")


class TargetState(StrEnum):
    STARTED = "STARTED"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def connector_record(name: str, config: dict[str, str] | None) -> tuple[bytes, bytes | None]:
    return (CONNECTOR_PREFIX + name).encode(), None if config is None else _json({"properties": config})


def task_record(name: str, task: int, config: dict[str, str]) -> tuple[bytes, bytes]:
    return f"{TASK_PREFIX}{name}-{task}".encode(), _json({"properties": config})


def commit_record(name: str, tasks: int) -> tuple[bytes, bytes]:
    return (COMMIT_PREFIX + name).encode(), _json({"tasks": tasks})


def target_state_record(name: str, state: TargetState | None) -> tuple[bytes, bytes | None]:
    if state is None:
        return (TARGET_STATE_PREFIX + name).encode(), None
    v1 = "PAUSED" if state is TargetState.STOPPED else state.value
    return (TARGET_STATE_PREFIX + name).encode(), _json({"state": v1, "state.v2": state.value})


def fencing_record(name: str, task_count: int) -> tuple[bytes, bytes]:
    return (FENCING_PREFIX + name).encode(), _json({"task-count": task_count})


def restart_record(name: str, include_tasks: bool, only_failed: bool) -> tuple[bytes, bytes]:
    return (RESTART_PREFIX + name).encode(), _json(
        {"include-tasks": include_tasks, "only-failed": only_failed}
    )


def logger_record(namespace: str, level: str) -> tuple[bytes, bytes]:
    return (LOGGER_PREFIX + namespace).encode(), _json({"level": level})


@dataclass(frozen=True)
class RestartRequest:
    connector: str
    include_tasks: bool
    only_failed: bool


@dataclass
class ConfigState:
    """Every connector's config, committed task configs and target state (Connect's `ClusterConfigState`)."""

    offset: int = -1
    connector_configs: dict[str, dict[str, str]] = field(default_factory=dict)
    task_configs: dict[tuple[str, int], dict[str, str]] = field(default_factory=dict)
    task_counts: dict[str, int] = field(default_factory=dict)
    target_states: dict[str, TargetState] = field(default_factory=dict)
    task_generations: dict[str, int] = field(default_factory=dict)
    fenced_task_counts: dict[str, int] = field(default_factory=dict)
    inconsistent: set[str] = field(default_factory=set)
    logger_levels: dict[str, str] = field(default_factory=dict)
    pending_restarts: list[RestartRequest] = field(default_factory=list)
    _deferred: dict[str, dict[int, dict[str, str]]] = field(default_factory=dict)

    def connectors(self) -> list[str]:
        return sorted(self.connector_configs)

    def tasks(self, connector: str) -> list[int]:
        return list(range(self.task_counts.get(connector, 0)))

    def task_config(self, connector: str, task: int) -> dict[str, str] | None:
        return self.task_configs.get((connector, task))

    def target_state(self, connector: str) -> TargetState:
        return self.target_states.get(connector, TargetState.STARTED)

    def apply(self, key: bytes | str | None, value: bytes | None, offset: int = -1) -> None:
        """Fold one config-topic record into the state; records with unknown keys are ignored."""
        self.offset = max(self.offset, offset)
        if key is None:
            return
        text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        try:
            body = json.loads(value) if value is not None else None
        except (ValueError, UnicodeDecodeError):
            return
        if body is not None and not isinstance(body, dict):
            return
        if text.startswith(TARGET_STATE_PREFIX):
            self._target_state(text[len(TARGET_STATE_PREFIX) :], body)
        elif text.startswith(CONNECTOR_PREFIX):
            self._connector(text[len(CONNECTOR_PREFIX) :], body)
        elif text.startswith(COMMIT_PREFIX):
            self._commit(text[len(COMMIT_PREFIX) :], body)
        elif text.startswith(FENCING_PREFIX):
            if body is not None and isinstance(body.get("task-count"), int):
                self.fenced_task_counts[text[len(FENCING_PREFIX) :]] = body["task-count"]
        elif text.startswith(RESTART_PREFIX):
            if body is not None:
                self.pending_restarts.append(
                    RestartRequest(
                        text[len(RESTART_PREFIX) :],
                        bool(body.get("include-tasks")),
                        bool(body.get("only-failed")),
                    )
                )
        elif text.startswith(LOGGER_PREFIX):
            if body is not None and isinstance(body.get("level"), str):
                self.logger_levels[text[len(LOGGER_PREFIX) :]] = body["level"]
        elif text.startswith(TASK_PREFIX):
            match = _TASK_KEY.match(text)
            if match and body is not None and isinstance(body.get("properties"), dict):
                self._deferred.setdefault(match.group(1), {})[int(match.group(2))] = _strings(
                    body["properties"]
                )

    def _connector(self, name: str, body: dict[str, Any] | None) -> None:
        if body is None:
            self.connector_configs.pop(name, None)
            self.target_states.pop(name, None)
            self._deferred.pop(name, None)
            for task in self.tasks(name):
                self.task_configs.pop((name, task), None)
            self.task_counts.pop(name, None)
            self.inconsistent.discard(name)
            return
        properties = body.get("properties")
        if isinstance(properties, dict):
            self.connector_configs[name] = _strings(properties)
            self.target_states.setdefault(name, TargetState.STARTED)

    def _target_state(self, name: str, body: dict[str, Any] | None) -> None:
        if body is None:
            self.target_states.pop(name, None)
            return
        raw = body.get("state.v2", body.get("state"))
        try:
            self.target_states[name] = TargetState(str(raw))
        except ValueError:
            return

    def _commit(self, name: str, body: dict[str, Any] | None) -> None:
        if body is None or not isinstance(body.get("tasks"), int):
            return
        count = body["tasks"]
        deferred = self._deferred.pop(name, {})
        if any(
            task not in deferred and (name, task) not in self.task_configs for task in range(count)
        ) or any(task >= count for task in deferred):
            self.inconsistent.add(name)
            return
        self.inconsistent.discard(name)
        for task in range(count, self.task_counts.get(name, 0)):
            self.task_configs.pop((name, task), None)
        for task, config in deferred.items():
            self.task_configs[(name, task)] = config
        self.task_counts[name] = count
        self.task_generations[name] = self.task_generations.get(name, 0) + 1


def _strings(properties: dict[str, Any]) -> dict[str, str]:
    return {str(k): ("" if v is None else str(v)) for k, v in properties.items()}
