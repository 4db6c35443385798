"""SASL/OAUTHBEARER (RFC 7628) as Kafka runs it: the client sends a bearer token, the server
validates it with a `TokenValidator` (unsecured JWS for development, signed JWTs against a JWKS
for production: see jwt_validation.py).

Client initial response (``^A`` is 0x01)::

    n,[a=AUTHZID],^Aauth=Bearer TOKEN^A[key=value^A]*^A

Keys are letters only, values printable; ``auth`` may not appear as an extension. An empty
response (just ``^A``) after a server error is the client's acknowledgement.

On an invalid token the server answers with a JSON error challenge
(``{"status":"invalid_token"}``), the client acknowledges with ``^A``, and the server then fails
with the reason, as Kafka's OAuthBearerSaslServer does. An authorization id other than the token's
principal is refused. The token's expiry becomes the session lifetime (KIP-368).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from odradek.security.sasl.mechanism import OAUTHBEARER, SaslAuthenticationError

SEPARATOR = "\x01"
_KEY = re.compile(r"[A-Za-z]+")
_VALUE = re.compile(r"[\x21-\x7E \t\r\n]*")
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_AUTH = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] +(?P<token>\S+)")


@dataclass(frozen=True, slots=True)
class ValidatedToken:
    principal_name: str
    lifetime_ms: int
    """When the token expires (epoch milliseconds)."""
    scope: frozenset[str] = frozenset()
    start_time_ms: int | None = None


class TokenValidationError(Exception):
    def __init__(self, message: str, status: str = "invalid_token", scope: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.scope = scope


class TokenValidator(Protocol):
    def validate(self, token: str, now_ms: int) -> ValidatedToken: ...


@dataclass(frozen=True, slots=True)
class ClientInitialResponse:
    token: str
    authorization_id: str = ""
    extensions: dict[str, str] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        authz = f"a={self.authorization_id}" if self.authorization_id else ""
        ext = "".join(f"{k}={v}{SEPARATOR}" for k, v in self.extensions.items())
        return f"n,{authz},{SEPARATOR}auth=Bearer {self.token}{SEPARATOR}{ext}{SEPARATOR}".encode()

    @classmethod
    def parse(cls, data: bytes) -> ClientInitialResponse:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SaslAuthenticationError("Invalid OAUTHBEARER client first message: not UTF-8") from exc
        if not text.startswith("n,") or not text.endswith(SEPARATOR * 2):
            raise SaslAuthenticationError("Invalid OAUTHBEARER client first message")
        header, sep, body = text[2:].partition(",")
        if not sep or not body.startswith(SEPARATOR):
            raise SaslAuthenticationError("Invalid OAUTHBEARER client first message")
        authorization_id = ""
        if header:
            if not header.startswith("a=") or len(header) == 2:
                raise SaslAuthenticationError("Invalid OAUTHBEARER authorization identity")
            authorization_id = header[2:]
        pairs: dict[str, str] = {}
        for item in body[1:-2].split(SEPARATOR):
            key, eq, value = item.partition("=")
            if not eq or not _KEY.fullmatch(key) or not _VALUE.fullmatch(value) or key in pairs:
                raise SaslAuthenticationError(f"Invalid OAUTHBEARER key-value pair {key[:20]!r}")
            pairs[key] = value
        auth = pairs.pop("auth", None)
        match = _AUTH.fullmatch(auth or "")
        if match is None or not _TOKEN.fullmatch(match["token"]):
            raise SaslAuthenticationError("Invalid OAUTHBEARER client first message: no bearer token")
        return cls(match["token"], authorization_id, pairs)


class OAuthBearerServer:
    mechanism = OAUTHBEARER

    def __init__(self, validator: TokenValidator, now_ms: Callable[[], int]) -> None:
        self._validator = validator
        self._now_ms = now_ms
        self._token: ValidatedToken | None = None
        self._extensions: dict[str, str] = {}
        self._error: str | None = None
        self._failed = False

    @property
    def complete(self) -> bool:
        return self._token is not None

    @property
    def authorization_id(self) -> str:
        if self._token is None:
            raise SaslAuthenticationError("Authentication exchange has not completed")
        return self._token.principal_name

    @property
    def session_lifetime_ms(self) -> int | None:
        return self._token.lifetime_ms if self._token is not None else None

    @property
    def extensions(self) -> dict[str, str]:
        return dict(self._extensions) if self._token is not None else {}

    def evaluate_response(self, response: bytes) -> bytes:
        if self._failed or self._token is not None:
            raise SaslAuthenticationError("Unexpected OAUTHBEARER message")
        if self._error is not None:
            self._failed = True
            message = self._error
            if response != SEPARATOR.encode():
                message = "Expected an OAUTHBEARER error acknowledgement; " + message
            raise SaslAuthenticationError(message)
        try:
            first = ClientInitialResponse.parse(response)
        except SaslAuthenticationError:
            self._failed = True
            raise
        try:
            token = self._validator.validate(first.token, self._now_ms())
        except TokenValidationError as exc:
            self._error = f"Authentication failed: {exc}"
            challenge: dict[str, str] = {"status": exc.status}
            if exc.scope is not None:
                challenge["scope"] = exc.scope
            return json.dumps(challenge, separators=(",", ":")).encode()
        if first.authorization_id and first.authorization_id != token.principal_name:
            self._failed = True
            raise SaslAuthenticationError(
                f"Authentication failed: Client requested an authorization id ({first.authorization_id}) "
                f"that is different from the token's principal name ({token.principal_name})"
            )
        self._extensions = first.extensions
        self._token = token
        return b""


class OAuthBearerClient:
    mechanism = OAUTHBEARER

    def __init__(self, token: str, extensions: dict[str, str] | None = None) -> None:
        self._first = ClientInitialResponse(token, extensions=extensions or {})
        self._done = False
        self._error: str | None = None

    @property
    def complete(self) -> bool:
        return self._done

    def initial_response(self) -> bytes:
        return self._first.to_bytes()

    def evaluate_challenge(self, challenge: bytes) -> bytes | None:
        if challenge:
            self._error = challenge.decode("utf-8", "replace")
            return SEPARATOR.encode()
        self._done = True
        return None
