"""ACLs, SCRAM credentials and client quotas as metadata records: controller operations, replay,
snapshots, and the JSON form the local store writes."""

from __future__ import annotations

import random

import pytest

from odradek.metadata.controller.acls import create_acls, delete_acls
from odradek.metadata.controller.client_quotas import (
    MatchType,
    QuotaAlteration,
    QuotaFilterComponent,
    alter_client_quotas,
    describe_client_quotas,
)
from odradek.metadata.controller.scram_credentials import (
    ScramDeletion,
    ScramUpsertion,
    alter_user_scram_credentials,
    describe_user_scram_credentials,
)
from odradek.metadata.delta import ReplayError, replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import record_from_json, record_to_json
from odradek.metadata.security_records import RemoveAccessControlEntryRecord
from odradek.model.errors import ErrorCode
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
)
from odradek.security.quotas.client_quotas import entity
from odradek.security.sasl.scram import ScramClient, ScramServer
from odradek.security.sasl.scram_credentials import SCRAM_MECHANISMS

RNG = random.Random(7)


def binding(
    principal: str, op: AclOperation, name: str, pattern: PatternType = PatternType.LITERAL
) -> AclBinding:
    return AclBinding(
        ResourcePattern(ResourceType.TOPIC, name, pattern),
        AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW),
    )


def apply(image: ClusterImage, records) -> ClusterImage:
    image = replay(image, records)
    # every change survives the store's JSON form and a snapshot
    assert (
        replay(ClusterImage.EMPTY, [record_from_json(record_to_json(r)) for r in image.to_records()]) == image
    )
    return image


def test_create_describe_delete_acls() -> None:
    alice_read = binding("User:alice", AclOperation.READ, "orders")
    bob_write = binding("User:bob", AclOperation.WRITE, "ord", PatternType.PREFIXED)
    bad = binding("alice", AclOperation.READ, "orders")
    result = create_acls(ClusterImage.EMPTY, [alice_read, bob_write, bad, alice_read], RNG)
    assert [r.code for r in result.response] == [
        ErrorCode.NO_ERROR,
        ErrorCode.NO_ERROR,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.NO_ERROR,
    ]
    image = apply(ClusterImage.EMPTY, result.records)
    assert set(image.security.acls.values()) == {alice_read, bob_write}
    assert create_acls(image, [alice_read], RNG).records == ()  # already there

    match_orders = AclBindingFilter(ResourcePatternFilter(ResourceType.TOPIC, "orders", PatternType.MATCH))
    only_bob = AclBindingFilter(entry=AccessControlEntryFilter(principal="User:bob"))
    deleted = delete_acls(image, [only_bob, match_orders])
    assert [matched for _, matched in deleted.response] == [[bob_write], [alice_read]]
    image = apply(image, deleted.records)
    assert not image.security.acls
    unknown = AclBindingFilter(ResourcePatternFilter(ResourceType.UNKNOWN))
    assert delete_acls(image, [unknown]).response[0][0].code is ErrorCode.INVALID_REQUEST


def test_removing_an_unknown_acl_does_not_replay() -> None:
    import uuid

    with pytest.raises(ReplayError):
        replay(ClusterImage.EMPTY, [RemoveAccessControlEntryRecord(uuid.uuid4())])


def upsert(name: str, mechanism: int = 1, iterations: int = 4096, password: str = "pw") -> ScramUpsertion:
    scram = SCRAM_MECHANISMS["SCRAM-SHA-256" if mechanism == 1 else "SCRAM-SHA-512"]
    salt = b"salt-" + name.encode()
    return ScramUpsertion(
        name, mechanism, iterations, salt, scram.salted_password(password.encode(), salt, iterations)
    )


def test_both_mechanisms_of_a_user_in_one_request() -> None:
    result = alter_user_scram_credentials(ClusterImage.EMPTY, [], [upsert("a", 1), upsert("a", 2)])
    assert result.response == [("a", result.response[0][1])] and not result.response[0][1].is_error
    assert len(result.records) == 2


def test_scram_credentials_lifecycle_and_login() -> None:
    result = alter_user_scram_credentials(ClusterImage.EMPTY, [], [upsert("alice"), upsert("bob", 2, 8192)])
    assert [(n, e.code) for n, e in result.response] == [
        ("alice", ErrorCode.NO_ERROR),
        ("bob", ErrorCode.NO_ERROR),
    ]
    image = apply(ClusterImage.EMPTY, result.records)
    server = ScramServer("SCRAM-SHA-256", image.security.scram_credential)
    client = ScramClient("SCRAM-SHA-256", "alice", "pw")
    message: bytes | None = client.initial_response()
    while message is not None:
        message = client.evaluate_challenge(server.evaluate_response(message))
    assert server.authorization_id == "alice"

    described = describe_user_scram_credentials(image, None)
    assert [(d.name, [(int(m), i) for m, i in d.credentials]) for d in described] == [
        ("alice", [(1, 4096)]),
        ("bob", [(2, 8192)]),
    ]
    missing = describe_user_scram_credentials(image, ["carol", "alice", "alice"])
    assert [(d.name, d.error.code) for d in missing] == [
        ("carol", ErrorCode.RESOURCE_NOT_FOUND),
        ("alice", ErrorCode.DUPLICATE_RESOURCE),
    ]

    result = alter_user_scram_credentials(image, [ScramDeletion("alice", 1), ScramDeletion("carol", 1)], [])
    assert [(n, e.code) for n, e in result.response] == [
        ("alice", ErrorCode.NO_ERROR),
        ("carol", ErrorCode.RESOURCE_NOT_FOUND),
    ]
    image = apply(image, result.records)
    assert image.security.scram_credential("alice", "SCRAM-SHA-256") is None


@pytest.mark.parametrize(
    ("deletions", "upsertions", "code"),
    [
        ([], [upsert("a", iterations=100)], ErrorCode.UNACCEPTABLE_CREDENTIAL),
        ([], [upsert("a", iterations=100_000)], ErrorCode.UNACCEPTABLE_CREDENTIAL),
        ([], [upsert("")], ErrorCode.UNACCEPTABLE_CREDENTIAL),
        ([], [upsert("a", mechanism=9)], ErrorCode.UNSUPPORTED_SASL_MECHANISM),
        ([ScramDeletion("a", 1)], [upsert("a")], ErrorCode.DUPLICATE_RESOURCE),
        ([], [upsert("a"), upsert("a")], ErrorCode.DUPLICATE_RESOURCE),
    ],
)
def test_scram_alterations_refused(deletions, upsertions, code) -> None:
    result = alter_user_scram_credentials(ClusterImage.EMPTY, deletions, upsertions)
    assert result.response[0][1].code is code and result.records == ()


def test_client_quotas() -> None:
    alice = entity(user="alice")
    default_client = entity(client_id=None)
    result = alter_client_quotas(
        ClusterImage.EMPTY,
        [
            QuotaAlteration(alice, (("producer_byte_rate", 1024.0), ("consumer_byte_rate", 2048.0))),
            QuotaAlteration(default_client, (("request_percentage", 50.0),)),
            QuotaAlteration(entity(user="bob"), (("producer_byte_rate", 1.5),)),
            QuotaAlteration(frozenset({("ip", "nope")}), (("connection_creation_rate", 5.0),)),
        ],
        validate_only=False,
    )
    assert [r.code for r in result.response] == [
        ErrorCode.NO_ERROR,
        ErrorCode.NO_ERROR,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
    ]
    image = apply(ClusterImage.EMPTY, result.records)
    assert image.security.client_quotas[alice] == {"producer_byte_rate": 1024.0, "consumer_byte_rate": 2048.0}
    assert image.security.quotas_for_key("request_percentage") == {default_client: 50.0}

    error, found = describe_client_quotas(
        image, [QuotaFilterComponent("user", MatchType.EXACT, "alice")], strict=False
    )
    assert error.code is ErrorCode.NO_ERROR and [e for e, _ in found] == [alice]
    _, found = describe_client_quotas(
        image, [QuotaFilterComponent("client-id", MatchType.DEFAULT)], strict=True
    )
    assert [e for e, _ in found] == [default_client]
    _, found = describe_client_quotas(image, [], strict=False)
    assert len(found) == 2
    error, _ = describe_client_quotas(
        image, [QuotaFilterComponent("user", 0, "a"), QuotaFilterComponent("user", 1)], strict=False
    )
    assert error.code is ErrorCode.INVALID_REQUEST

    removed = alter_client_quotas(
        image, [QuotaAlteration(alice, (("producer_byte_rate", None), ("consumer_byte_rate", None)))], False
    )
    image = apply(image, removed.records)
    assert alice not in image.security.client_quotas
    assert (
        alter_client_quotas(image, [QuotaAlteration(alice, (("producer_byte_rate", 5.0),))], True).records
        == ()
    )
