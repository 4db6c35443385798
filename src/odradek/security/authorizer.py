"""The authorizer: Kafka's StandardAuthorizer semantics over an immutable set of ACL bindings.

For an action (operation O on resource R of type T, by principal P from host H):

1. a principal listed in ``super.users`` is allowed everything;
2. the ACLs that *apply to R* are the LITERAL ones named R or ``*`` and the PREFIXED ones whose name
   is a prefix of R, all of type T;
3. among them, an ACL *matches* when its principal is P (or ``User:*``), its host is H (or ``*``)
   and its operation is O or ALL; an ALLOW ACL also matches by implication: READ, WRITE, DELETE and
   ALTER imply DESCRIBE, and ALTER_CONFIGS implies DESCRIBE_CONFIGS (a DENY ACL never implies:
   DENY READ does not deny DESCRIBE);
4. any matching DENY wins; else any matching ALLOW allows; else, if some ACL applies to R at all,
   deny; only when no ACL applies to R does ``allow.everyone.if.no.acl.found`` decide.

`authorize_by_resource_type` answers "may P do O on at least one resource of type T" (Kafka's
Authorizer.authorizeByResourceType, used for idempotent producers without a cluster ACL).
The authorizer never changes: the broker builds a new one when the ACLs in the metadata change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from odradek.security.acl import (
    SUPPORTED_OPERATIONS,
    WILDCARD_HOST,
    WILDCARD_RESOURCE,
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourcePattern,
    ResourceType,
)
from odradek.security.principal import WILDCARD_PRINCIPAL, KafkaPrincipal

_OP = AclOperation
IMPLIES_DESCRIBE = frozenset({_OP.DESCRIBE, _OP.READ, _OP.WRITE, _OP.DELETE, _OP.ALTER})
IMPLIES_DESCRIBE_CONFIGS = frozenset({_OP.DESCRIBE_CONFIGS, _OP.ALTER_CONFIGS})
_WILDCARD_PRINCIPAL = str(WILDCARD_PRINCIPAL)


class AuthorizationResult(Enum):
    ALLOWED = "ALLOWED"
    DENIED = "DENIED"


@dataclass(frozen=True, slots=True)
class Action:
    """One thing a request wants to do. The log flags say whether an audit line is wanted: a
    request's own resources log; computing authorized-operations fields or filtering topic lists
    does not (Kafka's logIfAllowed/logIfDenied)."""

    operation: AclOperation
    resource_type: ResourceType
    name: str
    log_if_allowed: bool = True
    log_if_denied: bool = True


@dataclass(frozen=True, slots=True)
class Decision:
    """An authorization result and the rule that decided it."""

    result: AuthorizationResult
    rule: str
    """SuperUser, DefaultAllow, DefaultDeny, or the matching ACL (what the audit line reports)."""

    @property
    def allowed(self) -> bool:
        return self.result is AuthorizationResult.ALLOWED


SUPER_USER = Decision(AuthorizationResult.ALLOWED, "SuperUser")
DEFAULT_ALLOW = Decision(AuthorizationResult.ALLOWED, "DefaultAllow")
DEFAULT_DENY = Decision(AuthorizationResult.DENIED, "DefaultDeny")


def parse_super_users(text: str | None) -> frozenset[str]:
    """``super.users``: principals separated by semicolons (``User:admin;User:broker``)."""
    return frozenset(p.strip() for p in (text or "").split(";") if p.strip())


def _acl_matches(binding: AclBinding, principals: tuple[str, str], host: str, op: AclOperation) -> bool:
    entry = binding.entry
    if entry.principal not in principals:
        return False
    if entry.host not in (WILDCARD_HOST, host):
        return False
    if entry.operation in (AclOperation.ALL, op):
        return True
    if entry.permission_type != AclPermissionType.ALLOW:
        return False
    if op == AclOperation.DESCRIBE:
        return entry.operation in IMPLIES_DESCRIBE
    if op == AclOperation.DESCRIBE_CONFIGS:
        return entry.operation in IMPLIES_DESCRIBE_CONFIGS
    return False


@dataclass(slots=True)
class _TypeIndex:
    """The ACL bindings of one resource type, indexed by literal name and by prefix."""

    literal: dict[str, list[AclBinding]] = field(default_factory=lambda: defaultdict(list))
    prefixed: dict[str, list[AclBinding]] = field(default_factory=lambda: defaultdict(list))
    prefix_lengths: set[int] = field(default_factory=set)

    def applying_to(self, name: str) -> Iterable[AclBinding]:
        yield from self.literal.get(name, ())
        if name != WILDCARD_RESOURCE:
            yield from self.literal.get(WILDCARD_RESOURCE, ())
        for length in self.prefix_lengths:
            if length <= len(name):
                yield from self.prefixed.get(name[:length], ())


class StandardAuthorizer:
    def __init__(
        self,
        bindings: Iterable[AclBinding] = (),
        *,
        super_users: frozenset[str] = frozenset(),
        allow_everyone_if_no_acl_found: bool = False,
    ) -> None:
        self.super_users = super_users
        self.no_acl_decision = DEFAULT_ALLOW if allow_everyone_if_no_acl_found else DEFAULT_DENY
        self.bindings: tuple[AclBinding, ...] = tuple(dict.fromkeys(bindings))
        self._index: dict[ResourceType, _TypeIndex] = defaultdict(_TypeIndex)
        for binding in self.bindings:
            index = self._index[binding.pattern.resource_type]
            if binding.pattern.pattern_type == PatternType.PREFIXED:
                index.prefixed[binding.pattern.name].append(binding)
                index.prefix_lengths.add(len(binding.pattern.name))
            else:
                index.literal[binding.pattern.name].append(binding)

    def with_bindings(self, bindings: Iterable[AclBinding]) -> StandardAuthorizer:
        return StandardAuthorizer(
            bindings,
            super_users=self.super_users,
            allow_everyone_if_no_acl_found=self.no_acl_decision is DEFAULT_ALLOW,
        )

    def is_super_user(self, principal: KafkaPrincipal) -> bool:
        return str(principal) in self.super_users

    def authorize(self, principal: KafkaPrincipal, host: str, action: Action) -> Decision:
        if str(principal) in self.super_users:
            return SUPER_USER
        index = self._index.get(action.resource_type)
        if index is None:
            return self.no_acl_decision
        principals = (str(principal), _WILDCARD_PRINCIPAL)
        allow: AclBinding | None = None
        applies = False
        for binding in index.applying_to(action.name):
            applies = True
            if _acl_matches(binding, principals, host, action.operation):
                if binding.entry.permission_type == AclPermissionType.DENY:
                    return Decision(AuthorizationResult.DENIED, f"MatchingAcl(acl={binding})")
                allow = allow or binding
        if allow is not None:
            return Decision(AuthorizationResult.ALLOWED, f"MatchingAcl(acl={allow})")
        return DEFAULT_DENY if applies else self.no_acl_decision

    def allowed(
        self, principal: KafkaPrincipal, host: str, op: AclOperation, rt: ResourceType, name: str
    ) -> bool:
        return self.authorize(principal, host, Action(op, rt, name)).allowed

    def authorized_operations(
        self, principal: KafkaPrincipal, host: str, resource_type: ResourceType, name: str
    ) -> frozenset[AclOperation]:
        """The operations of the resource type P may perform on this resource (KIP-430 fields)."""
        return frozenset(
            op
            for op in SUPPORTED_OPERATIONS[resource_type]
            if self.authorize(principal, host, Action(op, resource_type, name, False, False)).allowed
        )

    def authorize_by_resource_type(
        self, principal: KafkaPrincipal, host: str, op: AclOperation, resource_type: ResourceType
    ) -> bool:
        """Whether some resource of this type could be operated on: an ALLOW (LITERAL or PREFIXED)
        that no DENY covers; a LITERAL DENY on ``*`` denies all. Super users and a default of allow
        are checked first, on a name no ACL names."""
        probe = Action(op, resource_type, "hardcode", log_if_allowed=True, log_if_denied=False)
        if self.authorize(principal, host, probe).allowed:
            return True
        principals = (str(principal), _WILDCARD_PRINCIPAL)
        deny_literal: set[str] = set()
        deny_prefixed: set[str] = set()
        allow: list[ResourcePattern] = []
        for binding in self.bindings:
            pattern, entry = binding.pattern, binding.entry
            if pattern.resource_type != resource_type or entry.principal not in principals:
                continue
            if entry.host not in (host, WILDCARD_HOST) or entry.operation not in (op, AclOperation.ALL):
                continue
            if entry.permission_type == AclPermissionType.DENY:
                if pattern.pattern_type == PatternType.LITERAL:
                    if pattern.name == WILDCARD_RESOURCE:
                        return False
                    deny_literal.add(pattern.name)
                else:
                    deny_prefixed.add(pattern.name)
            elif pattern.pattern_type == PatternType.LITERAL and pattern.name == WILDCARD_RESOURCE:
                return True
            else:
                allow.append(pattern)
        for pattern in allow:
            if pattern.pattern_type == PatternType.LITERAL and pattern.name in deny_literal:
                continue
            if any(pattern.name[:i] in deny_prefixed for i in range(1, len(pattern.name) + 1)):
                continue
            return True
        return False

    def acls(self, acl_filter: AclBindingFilter) -> list[AclBinding]:
        return [b for b in self.bindings if acl_filter.matches(b)]
