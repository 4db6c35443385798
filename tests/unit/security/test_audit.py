from __future__ import annotations

import json

from odradek.security.acl import AclOperation, ResourceType
from odradek.security.audit import audit_line, should_audit
from odradek.security.authorizer import DEFAULT_DENY, SUPER_USER, Action
from odradek.security.principal import KafkaPrincipal


def test_audit_line_is_one_json_object_with_fixed_keys() -> None:
    action = Action(AclOperation.WRITE, ResourceType.TOPIC, 'ord"ers')
    line = audit_line(
        1_700_000_000_123, KafkaPrincipal.user("bob"), "10.0.0.7", "SASL_SSL", "PRODUCE", action, DEFAULT_DENY
    )
    assert "\n" not in line
    record = json.loads(line)
    assert list(record) == [
        "time",
        "result",
        "principal",
        "host",
        "listener",
        "api",
        "operation",
        "resource",
        "rule",
    ]
    assert record["time"] == "2023-11-14T22:13:20.123Z"
    assert (
        record["result"] == "DENIED" and record["principal"] == "User:bob" and record["rule"] == "DefaultDeny"
    )
    assert record["resource"] == {"type": "TOPIC", "pattern": "LITERAL", "name": 'ord"ers'}


def test_what_gets_audited() -> None:
    asked = Action(AclOperation.READ, ResourceType.TOPIC, "t")
    computed = Action(AclOperation.READ, ResourceType.TOPIC, "t", log_if_allowed=False, log_if_denied=False)
    assert should_audit(asked, DEFAULT_DENY, audit_allowed=False)
    assert not should_audit(computed, DEFAULT_DENY, audit_allowed=True)
    assert not should_audit(asked, SUPER_USER, audit_allowed=False)
    assert should_audit(asked, SUPER_USER, audit_allowed=True)
