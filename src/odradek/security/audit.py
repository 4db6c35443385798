"""The authorization audit log: one JSON object per line for each decision worth recording.

Denials are always written when the audit log is on (they are attempts on resources the principal
named); allowed decisions only with ``odradek.authorizer.audit.allowed=true``; decisions made only to
compute authorized-operations fields or to filter topic lists are never written. A line::

    {"time":"2026-05-01T12:00:00.123Z","result":"DENIED","principal":"User:bob",
     "host":"10.0.0.7","listener":"SASL_SSL","api":"PRODUCE","operation":"WRITE",
     "resource":{"type":"TOPIC","pattern":"LITERAL","name":"orders"},"rule":"DefaultDeny"}

Keys are always present and in this order, so the lines are easy to grep as well as to parse.
"""

from __future__ import annotations

import datetime as dt
import json

from odradek.security.authorizer import Action, Decision
from odradek.security.principal import KafkaPrincipal


def should_audit(action: Action, decision: Decision, *, audit_allowed: bool) -> bool:
    if decision.allowed:
        return audit_allowed and action.log_if_allowed
    return action.log_if_denied


def audit_line(
    now_ms: int,
    principal: KafkaPrincipal,
    host: str,
    listener: str,
    api: str,
    action: Action,
    decision: Decision,
) -> str:
    when = dt.datetime.fromtimestamp(now_ms / 1000, tz=dt.UTC)
    record = {
        "time": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now_ms % 1000:03d}Z",
        "result": decision.result.value,
        "principal": str(principal),
        "host": host,
        "listener": listener,
        "api": api,
        "operation": action.operation.name,
        "resource": {"type": action.resource_type.name, "pattern": "LITERAL", "name": action.name},
        "rule": decision.rule,
    }
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)
