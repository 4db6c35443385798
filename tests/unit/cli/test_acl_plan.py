"""`odradek acl` flags to bindings and filters (kafka-acls.sh's conveniences)."""

from __future__ import annotations

import argparse

import pytest

from odradek.cli.acl_plan import AclPlanError, bindings_to_add, display_operation, filters, parse_operation
from odradek.security.acl import AclOperation, AclPermissionType, PatternType, ResourceType


def args(**kw: object) -> argparse.Namespace:
    base: dict[str, object] = {
        "topic": [],
        "group": [],
        "transactional_id": [],
        "delegation_token": [],
        "user_principal": [],
        "cluster": False,
        "resource_pattern_type": "literal",
        "operation": [],
        "allow_principal": [],
        "deny_principal": [],
        "allow_host": [],
        "deny_host": [],
        "producer": False,
        "consumer": False,
        "idempotent": False,
        "principal": [],
    }
    base.update(kw)
    return argparse.Namespace(**base)


def summary(bindings) -> set[tuple[str, str, str, str, str]]:
    return {
        (
            b.entry.principal,
            b.entry.permission_type.name,
            b.entry.operation.name,
            b.pattern.resource_type.name,
            b.pattern.name,
        )
        for b in bindings
    }


def test_operations_on_resources() -> None:
    bindings = bindings_to_add(
        args(
            allow_principal=["User:alice"],
            operation=["Read", "describe-configs"],
            topic=["orders"],
            resource_pattern_type="prefixed",
        )
    )
    assert summary(bindings) == {
        ("User:alice", "ALLOW", "READ", "TOPIC", "orders"),
        ("User:alice", "ALLOW", "DESCRIBE_CONFIGS", "TOPIC", "orders"),
    }
    assert all(b.pattern.pattern_type is PatternType.PREFIXED for b in bindings)


def test_producer_and_consumer_shortcuts() -> None:
    producer = bindings_to_add(
        args(allow_principal=["User:p"], producer=True, idempotent=True, topic=["t"], transactional_id=["tx"])
    )
    assert summary(producer) == {
        ("User:p", "ALLOW", op, "TOPIC", "t") for op in ("WRITE", "DESCRIBE", "CREATE")
    } | {("User:p", "ALLOW", op, "TRANSACTIONAL_ID", "tx") for op in ("WRITE", "DESCRIBE")} | {
        ("User:p", "ALLOW", "IDEMPOTENT_WRITE", "CLUSTER", "kafka-cluster")
    }
    consumer = bindings_to_add(args(allow_principal=["User:c"], consumer=True, topic=["t"], group=["g"]))
    assert summary(consumer) == {
        ("User:c", "ALLOW", "READ", "TOPIC", "t"),
        ("User:c", "ALLOW", "DESCRIBE", "TOPIC", "t"),
        ("User:c", "ALLOW", "READ", "GROUP", "g"),
    }


def test_deny_with_hosts() -> None:
    bindings = bindings_to_add(
        args(deny_principal=["User:*"], deny_host=["10.0.0.1", "10.0.0.2"], operation=["All"], cluster=True)
    )
    assert {(b.entry.host, b.entry.permission_type) for b in bindings} == {
        ("10.0.0.1", AclPermissionType.DENY),
        ("10.0.0.2", AclPermissionType.DENY),
    }


@pytest.mark.parametrize(
    "bad",
    [
        {"operation": ["Read"], "topic": ["t"]},  # no principal
        {"allow_principal": ["alice"], "operation": ["Read"], "topic": ["t"]},
        {"allow_principal": ["User:a"], "operation": ["Read"]},  # no resource
        {"allow_principal": ["User:a"], "operation": ["Fly"], "topic": ["t"]},
        {"allow_principal": ["User:a"], "consumer": True, "topic": ["t"]},  # no group
        {"allow_principal": ["User:a"], "producer": True, "operation": ["Read"], "topic": ["t"]},
        {
            "allow_principal": ["User:a"],
            "operation": ["Read"],
            "topic": ["t"],
            "resource_pattern_type": "match",
        },
    ],
)
def test_refused(bad: dict[str, object]) -> None:
    with pytest.raises(AclPlanError):
        bindings_to_add(args(**bad))


def test_filters_and_names() -> None:
    [everything] = filters(args(resource_pattern_type=None))
    assert (
        everything.pattern.resource_type is ResourceType.ANY
        and everything.pattern.pattern_type is PatternType.ANY
    )
    by_topic = filters(args(topic=["a", "b"], principal=["User:x"], resource_pattern_type="match"))
    assert [(f.pattern.name, f.pattern.pattern_type, f.entry.principal) for f in by_topic] == [
        ("a", PatternType.MATCH, "User:x"),
        ("b", PatternType.MATCH, "User:x"),
    ]
    assert parse_operation("IdempotentWrite") is AclOperation.IDEMPOTENT_WRITE
    assert display_operation(AclOperation.DESCRIBE_CONFIGS) == "DescribeConfigs"
