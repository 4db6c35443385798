"""The authorizer: Kafka's documented semantics as a table, then against a brute-force model."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odradek.security.acl import (
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
    binding_error,
)
from odradek.security.authorizer import Action, StandardAuthorizer, parse_super_users
from odradek.security.principal import KafkaPrincipal

ALICE = KafkaPrincipal.user("alice")
BOB = KafkaPrincipal.user("bob")
OP, T = AclOperation, ResourceType
ALLOW, DENY = AclPermissionType.ALLOW, AclPermissionType.DENY


def acl(
    principal: str,
    op: AclOperation,
    name: str,
    permission: AclPermissionType = ALLOW,
    rt: ResourceType = T.TOPIC,
    pattern: PatternType = PatternType.LITERAL,
    host: str = "*",
) -> AclBinding:
    return AclBinding(ResourcePattern(rt, name, pattern), AccessControlEntry(principal, host, op, permission))


def allowed(
    authorizer: StandardAuthorizer, principal: KafkaPrincipal, op: AclOperation, name: str, **kw
) -> bool:
    rt = kw.get("rt", T.TOPIC)
    return authorizer.authorize(principal, kw.get("host", "10.0.0.1"), Action(op, rt, name)).allowed


def test_deny_by_default_and_allow_everyone_if_no_acl_found() -> None:
    assert not allowed(StandardAuthorizer(), ALICE, OP.READ, "orders")
    lenient = StandardAuthorizer(allow_everyone_if_no_acl_found=True)
    assert allowed(lenient, ALICE, OP.READ, "orders")
    # ...but only when no ACL at all applies to the resource
    lenient = StandardAuthorizer([acl("User:bob", OP.READ, "orders")], allow_everyone_if_no_acl_found=True)
    assert not allowed(lenient, ALICE, OP.READ, "orders")
    assert allowed(lenient, ALICE, OP.READ, "payments")


def test_super_users_bypass_deny() -> None:
    authorizer = StandardAuthorizer(
        [acl("User:admin", OP.ALL, "*", DENY)], super_users=parse_super_users("User:admin; User:broker")
    )
    assert allowed(authorizer, KafkaPrincipal.user("admin"), OP.DELETE, "orders")
    assert allowed(
        authorizer, KafkaPrincipal.user("broker"), OP.CLUSTER_ACTION, "kafka-cluster", rt=T.CLUSTER
    )


def test_deny_wins_over_allow() -> None:
    authorizer = StandardAuthorizer(
        [
            acl("User:*", OP.ALL, "orders"),
            acl("User:alice", OP.WRITE, "ord", DENY, pattern=PatternType.PREFIXED),
        ]
    )
    assert allowed(authorizer, ALICE, OP.READ, "orders")
    assert not allowed(authorizer, ALICE, OP.WRITE, "orders")
    assert allowed(authorizer, BOB, OP.WRITE, "orders")


@pytest.mark.parametrize(
    ("granted", "requested", "expected"),
    [
        (OP.READ, OP.DESCRIBE, True),
        (OP.WRITE, OP.DESCRIBE, True),
        (OP.DELETE, OP.DESCRIBE, True),
        (OP.ALTER, OP.DESCRIBE, True),
        (OP.CREATE, OP.DESCRIBE, False),
        (OP.ALTER_CONFIGS, OP.DESCRIBE_CONFIGS, True),
        (OP.DESCRIBE_CONFIGS, OP.ALTER_CONFIGS, False),
        (OP.DESCRIBE, OP.READ, False),
        (OP.ALL, OP.IDEMPOTENT_WRITE, True),
        (OP.WRITE, OP.READ, False),
    ],
)
def test_operation_implications(granted: AclOperation, requested: AclOperation, expected: bool) -> None:
    assert allowed(StandardAuthorizer([acl("User:alice", granted, "t")]), ALICE, requested, "t") is expected


def test_deny_does_not_imply() -> None:
    authorizer = StandardAuthorizer([acl("User:alice", OP.ALL, "t"), acl("User:alice", OP.READ, "t", DENY)])
    assert allowed(authorizer, ALICE, OP.DESCRIBE, "t")
    assert not allowed(authorizer, ALICE, OP.READ, "t")


def test_patterns_and_hosts() -> None:
    authorizer = StandardAuthorizer(
        [
            acl("User:alice", OP.READ, "logs-", pattern=PatternType.PREFIXED),
            acl("User:alice", OP.WRITE, "orders", host="10.0.0.1"),
            acl("User:bob", OP.READ, "*"),
        ]
    )
    assert allowed(authorizer, ALICE, OP.READ, "logs-app")
    assert allowed(authorizer, ALICE, OP.READ, "logs-")
    assert not allowed(authorizer, ALICE, OP.READ, "logs")
    assert allowed(authorizer, ALICE, OP.WRITE, "orders", host="10.0.0.1")
    assert not allowed(authorizer, ALICE, OP.WRITE, "orders", host="10.0.0.2")
    assert allowed(authorizer, BOB, OP.READ, "anything")
    assert not allowed(authorizer, BOB, OP.READ, "anything", rt=T.GROUP)


def test_authorized_operations() -> None:
    authorizer = StandardAuthorizer(
        [acl("User:alice", OP.WRITE, "t"), acl("User:alice", OP.ALTER_CONFIGS, "t")]
    )
    ops = authorizer.authorized_operations(ALICE, "h", T.TOPIC, "t")
    assert ops == {OP.WRITE, OP.DESCRIBE, OP.ALTER_CONFIGS, OP.DESCRIBE_CONFIGS}


def test_authorize_by_resource_type() -> None:
    def by_type(bindings: list[AclBinding], **kw) -> bool:
        return StandardAuthorizer(bindings, **kw).authorize_by_resource_type(ALICE, "h", OP.WRITE, T.TOPIC)

    assert not by_type([])
    assert by_type([], allow_everyone_if_no_acl_found=True)
    assert by_type([acl("User:alice", OP.WRITE, "t")])
    assert by_type([acl("User:*", OP.ALL, "x", pattern=PatternType.PREFIXED)])
    assert not by_type([acl("User:alice", OP.WRITE, "t"), acl("User:alice", OP.WRITE, "t", DENY)])
    assert not by_type(
        [
            acl("User:alice", OP.WRITE, "abc"),
            acl("User:alice", OP.ALL, "a", DENY, pattern=PatternType.PREFIXED),
        ]
    )
    assert not by_type([acl("User:alice", OP.WRITE, "t"), acl("User:alice", OP.WRITE, "*", DENY)])
    assert by_type([acl("User:alice", OP.WRITE, "*")])
    assert not by_type([acl("User:alice", OP.READ, "t")])


def test_filters() -> None:
    bindings = [
        acl("User:alice", OP.READ, "orders"),
        acl("User:alice", OP.READ, "ord", pattern=PatternType.PREFIXED),
        acl("User:bob", OP.WRITE, "*"),
        acl("User:bob", OP.READ, "g", rt=T.GROUP),
    ]
    authorizer = StandardAuthorizer(bindings)
    assert authorizer.acls(AclBindingFilter()) == bindings

    def select(**kw) -> list[AclBinding]:
        pattern = ResourcePatternFilter(kw.get("rt", T.ANY), kw.get("name"), kw.get("pt", PatternType.ANY))
        entry = AccessControlEntryFilter(kw.get("principal"), None, kw.get("op", OP.ANY))
        return authorizer.acls(AclBindingFilter(pattern, entry))

    assert select(rt=T.TOPIC, name="orders", pt=PatternType.MATCH) == bindings[:3]
    assert select(rt=T.TOPIC, name="orders") == bindings[:1]
    assert select(name="ord", pt=PatternType.PREFIXED) == bindings[1:2]
    assert select(principal="User:bob") == bindings[2:]
    assert select(op=OP.WRITE) == bindings[2:3]


def test_binding_validation() -> None:
    assert binding_error(acl("User:alice", OP.READ, "t")) is None
    assert binding_error(acl("alice", OP.READ, "t"))
    assert binding_error(acl("User:alice", OP.ANY, "t"))
    assert binding_error(acl("User:alice", OP.READ, "t", AclPermissionType.ANY))
    assert binding_error(acl("User:alice", OP.READ, "t", pattern=PatternType.MATCH))
    assert binding_error(acl("User:alice", OP.READ, ""))
    assert binding_error(acl("User:alice", OP.ALTER, "other", rt=T.CLUSTER))
    assert binding_error(acl("User:alice", OP.ALTER, "kafka-cluster", rt=T.CLUSTER)) is None


# --- the brute-force model -----------------------------------------------------------------------

NAMES = ["a", "ab", "abc", "b", "*"]


def model(
    bindings: list[AclBinding], principal: str, host: str, op: AclOperation, name: str, default: bool
) -> bool:
    """The semantics written out naively: which ACLs apply, which match, deny wins."""
    applying = [
        b
        for b in bindings
        if b.pattern.resource_type == T.TOPIC
        and (
            (b.pattern.pattern_type == PatternType.LITERAL and b.pattern.name in (name, "*"))
            or (b.pattern.pattern_type == PatternType.PREFIXED and name.startswith(b.pattern.name))
        )
    ]

    def matches(b: AclBinding) -> bool:
        e = b.entry
        if e.principal not in (principal, "User:*") or e.host not in (host, "*"):
            return False
        if e.operation in (op, OP.ALL):
            return True
        implied = {
            OP.DESCRIBE: {OP.READ, OP.WRITE, OP.DELETE, OP.ALTER},
            OP.DESCRIBE_CONFIGS: {OP.ALTER_CONFIGS},
        }
        return e.permission_type == ALLOW and e.operation in implied.get(op, set())

    matching = [b for b in applying if matches(b)]
    if any(b.entry.permission_type == DENY for b in matching):
        return False
    if matching:
        return True
    return default if not applying else False


bindings_strategy = st.lists(
    st.builds(
        acl,
        st.sampled_from(["User:alice", "User:bob", "User:*"]),
        st.sampled_from([OP.READ, OP.WRITE, OP.DESCRIBE, OP.ALL, OP.ALTER_CONFIGS, OP.DESCRIBE_CONFIGS]),
        st.sampled_from(NAMES),
        st.sampled_from([ALLOW, DENY]),
        st.just(T.TOPIC),
        st.sampled_from([PatternType.LITERAL, PatternType.PREFIXED]),
        st.sampled_from(["*", "10.0.0.1"]),
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(
    bindings=bindings_strategy,
    principal=st.sampled_from(["User:alice", "User:bob", "User:carol"]),
    host=st.sampled_from(["10.0.0.1", "10.0.0.2"]),
    op=st.sampled_from([OP.READ, OP.WRITE, OP.DESCRIBE, OP.ALTER_CONFIGS, OP.DESCRIBE_CONFIGS]),
    name=st.sampled_from(["a", "ab", "abc", "abd", "b", "c"]),
    default=st.booleans(),
)
def test_matches_the_model(bindings, principal, host, op, name, default) -> None:
    authorizer = StandardAuthorizer(bindings, allow_everyone_if_no_acl_found=default)
    decision = authorizer.authorize(KafkaPrincipal.parse(principal), host, Action(op, T.TOPIC, name))
    assert decision.allowed is model(bindings, principal, host, op, name, default)
