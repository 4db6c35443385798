"""Hostile input against the secured listeners: each gets a clear error or a closed connection, the
broker stays up, and nothing leaks (a probe over another listener still works afterwards)."""

from __future__ import annotations

import base64
import json
import socket
import ssl
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import RSAKey
from secure_broker import Pki, secure_broker

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import api_versions, metadata, sasl_authenticate, sasl_handshake
from odradek.security.sasl.jwt_validation import unsecured_token
from odradek.testing.broker_process import BrokerProcess
from odradek.testing.raw_client import RawClient

pytestmark = pytest.mark.compat


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BrokerProcess, Pki, RSAKey]]:
    root = tmp_path_factory.mktemp("hostile")
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    jwks = root / "jwks.json"
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    extra = {
        "odradek.ssl.handshake.timeout.ms": "500",
        "sasl.server.max.receive.size": "4096",
        "socket.request.max.bytes": "65536",
        # the SASL_PLAINTEXT listener accepts only signed tokens (JWKS file); SASL_SSL keeps unsecured ones
        "listener.name.sasl_plaintext.sasl.oauthbearer.jwks.endpoint.url": f"file:{jwks}",
        "sasl.oauthbearer.jwks.endpoint.url": f"file:{jwks}",
        "sasl.oauthbearer.expected.issuer": "https://idp.example",
    }
    with secure_broker(root, extra) as (broker, pki):
        yield broker, pki, key


def still_up(broker: BrokerProcess) -> None:
    with RawClient.connect(broker.bootstrap_for("PLAINTEXT")) as probe:
        assert (
            probe.call(ApiKey.API_VERSIONS, 3, api_versions.ApiVersionsRequest("probe", "1")).error_code == 0
        )


def raw(broker: BrokerProcess, listener: str) -> RawClient:
    return RawClient.connect(broker.bootstrap_for(listener))


def test_plaintext_to_a_tls_port_is_closed(hostile: tuple[BrokerProcess, Pki, RSAKey]) -> None:
    broker, _, _ = hostile
    with raw(broker, "SSL") as client:
        client.send_frame(b"\x00\x12\x00\x03" + b"\x00" * 20)  # an ApiVersions-looking frame, no TLS
        assert client.closed_by_peer(5)
    still_up(broker)


def test_truncated_and_stalled_tls_handshakes_are_closed(hostile: tuple[BrokerProcess, Pki, RSAKey]) -> None:
    broker, _, _ = hostile
    host, port = broker.bootstrap_for("SSL").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
        )  # the start of a ClientHello, then nothing
        assert sock.recv(1024) == b""  # closed by the broker's handshake deadline
    assert time.monotonic() - started < 4
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"\x16\x03\x01\x00\x05hello")  # a record too short to be a handshake
    still_up(broker)


def handshake(client: RawClient, mechanism: str) -> None:
    assert (
        client.call(ApiKey.SASL_HANDSHAKE, 1, sasl_handshake.SaslHandshakeRequest(mechanism)).error_code == 0
    )


def test_requests_before_authentication_close_the_connection(
    hostile: tuple[BrokerProcess, Pki, RSAKey],
) -> None:
    broker, _, _ = hostile
    with raw(broker, "SASL_PLAINTEXT") as client:
        client.send(ApiKey.METADATA, 12, metadata.MetadataRequest(topics=None))
        assert client.closed_by_peer(5)
    with raw(broker, "SASL_PLAINTEXT") as client:
        client.send_raw((8192).to_bytes(4, "big") + b"x" * 100)  # above sasl.server.max.receive.size
        assert client.closed_by_peer(5)
    still_up(broker)


def test_an_authenticated_client_sending_a_too_large_frame_is_closed(
    hostile: tuple[BrokerProcess, Pki, RSAKey],
) -> None:
    broker, _, _ = hostile
    with raw(broker, "SASL_PLAINTEXT") as client:
        handshake(client, "PLAIN")
        response = client.call(
            ApiKey.SASL_AUTHENTICATE, 2, sasl_authenticate.SaslAuthenticateRequest(b"\0alice\0alice-secret")
        )
        assert response.error_code == 0
        client.send_raw((10_000_000).to_bytes(4, "big") + b"x" * 100)  # above socket.request.max.bytes
        assert client.closed_by_peer(5)
    still_up(broker)


def test_scram_with_a_wrong_nonce_fails(hostile: tuple[BrokerProcess, Pki, RSAKey]) -> None:
    broker, _, _ = hostile
    with raw(broker, "SASL_PLAINTEXT") as client:
        handshake(client, "SCRAM-SHA-256")
        first = client.call(
            ApiKey.SASL_AUTHENTICATE, 2, sasl_authenticate.SaslAuthenticateRequest(b"n,,n=admin,r=abc")
        )
        assert first.error_code == 0 and first.auth_bytes.startswith(b"r=abc")
        final = b"c=biws,r=abcFORGED,p=" + base64.b64encode(b"x" * 32)
        failed = client.call(ApiKey.SASL_AUTHENTICATE, 2, sasl_authenticate.SaslAuthenticateRequest(final))
        assert failed.error_code == ErrorCode.SASL_AUTHENTICATION_FAILED
        assert "nonce" in (failed.error_message or "")
        assert client.closed_by_peer(5)
    still_up(broker)


def oauth(token: str) -> bytes:
    return f"n,,\x01auth=Bearer {token}\x01\x01".encode()


def test_signed_only_listener_refuses_alg_none_and_wrong_issuer(
    hostile: tuple[BrokerProcess, Pki, RSAKey],
) -> None:
    broker, _, key = hostile
    now = int(time.time())
    claims = {"sub": "svc", "exp": now + 300, "iat": now, "iss": "https://idp.example"}
    signed = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
    for token, accepted in [
        (signed, True),
        (unsecured_token(claims), False),  # alg=none
        (jwt.encode({"alg": "RS256", "kid": "k1"}, {**claims, "iss": "https://evil"}, key), False),
    ]:
        with raw(broker, "SASL_PLAINTEXT") as client:
            handshake(client, "OAUTHBEARER")
            response = client.call(
                ApiKey.SASL_AUTHENTICATE, 2, sasl_authenticate.SaslAuthenticateRequest(oauth(token))
            )
            if accepted:
                assert response.error_code == 0 and response.auth_bytes == b""
                continue
            assert response.error_code == 0 and json.loads(response.auth_bytes)["status"] == "invalid_token"
            ack = client.call(ApiKey.SASL_AUTHENTICATE, 2, sasl_authenticate.SaslAuthenticateRequest(b"\x01"))
            assert ack.error_code == ErrorCode.SASL_AUTHENTICATION_FAILED
    still_up(broker)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    mechanism=st.sampled_from(["PLAIN", "SCRAM-SHA-512", "OAUTHBEARER"]),
    messages=st.lists(st.binary(max_size=200), min_size=1, max_size=3),
)
def test_generated_sasl_frames(
    hostile: tuple[BrokerProcess, Pki, RSAKey], mechanism: str, messages: list[bytes]
) -> None:
    broker, _, _ = hostile
    with raw(broker, "SASL_SSL" if mechanism == "OAUTHBEARER" else "SASL_PLAINTEXT") as client:
        if mechanism == "OAUTHBEARER":  # over TLS: wrap the socket first
            context = ssl.create_default_context(cafile=str(hostile[1].ca))
            client.sock = context.wrap_socket(client.sock, server_hostname="localhost")
        handshake(client, mechanism)
        for message in messages:
            try:
                response = client.call(
                    ApiKey.SASL_AUTHENTICATE, 2, sasl_authenticate.SaslAuthenticateRequest(message)
                )
            except Exception:  # closed after a failure: that is an answer too
                break
            assert response.error_code in (0, ErrorCode.SASL_AUTHENTICATION_FAILED)
            if response.error_code:
                break
    still_up(broker)
