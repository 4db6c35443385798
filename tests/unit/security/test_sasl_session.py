"""The broker-side SASL session: what may come when, re-authentication (KIP-368), failures."""

from __future__ import annotations

import pytest

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.security.sasl.jwt_validation import UnsecuredJwsValidator, unsecured_token
from odradek.security.sasl.oauthbearer import OAuthBearerClient, OAuthBearerServer
from odradek.security.sasl.plain import PlainClient, PlainServer, jaas_users_check
from odradek.security.sasl.session import IllegalSaslState, SaslSession, SessionState

NOW = 1_700_000_000_000


def session(max_reauth_ms: int = 0) -> SaslSession:
    check = jaas_users_check({"alice": "pw", "bob": "pw"})
    return SaslSession(
        {
            "PLAIN": lambda: PlainServer(check),
            "OAUTHBEARER": lambda: OAuthBearerServer(UnsecuredJwsValidator(), lambda: NOW),
        },
        max_reauth_ms=max_reauth_ms,
    )


def login(s: SaslSession, user: str = "alice", version: int = 2, now: int = NOW):
    assert s.handshake("PLAIN").error_code is ErrorCode.NO_ERROR
    return s.authenticate(PlainClient(user, "pw").initial_response(), version, now)


def test_only_sasl_and_api_versions_before_authentication() -> None:
    s = session()
    s.check_request(ApiKey.API_VERSIONS, NOW)
    s.check_request(ApiKey.SASL_HANDSHAKE, NOW)
    for key in (ApiKey.METADATA, ApiKey.PRODUCE, ApiKey.SASL_AUTHENTICATE):
        with pytest.raises(IllegalSaslState):
            s.check_request(key, NOW)
    s.handshake("PLAIN")
    s.check_request(ApiKey.SASL_AUTHENTICATE, NOW)
    with pytest.raises(IllegalSaslState):
        s.check_request(ApiKey.API_VERSIONS, NOW)


def test_unknown_mechanism_lists_the_enabled_ones_and_allows_a_retry() -> None:
    s = session()
    outcome = s.handshake("GSSAPI")
    assert outcome.error_code is ErrorCode.UNSUPPORTED_SASL_MECHANISM
    assert outcome.mechanisms == ["PLAIN", "OAUTHBEARER"]
    assert login(s).newly_authenticated == "alice"
    s.check_request(ApiKey.PRODUCE, NOW)


def test_failure_is_final() -> None:
    s = session()
    s.handshake("PLAIN")
    outcome = s.authenticate(b"\0alice\0nope", 2, NOW)
    assert outcome.failed and outcome.error_code is ErrorCode.SASL_AUTHENTICATION_FAILED
    assert "Invalid username or password" in (outcome.error_message or "")
    assert s.state is SessionState.FAILED
    with pytest.raises(IllegalSaslState):
        s.check_request(ApiKey.METADATA, NOW)


def test_reauthentication_extends_the_session() -> None:
    s = session(max_reauth_ms=10_000)
    assert login(s).session_lifetime_ms == 10_000
    s.check_request(ApiKey.FETCH, NOW + 9_999)
    with pytest.raises(IllegalSaslState, match="expired"):
        s.check_request(ApiKey.FETCH, NOW + 10_000)
    s.check_request(ApiKey.SASL_HANDSHAKE, NOW + 10_000)
    outcome = login(s, now=NOW + 10_000)
    assert outcome.newly_authenticated == "alice" and outcome.session_lifetime_ms == 10_000
    s.check_request(ApiKey.FETCH, NOW + 15_000)


def test_reauthentication_cannot_change_principal_or_mechanism() -> None:
    s = session(max_reauth_ms=10_000)
    login(s)
    outcome = login(s, user="bob")
    assert outcome.failed and "Cannot change principals" in (outcome.error_message or "")
    s = session(max_reauth_ms=10_000)
    login(s)
    assert s.handshake("OAUTHBEARER").error_code is ErrorCode.UNSUPPORTED_SASL_MECHANISM
    assert s.state is SessionState.FAILED


def test_v0_clients_cannot_reauthenticate() -> None:
    s = session(max_reauth_ms=10_000)
    assert login(s, version=0).session_lifetime_ms == 0
    with pytest.raises(IllegalSaslState):
        s.handshake("PLAIN")


def test_token_expiry_caps_the_session() -> None:
    s = session(max_reauth_ms=3_600_000)
    s.handshake("OAUTHBEARER")
    token = unsecured_token({"sub": "svc", "exp": NOW // 1000 + 60})
    outcome = s.authenticate(OAuthBearerClient(token).initial_response(), 1, NOW)
    assert outcome.newly_authenticated == "svc" and outcome.session_lifetime_ms == 60_000
    without_reauth = session()
    without_reauth.handshake("OAUTHBEARER")
    assert (
        without_reauth.authenticate(OAuthBearerClient(token).initial_response(), 1, NOW).session_lifetime_ms
        == 0
    )
