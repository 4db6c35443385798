"""HTTP Basic authentication of the REST proxy: header parsing, the config it needs, and the ACL
query/body vocabulary (Confluent's names, case-insensitive; ANY/MATCH refused in a create)."""

from __future__ import annotations

import base64

import pytest
from confluent_kafka.admin import AclOperation, ResourcePatternType, ResourceType

from odradek.http import HttpError
from odradek.rest.auth import Unauthorized, basic_credentials, check_config
from odradek.rest.config import ConfigError, RestConfig
from odradek.rest.v3.acls import binding_of, search_filter


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_basic_credentials() -> None:
    assert basic_credentials(basic("alice:pa:ss")) == ("alice", "pa:ss")
    assert basic_credentials("basic " + base64.b64encode(b"bob:").decode()) == ("bob", "")
    for header in (None, "", "Bearer x", "Basic", "Basic !!!", basic("no-colon"), basic(":pw")):
        with pytest.raises(Unauthorized):
            basic_credentials(header)


def test_basic_needs_sasl_client_settings() -> None:
    assert check_config(RestConfig.from_properties({})) is False
    secure = {
        "authentication.method": "basic",
        "client.security.protocol": "SASL_SSL",
        "client.sasl.mechanism": "SCRAM-SHA-512",
    }
    assert check_config(RestConfig.from_properties(secure)) is True
    for broken in (
        {**secure, "authentication.method": "KERBEROS"},
        {**secure, "client.security.protocol": "SSL"},
        {**secure, "client.sasl.mechanism": "OAUTHBEARER"},
    ):
        with pytest.raises(ConfigError):
            check_config(RestConfig.from_properties(broken))


ENTRY = {
    "resource_type": "cluster",
    "resource_name": "kafka-cluster",
    "pattern_type": "literal",
    "principal": "User:ops",
    "host": "*",
    "operation": "alter",
    "permission": "allow",
}


def test_acl_vocabulary() -> None:
    binding = binding_of(ENTRY, "")
    assert (binding.restype, binding.resource_pattern_type, binding.operation) == (
        ResourceType.BROKER,
        ResourcePatternType.LITERAL,
        AclOperation.ALTER,
    )
    everything = search_filter({})
    assert (everything.restype, everything.name, everything.principal) == (ResourceType.ANY, None, None)
    for field, value, words in (
        ("resource_type", "any", "resource_type cannot be ANY"),
        ("resource_type", "delegation_token", "DELEGATION_TOKEN is not supported"),
        ("pattern_type", "match", "pattern_type cannot be MATCH"),
        ("operation", "any", "operation cannot be ANY"),
        ("permission", "maybe", "permission must be one of"),
    ):
        with pytest.raises(HttpError) as refused:
            binding_of({**ENTRY, field: value}, "")
        assert refused.value.status == 400 and words in refused.value.message
    with pytest.raises(HttpError) as missing:
        binding_of({k: v for k, v in ENTRY.items() if k != "principal"}, "/data/2")
    assert missing.value.fields["pointer"] == "/data/2/principal"
