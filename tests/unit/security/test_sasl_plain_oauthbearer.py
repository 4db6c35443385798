"""PLAIN and OAUTHBEARER servers, and the two token validators."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from odradek.security.sasl.jwt_validation import SignedJwtValidator, UnsecuredJwsValidator, unsecured_token
from odradek.security.sasl.mechanism import SaslAuthenticationError
from odradek.security.sasl.oauthbearer import (
    ClientInitialResponse,
    OAuthBearerClient,
    OAuthBearerServer,
    TokenValidationError,
)
from odradek.security.sasl.plain import PlainClient, PlainServer, jaas_users_check

NOW_MS = 1_700_000_000_000
NOW_S = NOW_MS // 1000


def plain_server() -> PlainServer:
    return PlainServer(jaas_users_check({"alice": "alice-secret", "admin": "admin-secret"}))


def test_plain_accepts_known_user() -> None:
    server = plain_server()
    assert server.evaluate_response(PlainClient("alice", "alice-secret").initial_response()) == b""
    assert server.complete and server.authorization_id == "alice"
    server = plain_server()
    server.evaluate_response(b"alice\0alice\0alice-secret")
    assert server.authorization_id == "alice"


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (b"\0alice\0wrong", "Invalid username or password"),
        (b"\0mallory\0alice-secret", "Invalid username or password"),
        (b"admin\0alice\0alice-secret", "authorization id that is different"),
        (b"\0\0pw", "username not specified"),
        (b"\0alice\0", "password not specified"),
        (b"alice\0alice-secret", "expected 3 tokens, got 2"),
        (b"a\0b\0c\0d", "expected 3 tokens, got 4"),
        (b"\xff\0alice\0x", "not UTF-8"),
    ],
)
def test_plain_rejects(message: bytes, error: str) -> None:
    server = plain_server()
    with pytest.raises(SaslAuthenticationError, match=error):
        server.evaluate_response(message)
    assert not server.complete


def test_plain_answers_only_once() -> None:
    server = plain_server()
    server.evaluate_response(b"\0alice\0alice-secret")
    with pytest.raises(SaslAuthenticationError):
        server.evaluate_response(b"\0admin\0admin-secret")
    assert server.authorization_id == "alice"


def test_client_initial_response_format() -> None:
    first = ClientInitialResponse("abc.def.", "alice", {"traceId": "123"})
    assert first.to_bytes() == b"n,a=alice,\x01auth=Bearer abc.def.\x01traceId=123\x01\x01"
    assert ClientInitialResponse.parse(first.to_bytes()) == first
    assert ClientInitialResponse.parse(b"n,,\x01auth=bearer tok\x01\x01").token == "tok"


@pytest.mark.parametrize(
    "message",
    [
        b"n,,\x01auth=Bearer tok\x01",  # not terminated
        b"y,,\x01auth=Bearer tok\x01\x01",
        b"n,,\x01auth=Basic tok\x01\x01",
        b"n,,\x01\x01",
        b"n,,\x01auth=Bearer tok\x01auth=Bearer x\x01\x01",
        b"n,,\x01auth=Bearer tok\x011bad=x\x01\x01",
        b"n,a=,\x01auth=Bearer tok\x01\x01",
        b"n,,\x01auth=Bearer t\x00k\x01\x01",
    ],
)
def test_client_initial_response_rejects(message: bytes) -> None:
    with pytest.raises(SaslAuthenticationError):
        ClientInitialResponse.parse(message)


def unsecured_server(**options: str) -> OAuthBearerServer:
    return OAuthBearerServer(UnsecuredJwsValidator.from_jaas_options(options), lambda: NOW_MS)


def test_unsecured_token_logs_in_with_its_expiry_as_session_lifetime() -> None:
    token = unsecured_token({"sub": "alice", "exp": NOW_S + 3600, "iat": NOW_S, "scope": "a b"})
    server = unsecured_server()
    assert server.evaluate_response(OAuthBearerClient(token).initial_response()) == b""
    assert server.authorization_id == "alice"
    assert server.session_lifetime_ms == (NOW_S + 3600) * 1000


def test_invalid_token_gets_an_error_challenge_then_fails() -> None:
    token = unsecured_token({"sub": "alice", "exp": NOW_S - 10})
    server = unsecured_server()
    client = OAuthBearerClient(token)
    challenge = server.evaluate_response(client.initial_response())
    assert json.loads(challenge) == {"status": "invalid_token"}
    ack = client.evaluate_challenge(challenge)
    assert ack == b"\x01"
    with pytest.raises(SaslAuthenticationError, match="Expiration Time"):
        server.evaluate_response(ack)
    assert not server.complete


def test_required_scope_and_custom_principal_claim() -> None:
    server = unsecured_server(
        unsecuredValidatorRequiredScope="write", unsecuredValidatorPrincipalClaimName="upn"
    )
    token = unsecured_token({"upn": "svc", "exp": NOW_S + 60, "scope": ["read"]})
    challenge = server.evaluate_response(OAuthBearerClient(token).initial_response())
    assert json.loads(challenge) == {"status": "insufficient_scope", "scope": "write"}
    server = unsecured_server(
        unsecuredValidatorRequiredScope="write", unsecuredValidatorPrincipalClaimName="upn"
    )
    token = unsecured_token({"upn": "svc", "exp": NOW_S + 60, "scope": "read write"})
    server.evaluate_response(OAuthBearerClient(token).initial_response())
    assert server.authorization_id == "svc"


def test_authorization_id_must_be_the_token_principal() -> None:
    token = unsecured_token({"sub": "alice", "exp": NOW_S + 60})
    with pytest.raises(SaslAuthenticationError, match="different from the token's principal"):
        unsecured_server().evaluate_response(ClientInitialResponse(token, "admin").to_bytes())


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": NOW_S + 60},  # no sub
        {"sub": "", "exp": NOW_S + 60},
        {"sub": "alice"},  # no exp
        {"sub": "alice", "exp": "soon"},
        {"sub": "alice", "exp": NOW_S + 60, "iat": NOW_S + 600},  # issued in the future
        {"sub": "alice", "exp": NOW_S + 60, "nbf": NOW_S + 600},
        {"sub": "alice", "exp": NOW_S + 60, "scope": 5},
    ],
)
def test_unsecured_validator_rejects_claims(claims: dict[str, object]) -> None:
    with pytest.raises(TokenValidationError):
        UnsecuredJwsValidator().validate(unsecured_token(claims), NOW_MS)


def test_unsecured_validator_rejects_signed_or_malformed_tokens() -> None:
    key = RSAKey.generate_key(2048)
    signed = jwt.encode({"alg": "RS256"}, {"sub": "alice", "exp": NOW_S + 60}, key)
    for token in [
        signed,
        "abc",
        "a.b",
        "!!!.e30.",
        "e30.e30.",
        unsecured_token({"sub": "a", "exp": NOW_S + 9}) + "sig",
    ]:
        with pytest.raises(TokenValidationError):
            UnsecuredJwsValidator().validate(token, NOW_MS)


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1"})


def signed_validator(*keys: RSAKey | ECKey, **kwargs: object) -> SignedJwtValidator:
    document = json.dumps({"keys": [k.as_dict(private=False) for k in keys]})
    return SignedJwtValidator(SignedJwtValidator.parse_key_set(document), **kwargs)  # type: ignore[arg-type]


def sign(key: RSAKey | ECKey, claims: dict[str, object], alg: str = "RS256") -> str:
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)


def test_signed_token_validates_against_the_jwks(rsa_key: RSAKey) -> None:
    ec = ECKey.generate_key("P-256", parameters={"kid": "e1"})
    validator = signed_validator(rsa_key, ec, issuer="https://idp", audience=frozenset({"kafka"}))
    now = int(time.time())
    claims = {"sub": "svc", "exp": now + 300, "iat": now, "iss": "https://idp", "aud": ["kafka", "x"]}
    assert validator.validate(sign(rsa_key, claims), now * 1000).principal_name == "svc"
    assert validator.validate(sign(ec, claims, "ES256"), now * 1000).principal_name == "svc"


def hmac_token(secret: bytes, claims: dict[str, object]) -> str:
    """The algorithm-confusion attack: HS256 keyed with the server's public key (forged by hand:
    joserfc itself refuses to make it)."""

    def part(value: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    signing_input = f"{part({'alg': 'HS256', 'kid': 'k1'})}.{part(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def test_signed_validator_refuses_alg_none_hmac_wrong_key_and_wrong_claims(rsa_key: RSAKey) -> None:
    validator = signed_validator(rsa_key, issuer="https://idp", audience=frozenset({"kafka"}))
    claims = {"sub": "svc", "exp": NOW_S + 300, "iss": "https://idp", "aud": "kafka"}
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    bad_tokens = {
        "alg none": unsecured_token(claims),
        "hmac with the public key": hmac_token(rsa_key.as_pem(private=False), claims),
        "someone else's key": sign(other, claims),
        "expired": sign(rsa_key, {**claims, "exp": NOW_S - 100}),
        "wrong issuer": sign(rsa_key, {**claims, "iss": "https://evil"}),
        "wrong audience": sign(rsa_key, {**claims, "aud": "other"}),
        "no audience": sign(rsa_key, {k: v for k, v in claims.items() if k != "aud"}),
        "tampered": sign(rsa_key, claims)[:-4] + "AAAA",
        "encrypted form": "a.b.c.d.e",
    }
    for what, token in bad_tokens.items():
        with pytest.raises(TokenValidationError):
            validator.validate(token, NOW_MS)
            pytest.fail(what)


def test_signed_validator_without_keys_fails_closed(rsa_key: RSAKey) -> None:
    validator = SignedJwtValidator(KeySet([]))
    with pytest.raises(TokenValidationError, match="no JWKS keys"):
        validator.validate(sign(rsa_key, {"sub": "a", "exp": NOW_S + 60}), NOW_MS)


def test_jwks_parsing_drops_symmetric_keys_and_rejects_garbage() -> None:
    key_set = SignedJwtValidator.parse_key_set(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}))
    assert key_set.keys == []
    for document in ["[]", "{}", "not json", '{"keys": [{"kty": "RSA"}]}']:
        with pytest.raises(ValueError):
            SignedJwtValidator.parse_key_set(document)
