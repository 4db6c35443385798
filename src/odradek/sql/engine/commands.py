"""The command topic: the log of statements that change what every server runs.

Topic `_confluent-ksql-<service id>_command_topic` (service id `default_` unless configured), one
partition, infinite retention, written with an idempotent producer. ksqlDB keeps its DDL and
persistent queries there; a server that starts (or a second server with the same service id) replays
it from the beginning and ends with the same metastore and the same running queries.

Record key: the command id as a JSON string, `"<entity type>/<name>/<action>"`, e.g.
`"stream/PAGEVIEWS/create"`, `"table/COUNTS/drop"`, `"terminate/CSAS_X_0/execute"`.

Record value: a JSON object

    {
      "statement": "CREATE STREAM ...;",         the statement text after variable substitution
      "streamsProperties": {"k": "v"},           request-scoped properties (auto.offset.reset, ...)
      "originalProperties": {"k": "v"},          the server's properties when it was issued
      "queryId": "CSAS_X_0",                     persistent queries: the id, fixed at issue time
      "resolved": {"partitions": {"topic": 3}},  facts looked up at issue time (topic partitions,
                                                 registry schemas), so a replay does no lookups
      "version": 1
    }

A command's sequence number is its offset in the topic. `/ksql` answers with it
(`commandSequenceNumber`) and accepts one to wait until this server has applied that command.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

COMMAND_VERSION = 1


def command_topic_name(service_id: str) -> str:
    return f"_confluent-ksql-{service_id}_command_topic"


@dataclass(frozen=True)
class CommandId:
    entity_type: str  # stream, table, type, terminate, pause, resume, insert
    entity: str
    action: str  # create, drop, execute, alter

    def __str__(self) -> str:
        return f"{self.entity_type}/{self.entity}/{self.action}"

    @staticmethod
    def parse(text: str) -> CommandId:
        parts = text.split("/")
        if len(parts) < 3:
            raise ValueError(f"bad command id {text!r}")
        return CommandId(parts[0], "/".join(parts[1:-1]), parts[-1])


@dataclass(frozen=True)
class Command:
    command_id: CommandId
    statement: str
    streams_properties: dict[str, Any] = field(default_factory=dict)
    original_properties: dict[str, Any] = field(default_factory=dict)
    query_id: str | None = None
    resolved: dict[str, Any] = field(default_factory=dict)
    version: int = COMMAND_VERSION

    def key_bytes(self) -> bytes:
        return json.dumps(str(self.command_id)).encode()

    def value_bytes(self) -> bytes:
        body: dict[str, Any] = {
            "statement": self.statement,
            "streamsProperties": self.streams_properties,
            "originalProperties": self.original_properties,
            "resolved": self.resolved,
            "version": self.version,
        }
        if self.query_id is not None:
            body["queryId"] = self.query_id
        return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()

    @staticmethod
    def from_record(key: bytes, value: bytes) -> Command:
        command_id = CommandId.parse(json.loads(key))
        body = json.loads(value)
        if not isinstance(body, dict) or "statement" not in body:
            raise ValueError("command value has no statement")
        return Command(
            command_id,
            body["statement"],
            dict(body.get("streamsProperties") or {}),
            dict(body.get("originalProperties") or {}),
            body.get("queryId"),
            dict(body.get("resolved") or {}),
            int(body.get("version", COMMAND_VERSION)),
        )


class CommandStatus:
    QUEUED = "QUEUED"
    PARSING = "PARSING"
    EXECUTING = "EXECUTING"
    SUCCESS = "SUCCESS"
    ERROR = "ERROR"
    TERMINATED = "TERMINATED"
