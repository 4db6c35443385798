"""SCRAM: the RFC 7677 vector, client/server round trips, and every check of RFC 5802 the server makes."""

from __future__ import annotations

import base64

import pytest

from odradek.security.sasl.mechanism import SCRAM_SHA_256, SCRAM_SHA_512, SaslAuthenticationError
from odradek.security.sasl.scram import ScramClient, ScramServer, ScramState
from odradek.security.sasl.scram_credentials import (
    SCRAM_MECHANISMS,
    ScramCredential,
    iterations_error,
)
from odradek.security.sasl.scram_messages import (
    ClientFirstMessage,
    ScramFormatError,
    escape_saslname,
    unescape_saslname,
)

# RFC 7677 section 3
RFC_SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
RFC_CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"


def rfc_credentials(user: str, mechanism: str) -> ScramCredential | None:
    if user != "user":
        return None
    return ScramCredential.from_password(SCRAM_MECHANISMS[mechanism], "pencil", RFC_SALT, 4096)


def store(users: dict[str, str], mechanism: str = SCRAM_SHA_256, iterations: int = 4096):
    creds = {
        name: ScramCredential.from_password(
            SCRAM_MECHANISMS[mechanism], pw, b"salt-" + name.encode(), iterations
        )
        for name, pw in users.items()
    }
    return lambda user, mech: creds.get(user) if mech == mechanism else None


def exchange(client: ScramClient, server: ScramServer) -> None:
    message: bytes | None = client.initial_response()
    while message is not None:
        challenge = server.evaluate_response(message)
        message = client.evaluate_challenge(challenge)


def test_rfc7677_vector() -> None:
    server = ScramServer(SCRAM_SHA_256, rfc_credentials, nonce=lambda: RFC_SERVER_NONCE)
    server_first = server.evaluate_response(b"n,,n=user,r=" + RFC_CLIENT_NONCE.encode())
    assert server_first == (
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    )
    server_final = server.evaluate_response(
        b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    )
    assert server_final == b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    assert server.complete and server.authorization_id == "user"


def test_rfc7677_vector_from_our_client() -> None:
    client = ScramClient(SCRAM_SHA_256, "user", "pencil", nonce=RFC_CLIENT_NONCE)
    assert client.initial_response() == b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    final = client.evaluate_challenge(
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    )
    assert final == (
        b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    )
    assert client.evaluate_challenge(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=") is None
    assert client.complete


@pytest.mark.parametrize("mechanism", [SCRAM_SHA_256, SCRAM_SHA_512])
def test_round_trip_with_escaped_names(mechanism: str) -> None:
    users = {"al,i=ce": "s3cr=t,", "bob": "pw"}
    for name, password in users.items():
        server = ScramServer(mechanism, store(users, mechanism))
        exchange(ScramClient(mechanism, name, password), server)
        assert server.authorization_id == name


def test_wrong_password_and_unknown_user_fail_alike() -> None:
    messages = []
    for user, password in [("bob", "wrong"), ("nobody", "pw")]:
        server = ScramServer(SCRAM_SHA_256, store({"bob": "pw"}))
        with pytest.raises(SaslAuthenticationError) as failure:
            exchange(ScramClient(SCRAM_SHA_256, user, password), server)
        messages.append(str(failure.value))
        assert server.state is ScramState.FAILED
    assert messages[0] == messages[1]
    assert "invalid credentials with SASL mechanism SCRAM-SHA-256" in messages[0]


def test_mechanism_mismatch_fails() -> None:
    server = ScramServer(SCRAM_SHA_512, store({"bob": "pw"}, SCRAM_SHA_256))
    with pytest.raises(SaslAuthenticationError):
        exchange(ScramClient(SCRAM_SHA_512, "bob", "pw"), server)


def _server_after_first(client_first: bytes = b"n,,n=bob,r=abc") -> tuple[ScramServer, str]:
    server = ScramServer(SCRAM_SHA_256, store({"bob": "pw"}), nonce=lambda: "XYZ")
    server.evaluate_response(client_first)
    return server, "abcXYZ"


def _final_for(server_nonce: str, binding: str = "biws", password: str = "pw") -> bytes:
    """A correct client-final for bob except for what the caller changes."""
    client = ScramClient(SCRAM_SHA_256, "bob", password, nonce="abc")
    client.initial_response()
    salt = base64.b64encode(b"salt-bob").decode()
    final = client.evaluate_challenge(f"r=abcXYZ,s={salt},i=4096".encode())
    assert final is not None
    return final.replace(b"r=abcXYZ", f"r={server_nonce}".encode()).replace(
        b"c=biws", f"c={binding}".encode()
    )


def test_correct_final_message_passes() -> None:
    server, nonce = _server_after_first()
    assert server.evaluate_response(_final_for(nonce)).startswith(b"v=")


def test_client_final_nonce_must_equal_server_nonce() -> None:  # CVE-2024-56128
    for wrong in ["abc", "abcXY", "abcXYZW", "zzzXYZ"]:
        server, _ = _server_after_first()
        with pytest.raises(SaslAuthenticationError, match="nonce"):
            server.evaluate_response(_final_for(wrong))


def _final_with_proof(nonce: str, server_first: str = "r=abcXYZ,s={salt},i=4096") -> bytes:
    """bob's client-final with `nonce`, its proof computed as a client would over the real
    server-first message (what librdkafka < 2.6.1 does with its doubled nonce)."""
    scram = SCRAM_MECHANISMS[SCRAM_SHA_256]
    salt = b"salt-bob"
    server_first = server_first.format(salt=base64.b64encode(salt).decode())
    salted = scram.salted_password(b"pw", salt, 4096)
    client_key = scram.hmac(salted, b"Client Key")
    without_proof = f"c=biws,r={nonce}"
    auth_message = f"n=bob,r=abc,{server_first},{without_proof}".encode()
    signature = scram.hmac(scram.hash(client_key), auth_message)
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()


def test_librdkafka_nonce_form_only_when_accepted() -> None:
    """librdkafka < 2.6.1 sends client nonce + server nonce (its bug #4895): accepted only when the
    broker is told to, and no other variation ever is."""
    legacy = "abc" + "abcXYZ"
    server, _ = _server_after_first()
    assert server.evaluate_response(_final_with_proof("abcXYZ")).startswith(b"v=")  # the helper is right
    server, _ = _server_after_first()
    with pytest.raises(SaslAuthenticationError, match="nonce"):
        server.evaluate_response(_final_with_proof(legacy))

    def lenient() -> ScramServer:
        s = ScramServer(
            SCRAM_SHA_256, store({"bob": "pw"}), nonce=lambda: "XYZ", accept_librdkafka_nonce=True
        )
        s.evaluate_response(b"n,,n=bob,r=abc")
        return s

    assert lenient().evaluate_response(_final_with_proof(legacy)).startswith(b"v=")
    for wrong in ["abcXYZabc", "XYZ", "abcabcXY", "abcabcabcXYZ"]:
        with pytest.raises(SaslAuthenticationError, match="nonce"):
            lenient().evaluate_response(_final_with_proof(wrong))


def test_channel_binding_must_echo_the_gs2_header() -> None:
    server, nonce = _server_after_first()
    with pytest.raises(SaslAuthenticationError, match="channel binding"):
        server.evaluate_response(_final_for(nonce, binding=base64.b64encode(b"y,,").decode()))


@pytest.mark.parametrize(
    "first",
    [
        b"p=tls-unique,,n=bob,r=abc",  # channel binding
        b"n,a=alice,n=bob,r=abc",  # impersonation (CVE-2017-12610)
        b"n,,m=ext,n=bob,r=abc",  # mandatory extension
        b"n,,n=b=2Xob,r=abc",  # bad escape
        b"n,,n=,r=abc",  # empty user
        b"n,,n=bob,r=a,c",  # bad nonce
        b"n,,n=bob",  # no nonce
        b"n,,r=abc,n=bob",  # wrong order
        b"n,,n=bob,r=abc,tokenauth=true",  # delegation tokens
        b"\xff\xfe",
        b"",
    ],
)
def test_hostile_client_first_messages(first: bytes) -> None:
    server = ScramServer(SCRAM_SHA_256, store({"bob": "pw"}))
    with pytest.raises(SaslAuthenticationError):
        server.evaluate_response(first)
    assert server.state is ScramState.FAILED
    with pytest.raises(SaslAuthenticationError):
        server.evaluate_response(b"n,,n=bob,r=abc")


def test_authzid_equal_to_user_is_accepted() -> None:
    server = ScramServer(SCRAM_SHA_256, store({"bob": "pw"}))
    client = ScramClient(SCRAM_SHA_256, "bob", "pw", authorization_id="bob")
    assert client.initial_response().startswith(b"n,a=bob,n=bob,r=")
    exchange(client, server)
    assert server.authorization_id == "bob"


def test_short_proof_fails_cleanly() -> None:
    server, nonce = _server_after_first()
    with pytest.raises(SaslAuthenticationError):
        server.evaluate_response(f"c=biws,r={nonce},p=AAAA".encode())


def test_client_rejects_bad_server_messages() -> None:
    salt = base64.b64encode(b"s").decode()
    for challenge in [
        f"r=zzzXYZ,s={salt},i=4096",  # nonce does not extend ours
        f"r=abc,s={salt},i=4096",  # nothing added by the server
        f"r=abcXYZ,s={salt},i=1",  # too few iterations
        f"r=abcXYZ,s={salt},i=1000000000",  # too many
        "r=abcXYZ,s=!!,i=4096",
    ]:
        client = ScramClient(SCRAM_SHA_256, "bob", "pw", nonce="abc")
        client.initial_response()
        with pytest.raises(SaslAuthenticationError):
            client.evaluate_challenge(challenge.encode())
    client = ScramClient(SCRAM_SHA_256, "bob", "pw", nonce="abc")
    client.initial_response()
    client.evaluate_challenge(f"r=abcXYZ,s={salt},i=4096".encode())
    with pytest.raises(SaslAuthenticationError, match="server signature"):
        client.evaluate_challenge(b"v=" + base64.b64encode(b"x" * 32))


def test_saslname_escaping() -> None:
    assert escape_saslname("a,b=c") == "a=2Cb=3Dc"
    assert unescape_saslname("a=2Cb=3Dc") == "a,b=c"
    with pytest.raises(ScramFormatError):
        unescape_saslname("a=")
    message, bare = ClientFirstMessage.parse(b"n,,n=a=2Cb,r=xyz,foo=bar")
    assert (
        message.username == "a,b" and message.extensions == {"foo": "bar"} and bare == "n=a=2Cb,r=xyz,foo=bar"
    )


def test_credential_text_form_and_iteration_bounds() -> None:
    credential = ScramCredential.from_password(SCRAM_MECHANISMS[SCRAM_SHA_512], "pw", b"salty", 8192)
    assert ScramCredential.from_text(credential.to_text()) == credential
    assert credential.to_text().startswith("salt=c2FsdHk=,stored_key=")
    with pytest.raises(ValueError):
        ScramCredential.from_text("salt=x")
    mech = SCRAM_MECHANISMS[SCRAM_SHA_256]
    assert iterations_error(mech, 4096) is None and iterations_error(mech, 16384) is None
    assert iterations_error(mech, 4095) and iterations_error(mech, 16385)
