"""The status topic (`status.storage.topic`, compacted) in Kafka Connect's format:

| key | value |
|---|---|
| `status-connector-<name>` | `{"state": "RUNNING", "trace": null, "worker_id": "host:port", "generation": 3}` |
| `status-task-<name>-<n>` | the same shape for one task |
| `status-topic-<topic>:connector-<name>` | `{"topic": {"name": t, "connector": c, "task": n, "discoverTimestamp": ms}}` (KIP-558) |

States: UNASSIGNED, RUNNING, PAUSED, STOPPED, FAILED, RESTARTING, DESTROYED. odradek adds
`"odradek.restart.attempts"` and `"odradek.restart.next.ms"` to a FAILED status while automatic
restarts are pending (Connect readers ignore unknown fields). `StatusState` is the pure view.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

CONNECTOR_PREFIX = "status-connector-"
TASK_PREFIX = "status-task-"
TOPIC_PREFIX = "status-topic-"
TOPIC_SEPARATOR = ":connector-"
_TASK_KEY = re.compile(r"^status-task-(.+)-(\d+)$")


class State(StrEnum):
    UNASSIGNED = "UNASSIGNED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"
    RESTARTING = "RESTARTING"
    DESTROYED = "DESTROYED"


@dataclass(frozen=True)
class Status:
    state: State
    worker_id: str
    generation: int = 0
    trace: str | None = None
    restart_attempts: int = 0
    next_restart_ms: int | None = None

    def to_json(self) -> bytes:
        body: dict[str, Any] = {
            "state": self.state.value,
            "trace": self.trace,
            "worker_id": self.worker_id,
            "generation": self.generation,
        }
        if self.restart_attempts:
            body["odradek.restart.attempts"] = self.restart_attempts
        if self.next_restart_ms is not None:
            body["odradek.restart.next.ms"] = self.next_restart_ms
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Status | None:
        try:
            body = json.loads(raw)
            return cls(
                State(body["state"]),
                str(body.get("worker_id") or ""),
                int(body.get("generation") or 0),
                body.get("trace"),
                int(body.get("odradek.restart.attempts") or 0),
                body.get("odradek.restart.next.ms"),
            )
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None


def connector_key(name: str) -> bytes:
    return (CONNECTOR_PREFIX + name).encode()


def task_key(name: str, task: int) -> bytes:
    return f"{TASK_PREFIX}{name}-{task}".encode()


def topic_key(topic: str, connector: str) -> bytes:
    return f"{TOPIC_PREFIX}{topic}{TOPIC_SEPARATOR}{connector}".encode()


def topic_value(topic: str, connector: str, task: int, discovered_ms: int) -> bytes:
    body = {
        "topic": {"name": topic, "connector": connector, "task": task, "discoverTimestamp": discovered_ms}
    }
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass
class StatusState:
    connectors: dict[str, Status] = field(default_factory=dict)
    tasks: dict[tuple[str, int], Status] = field(default_factory=dict)
    topics: dict[str, dict[str, int]] = field(default_factory=dict)  # connector -> topic -> discovered ms

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        text = key.decode("utf-8", "replace")
        if text.startswith(CONNECTOR_PREFIX):
            name = text[len(CONNECTOR_PREFIX) :]
            status = Status.from_json(value) if value is not None else None
            if status is None:
                self.connectors.pop(name, None)
            else:
                self.connectors[name] = status
        elif text.startswith(TASK_PREFIX):
            match = _TASK_KEY.match(text)
            if match:
                task_id = (match.group(1), int(match.group(2)))
                status = Status.from_json(value) if value is not None else None
                if status is None:
                    self.tasks.pop(task_id, None)
                else:
                    self.tasks[task_id] = status
        elif text.startswith(TOPIC_PREFIX) and TOPIC_SEPARATOR in text:
            topic, _, connector = text[len(TOPIC_PREFIX) :].rpartition(TOPIC_SEPARATOR)
            if value is None:
                self.topics.get(connector, {}).pop(topic, None)
                return
            try:
                body = json.loads(value)["topic"]
                self.topics.setdefault(connector, {})[topic] = int(body.get("discoverTimestamp") or 0)
            except (ValueError, KeyError, TypeError):
                return
