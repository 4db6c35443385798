"""SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka runs them: server and client.

Server states::

    RECEIVE_CLIENT_FIRST --client-first--> RECEIVE_CLIENT_FINAL --client-final--> COMPLETE
            any error, or any message after COMPLETE --------------------------> FAILED

What the server checks (each one a CVE somewhere): the authorization id, if any, equals the user
name (Kafka: no impersonation); the channel-binding attribute is base64 of exactly the GS2 header
the client sent first (``biws`` for ``n,,``); the client-final nonce equals the combined nonce of the
server-first message (CVE-2024-56128) — or, when `accept_librdkafka_nonce` is on, exactly the client
nonce followed by that combined nonce, which is what librdkafka before 2.6.1 sends (its bug #4895;
Debian's kcat still links such a librdkafka). That form still carries the server's fresh nonce whole,
so the proof stays bound to this exchange; anything else is refused; the proof is checked with a
constant-time comparison (CVE-2021-38153); delegation-token logins (``tokenauth``) are refused since
odradek issues no tokens.
An unknown user goes through the same steps with a made-up credential and fails at the proof, so
neither the answer nor its timing tells whether the user exists.

The client (for the broker's own connections and for tests) refuses a server nonce that does not
extend its own, an iteration count outside Kafka's bounds, and a wrong server signature.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Callable
from enum import Enum

from odradek.security.sasl.mechanism import SaslAuthenticationError
from odradek.security.sasl.scram_credentials import (
    MAX_ITERATIONS,
    MIN_ITERATIONS,
    SCRAM_MECHANISMS,
    ScramCredential,
    ScramMechanism,
)
from odradek.security.sasl.scram_messages import (
    ClientFinalMessage,
    ClientFirstMessage,
    ScramFormatError,
    ServerFinalMessage,
    ServerFirstMessage,
)

CredentialLookup = Callable[[str, str], ScramCredential | None]
"""(username, mechanism name) -> the stored credential, or None."""
RandomBytes = Callable[[int], bytes]


class ScramState(Enum):
    RECEIVE_CLIENT_FIRST = "waiting for client-first"
    RECEIVE_CLIENT_FINAL = "waiting for client-final"
    COMPLETE = "authenticated"
    FAILED = "failed"


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _nonce(random_bytes: RandomBytes) -> str:
    return base64.b64encode(random_bytes(18)).decode().replace("+", "-").replace("/", "_")


class ScramServer:
    def __init__(
        self,
        mechanism: str,
        credentials: CredentialLookup,
        *,
        random_bytes: RandomBytes = secrets.token_bytes,
        unknown_user_secret: bytes | None = None,
        nonce: Callable[[], str] | None = None,
        accept_librdkafka_nonce: bool = False,
    ) -> None:
        self.mechanism = mechanism
        self._make_nonce = nonce or (lambda: _nonce(random_bytes))
        self._accept_librdkafka_nonce = accept_librdkafka_nonce
        self._scram: ScramMechanism = SCRAM_MECHANISMS[mechanism]
        self._credentials = credentials
        self._unknown_user_secret = unknown_user_secret or random_bytes(32)
        self.state = ScramState.RECEIVE_CLIENT_FIRST
        self._user = ""
        self._known_user = False
        self._credential: ScramCredential | None = None
        self._client_first: ClientFirstMessage | None = None
        self._client_first_bare = ""
        self._server_first: ServerFirstMessage | None = None

    @property
    def complete(self) -> bool:
        return self.state is ScramState.COMPLETE

    @property
    def authorization_id(self) -> str:
        if self.state is not ScramState.COMPLETE:
            raise SaslAuthenticationError("Authentication exchange has not completed")
        return self._user

    @property
    def session_lifetime_ms(self) -> int | None:
        return None

    def _fail(self, message: str) -> SaslAuthenticationError:
        self.state = ScramState.FAILED
        return SaslAuthenticationError(message)

    def _invalid_credentials(self) -> SaslAuthenticationError:
        return self._fail(
            "Authentication failed during authentication due to invalid credentials with SASL "
            f"mechanism {self.mechanism}"
        )

    def evaluate_response(self, response: bytes) -> bytes:
        try:
            if self.state is ScramState.RECEIVE_CLIENT_FIRST:
                return self._client_first_message(response)
            if self.state is ScramState.RECEIVE_CLIENT_FINAL:
                return self._client_final_message(response)
        except ScramFormatError as exc:
            raise self._fail(f"Authentication failed: {exc}") from exc
        raise self._fail(f"Unexpected SCRAM message in state '{self.state.value}'")

    def _made_up_credential(self, username: str) -> ScramCredential:
        key = self._scram.hmac(self._unknown_user_secret, username.encode())
        return ScramCredential(
            key[:20], self._scram.hash(key), self._scram.hmac(key, b"Server Key"), MIN_ITERATIONS
        )

    def _client_first_message(self, response: bytes) -> bytes:
        first, bare = ClientFirstMessage.parse(response)
        if first.authorization_id and first.authorization_id != first.username:
            raise self._fail(
                "Authentication failed: Client requested an authorization id that is different from username"
            )
        if first.extensions.get("tokenauth", "").lower() == "true":
            raise self._fail("Authentication failed: delegation tokens are not supported")
        credential = self._credentials(first.username, self.mechanism)
        self._known_user = credential is not None
        self._credential = credential or self._made_up_credential(first.username)
        self._user = first.username
        self._client_first = first
        self._client_first_bare = bare
        self._server_first = ServerFirstMessage(
            first.nonce + self._make_nonce(), self._credential.salt, self._credential.iterations
        )
        self.state = ScramState.RECEIVE_CLIENT_FINAL
        return self._server_first.to_text().encode()

    def _client_final_message(self, response: bytes) -> bytes:
        final, without_proof = ClientFinalMessage.parse(response)
        first, server_first, credential = self._client_first, self._server_first, self._credential
        assert first is not None and server_first is not None and credential is not None
        if final.channel_binding != first.gs2_header.encode():
            raise self._fail("Authentication failed: Invalid channel binding")
        legacy = first.nonce + server_first.nonce
        if final.nonce != server_first.nonce and not (
            self._accept_librdkafka_nonce and final.nonce == legacy
        ):
            raise self._fail("Authentication failed: Invalid client nonce in the final client message.")
        auth_message = f"{self._client_first_bare},{server_first.to_text()},{without_proof}".encode()
        client_signature = self._scram.hmac(credential.stored_key, auth_message)
        if len(final.proof) != len(client_signature):
            raise self._invalid_credentials()
        client_key = _xor(final.proof, client_signature)
        proof_ok = hmac.compare_digest(self._scram.hash(client_key), credential.stored_key)
        if not (proof_ok and self._known_user):
            raise self._invalid_credentials()
        self.state = ScramState.COMPLETE
        server_signature = self._scram.hmac(credential.server_key, auth_message)
        return ServerFinalMessage(server_signature).to_bytes()


class ScramClient:
    def __init__(
        self,
        mechanism: str,
        username: str,
        password: str,
        *,
        random_bytes: RandomBytes = secrets.token_bytes,
        extensions: dict[str, str] | None = None,
        nonce: str | None = None,
        authorization_id: str = "",
    ) -> None:
        self.mechanism = mechanism
        self._scram = SCRAM_MECHANISMS[mechanism]
        self._password = password.encode()
        first_nonce = nonce or _nonce(random_bytes)
        self._first = ClientFirstMessage(username, first_nonce, authorization_id, extensions=extensions or {})
        self._server_signature: bytes | None = None
        self._done = False

    @property
    def complete(self) -> bool:
        return self._done

    def initial_response(self) -> bytes:
        return self._first.to_bytes()

    def evaluate_challenge(self, challenge: bytes) -> bytes | None:
        try:
            if self._server_signature is None:
                return self._server_first_message(challenge)
            return self._server_final_message(challenge)
        except ScramFormatError as exc:
            raise SaslAuthenticationError(f"Invalid SCRAM server message: {exc}") from exc

    def _server_first_message(self, challenge: bytes) -> bytes:
        server_first, server_first_text = ServerFirstMessage.parse(challenge)
        if not server_first.nonce.startswith(self._first.nonce) or server_first.nonce == self._first.nonce:
            raise SaslAuthenticationError("Invalid server nonce: does not start with client nonce")
        if not MIN_ITERATIONS <= server_first.iterations <= MAX_ITERATIONS:
            raise SaslAuthenticationError(f"Requested iterations {server_first.iterations} out of bounds")
        salted = self._scram.salted_password(self._password, server_first.salt, server_first.iterations)
        client_key = self._scram.hmac(salted, b"Client Key")
        stored_key = self._scram.hash(client_key)
        without_proof = ClientFinalMessage(self._first.gs2_header.encode(), server_first.nonce, b"")
        auth_message = f"{self._first.bare},{server_first_text},{without_proof.without_proof}".encode()
        proof = _xor(client_key, self._scram.hmac(stored_key, auth_message))
        self._server_signature = self._scram.hmac(self._scram.hmac(salted, b"Server Key"), auth_message)
        final = ClientFinalMessage(self._first.gs2_header.encode(), server_first.nonce, proof)
        return final.to_bytes()

    def _server_final_message(self, challenge: bytes) -> bytes | None:
        final = ServerFinalMessage.parse(challenge)
        if final.error is not None:
            raise SaslAuthenticationError(f"SCRAM authentication failed: {final.error}")
        assert self._server_signature is not None
        if not hmac.compare_digest(final.server_signature, self._server_signature):
            raise SaslAuthenticationError("Invalid server signature in server final message")
        self._done = True
        return None
