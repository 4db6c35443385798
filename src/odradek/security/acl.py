"""ACLs as Kafka defines them (KIP-11, KIP-290): "Principal P is Allowed/Denied Operation O From Host H
on any Resource R matching ResourcePattern RP".

The enums carry Kafka's wire codes (DescribeAcls, CreateAcls and DeleteAcls send them as int8), so
they are used on the wire and in metadata records unchanged. A *binding* is one ACL; a *filter*
selects bindings for DescribeAcls and DeleteAcls:

* a field of ANY (or a name, principal or host of None) matches everything;
* pattern type MATCH with a name selects the bindings that would apply to a resource of that name:
  LITERAL bindings of that name or of the wildcard ``*``, and PREFIXED bindings whose name is a
  prefix of it;
* LITERAL and PREFIXED select bindings of exactly that pattern type and name.

`binding_error` holds CreateAcls' validation with Kafka's messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from odradek.security.principal import KafkaPrincipal

WILDCARD_RESOURCE = "*"
WILDCARD_HOST = "*"
CLUSTER_NAME = "kafka-cluster"


class ResourceType(IntEnum):
    UNKNOWN = 0
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5
    DELEGATION_TOKEN = 6
    USER = 7


class PatternType(IntEnum):
    UNKNOWN = 0
    ANY = 1
    MATCH = 2
    LITERAL = 3
    PREFIXED = 4


class AclOperation(IntEnum):
    UNKNOWN = 0
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12
    CREATE_TOKENS = 13
    DESCRIBE_TOKENS = 14


class AclPermissionType(IntEnum):
    UNKNOWN = 0
    ANY = 1
    DENY = 2
    ALLOW = 3


_OP = AclOperation
SUPPORTED_OPERATIONS: dict[ResourceType, frozenset[AclOperation]] = {
    # Kafka's ResourceType -> the operations an ACL on it can grant (used by KIP-430 fields).
    ResourceType.TOPIC: frozenset(
        {_OP.READ, _OP.WRITE, _OP.CREATE, _OP.DESCRIBE, _OP.DELETE, _OP.ALTER}
        | {_OP.DESCRIBE_CONFIGS, _OP.ALTER_CONFIGS}
    ),
    ResourceType.GROUP: frozenset({_OP.READ, _OP.DESCRIBE, _OP.DELETE}),
    ResourceType.CLUSTER: frozenset(
        {_OP.CREATE, _OP.CLUSTER_ACTION, _OP.DESCRIBE_CONFIGS, _OP.ALTER_CONFIGS, _OP.IDEMPOTENT_WRITE}
        | {_OP.ALTER, _OP.DESCRIBE}
    ),
    ResourceType.TRANSACTIONAL_ID: frozenset({_OP.DESCRIBE, _OP.WRITE}),
    ResourceType.DELEGATION_TOKEN: frozenset({_OP.DESCRIBE}),
    ResourceType.USER: frozenset({_OP.CREATE_TOKENS, _OP.DESCRIBE_TOKENS}),
}


@dataclass(frozen=True, slots=True)
class ResourcePattern:
    """The resources an ACL applies to: a type and a LITERAL or PREFIXED name."""

    resource_type: ResourceType
    name: str
    pattern_type: PatternType = PatternType.LITERAL

    def applies_to(self, name: str) -> bool:
        """Whether this (LITERAL or PREFIXED) pattern covers a resource called `name`."""
        if self.pattern_type == PatternType.LITERAL:
            return self.name in (name, WILDCARD_RESOURCE)
        if self.pattern_type == PatternType.PREFIXED:
            return name.startswith(self.name)
        return False


@dataclass(frozen=True, slots=True)
class AccessControlEntry:
    """Who may (or may not) do what from where: principal, host, operation, permission."""

    principal: str
    host: str
    operation: AclOperation
    permission_type: AclPermissionType


@dataclass(frozen=True, slots=True)
class AclBinding:
    """An ACL: a resource pattern bound to an access control entry."""

    pattern: ResourcePattern
    entry: AccessControlEntry

    def __str__(self) -> str:
        p, e = self.pattern, self.entry
        return (
            f"(principal={e.principal}, host={e.host}, operation={e.operation.name}, "
            f"permissionType={e.permission_type.name}) on {p.resource_type.name}:"
            f"{p.pattern_type.name}:{p.name}"
        )


@dataclass(frozen=True, slots=True)
class ResourcePatternFilter:
    """Matches resource patterns (DescribeAcls, DeleteAcls); ANY and None match all."""

    resource_type: ResourceType = ResourceType.ANY
    name: str | None = None
    pattern_type: PatternType = PatternType.ANY

    def matches(self, pattern: ResourcePattern) -> bool:
        if self.resource_type not in (ResourceType.ANY, pattern.resource_type):
            return False
        if self.pattern_type == PatternType.MATCH:
            return self.name is None or pattern.applies_to(self.name)
        if self.pattern_type not in (PatternType.ANY, pattern.pattern_type):
            return False
        return self.name is None or self.name == pattern.name


@dataclass(frozen=True, slots=True)
class AccessControlEntryFilter:
    """Matches access control entries (DescribeAcls, DeleteAcls); ANY and None match all."""

    principal: str | None = None
    host: str | None = None
    operation: AclOperation = AclOperation.ANY
    permission_type: AclPermissionType = AclPermissionType.ANY

    def matches(self, entry: AccessControlEntry) -> bool:
        return (
            (self.principal is None or self.principal == entry.principal)
            and (self.host is None or self.host == entry.host)
            and self.operation in (AclOperation.ANY, entry.operation)
            and self.permission_type in (AclPermissionType.ANY, entry.permission_type)
        )


@dataclass(frozen=True, slots=True)
class AclBindingFilter:
    """Matches ACL bindings by pattern and entry."""

    pattern: ResourcePatternFilter = ResourcePatternFilter()
    entry: AccessControlEntryFilter = AccessControlEntryFilter()

    def matches(self, binding: AclBinding) -> bool:
        return self.pattern.matches(binding.pattern) and self.entry.matches(binding.entry)


ANY_BINDING = AclBindingFilter()


def binding_error(binding: AclBinding) -> str | None:
    """Why CreateAcls must refuse this binding (answered as INVALID_REQUEST), or None."""
    pattern, entry = binding.pattern, binding.entry
    if pattern.resource_type in (ResourceType.UNKNOWN, ResourceType.ANY):
        return f"Invalid resourceType {pattern.resource_type.name}"
    if pattern.pattern_type not in (PatternType.LITERAL, PatternType.PREFIXED):
        return f"Invalid patternType {pattern.pattern_type.name}"
    if entry.operation in (AclOperation.UNKNOWN, AclOperation.ANY):
        return f"Invalid operation {entry.operation.name}"
    if entry.permission_type not in (AclPermissionType.ALLOW, AclPermissionType.DENY):
        return f"Invalid permissionType {entry.permission_type.name}"
    if not pattern.name:
        return "Resource name should not be empty"
    if pattern.resource_type == ResourceType.CLUSTER and pattern.name != CLUSTER_NAME:
        return f"The only valid name for the CLUSTER resource is {CLUSTER_NAME}"
    if not entry.host:
        return "Host should not be empty"
    try:
        KafkaPrincipal.parse(entry.principal)
    except ValueError as exc:
        return str(exc)
    return None


def filter_error(acl_filter: AclBindingFilter) -> str | None:
    """Why DescribeAcls/DeleteAcls must refuse this filter (INVALID_REQUEST), or None."""
    p, e = acl_filter.pattern, acl_filter.entry
    if p.resource_type == ResourceType.UNKNOWN:
        return "Filter contains UNKNOWN resource type"
    if p.pattern_type == PatternType.UNKNOWN:
        return "Filter contains UNKNOWN pattern type"
    if e.operation == AclOperation.UNKNOWN:
        return "Filter contains UNKNOWN operation"
    if e.permission_type == AclPermissionType.UNKNOWN:
        return "Filter contains UNKNOWN permission type"
    return None
