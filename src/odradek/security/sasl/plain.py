"""SASL/PLAIN (RFC 4616): one message, ``authzid NUL authcid NUL password``, UTF-8.

As Kafka's PlainSaslServer: exactly three tokens; the username and the password must not be empty;
an authorization id other than the username is refused (CVE-2017-12610: no impersonation); the
password is checked by the `verify` callback (which must compare in constant time).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping

from odradek.security.sasl.mechanism import PLAIN, SaslAuthenticationError

PasswordCheck = Callable[[str, str], bool]


def jaas_users_check(users: Mapping[str, str]) -> PasswordCheck:
    """The PlainLoginModule's ``user_NAME="password"`` table as a constant-time check."""
    encoded = {name: password.encode() for name, password in users.items()}

    def verify(username: str, password: str) -> bool:
        expected = encoded.get(username)
        given = password.encode()
        if expected is None:
            hmac.compare_digest(given, given)  # the same work for unknown users
            return False
        return hmac.compare_digest(expected, given)

    return verify


class PlainServer:
    mechanism = PLAIN

    def __init__(self, verify: PasswordCheck) -> None:
        self._verify = verify
        self._user: str | None = None

    @property
    def complete(self) -> bool:
        return self._user is not None

    @property
    def authorization_id(self) -> str:
        if self._user is None:
            raise SaslAuthenticationError("Authentication exchange has not completed")
        return self._user

    @property
    def session_lifetime_ms(self) -> int | None:
        return None

    def evaluate_response(self, response: bytes) -> bytes:
        if self._user is not None:
            raise SaslAuthenticationError("SASL/PLAIN authentication already complete")
        try:
            text = response.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SaslAuthenticationError("Invalid SASL/PLAIN response: not UTF-8") from exc
        tokens = text.split("\0")
        if len(tokens) != 3:
            raise SaslAuthenticationError(
                f"Invalid SASL/PLAIN response: expected 3 tokens, got {len(tokens)}"
            )
        authzid, username, password = tokens
        if not username:
            raise SaslAuthenticationError("Authentication failed: username not specified")
        if not password:
            raise SaslAuthenticationError("Authentication failed: password not specified")
        if authzid and authzid != username:
            raise SaslAuthenticationError(
                "Authentication failed: Client requested an authorization id that is different from username"
            )
        if not self._verify(username, password):
            raise SaslAuthenticationError("Authentication failed: Invalid username or password")
        self._user = username
        return b""


class PlainClient:
    mechanism = PLAIN

    def __init__(self, username: str, password: str) -> None:
        self._message = f"\0{username}\0{password}".encode()
        self._done = False

    @property
    def complete(self) -> bool:
        return self._done

    def initial_response(self) -> bytes:
        return self._message

    def evaluate_challenge(self, challenge: bytes) -> bytes | None:
        self._done = True
        return None
