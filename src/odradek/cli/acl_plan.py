"""From `odradek acl` flags to ACL bindings and filters, in kafka-acls.sh's vocabulary (pure).

    --allow-principal/--deny-principal P   (repeatable)   --allow-host/--deny-host H (default *)
    --operation Read|Write|...              (repeatable)   --resource-pattern-type literal|prefixed
    --topic T --group G --transactional-id X --delegation-token D --user-principal U --cluster
    --producer: Write, Describe, Create on the topics (and Write, Describe on --transactional-id;
                IdempotentWrite on the cluster with --idempotent)
    --consumer: Read, Describe on the topics; Read on the groups

Operations and types use Kafka's names in any case (``Read``, ``describe-configs``,
``IdempotentWrite``); resources are crossed with principals, hosts and operations, as kafka-acls does.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from odradek.security.acl import (
    CLUSTER_NAME,
    AccessControlEntry,
    AccessControlEntryFilter,
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)


class AclPlanError(ValueError):
    pass


def parse_operation(text: str) -> AclOperation:
    key = text.replace("-", "").replace("_", "").upper()
    for op in AclOperation:
        if op.name.replace("_", "") == key and op not in (AclOperation.UNKNOWN, AclOperation.ANY):
            return op
    raise AclPlanError(f"unknown operation {text!r}")


def parse_pattern_type(text: str) -> PatternType:
    try:
        return PatternType[text.upper()]
    except KeyError:
        raise AclPlanError(
            f"unknown resource pattern type {text!r} (literal, prefixed, match, any)"
        ) from None


@dataclass(frozen=True, slots=True)
class Resources:
    patterns: tuple[tuple[ResourceType, str], ...]

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Resources:
        out: list[tuple[ResourceType, str]] = []
        out += [(ResourceType.TOPIC, t) for t in args.topic]
        out += [(ResourceType.GROUP, g) for g in args.group]
        out += [(ResourceType.TRANSACTIONAL_ID, x) for x in args.transactional_id]
        out += [(ResourceType.DELEGATION_TOKEN, d) for d in args.delegation_token]
        out += [(ResourceType.USER, u) for u in args.user_principal]
        if args.cluster:
            out.append((ResourceType.CLUSTER, CLUSTER_NAME))
        return cls(tuple(out))

    def of(self, resource_type: ResourceType) -> list[str]:
        return [name for t, name in self.patterns if t == resource_type]


def bindings_to_add(args: argparse.Namespace) -> list[AclBinding]:
    resources = Resources.from_args(args)
    pattern_type = parse_pattern_type(args.resource_pattern_type)
    if pattern_type not in (PatternType.LITERAL, PatternType.PREFIXED):
        raise AclPlanError("ACLs are added with --resource-pattern-type literal or prefixed")
    wanted: list[tuple[ResourceType, str, AclOperation]] = []
    if args.producer or args.consumer:
        if args.operation:
            raise AclPlanError("--producer/--consumer choose the operations: leave out --operation")
        topics = resources.of(ResourceType.TOPIC)
        if not topics:
            raise AclPlanError("--producer and --consumer need --topic")
        if args.producer:
            for topic in topics:
                wanted += [
                    (ResourceType.TOPIC, topic, op)
                    for op in (AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE)
                ]
            for txn in resources.of(ResourceType.TRANSACTIONAL_ID):
                wanted += [
                    (ResourceType.TRANSACTIONAL_ID, txn, op)
                    for op in (AclOperation.WRITE, AclOperation.DESCRIBE)
                ]
            if args.idempotent:
                wanted.append((ResourceType.CLUSTER, CLUSTER_NAME, AclOperation.IDEMPOTENT_WRITE))
        if args.consumer:
            groups = resources.of(ResourceType.GROUP)
            if not groups:
                raise AclPlanError("--consumer needs --group")
            for topic in topics:
                wanted += [
                    (ResourceType.TOPIC, topic, op) for op in (AclOperation.READ, AclOperation.DESCRIBE)
                ]
            wanted += [(ResourceType.GROUP, group, AclOperation.READ) for group in groups]
    else:
        if not args.operation:
            raise AclPlanError("give --operation (or --producer / --consumer)")
        if not resources.patterns:
            raise AclPlanError("give a resource: --topic, --group, --cluster, --transactional-id, ...")
        operations = [parse_operation(o) for o in args.operation]
        wanted = [(t, name, op) for t, name in resources.patterns for op in operations]
    entries = [(p, AclPermissionType.ALLOW, args.allow_host or ["*"]) for p in args.allow_principal]
    entries += [(p, AclPermissionType.DENY, args.deny_host or ["*"]) for p in args.deny_principal]
    if not entries:
        raise AclPlanError("give --allow-principal or --deny-principal")
    out: list[AclBinding] = []
    for principal, permission, hosts in entries:
        if ":" not in principal:
            raise AclPlanError(f"principal {principal!r} must be TYPE:NAME, e.g. User:alice")
        for resource_type, name, op in wanted:
            # the cluster resource is always literal
            pattern = PatternType.LITERAL if resource_type == ResourceType.CLUSTER else pattern_type
            for host in hosts:
                binding = AclBinding(
                    ResourcePattern(resource_type, name, pattern),
                    AccessControlEntry(principal, host, op, permission),
                )
                if binding not in out:
                    out.append(binding)
    return out


def filters(args: argparse.Namespace, *, default_pattern: str = "any") -> list[AclBindingFilter]:
    """For `list` and `remove`: one filter per resource given (or one for everything)."""
    pattern_type = parse_pattern_type(args.resource_pattern_type or default_pattern)
    operations = [parse_operation(o) for o in getattr(args, "operation", [])] or [AclOperation.ANY]
    principals = list(getattr(args, "principal", []) or []) or [None]
    resources = Resources.from_args(args).patterns or ((ResourceType.ANY, None),)
    out = []
    for resource_type, name in resources:
        for principal in principals:
            for op in operations:
                out.append(
                    AclBindingFilter(
                        ResourcePatternFilter(resource_type, name, pattern_type),
                        AccessControlEntryFilter(principal, None, op),
                    )
                )
    return out


def display_operation(op: AclOperation) -> str:
    """Kafka's camel-case names: ``DescribeConfigs``."""
    return "".join(part.capitalize() for part in op.name.split("_"))
