"""A connection's SASL session on the broker: which requests may come now, and what each SASL
request does to the session (Kafka's SaslServerAuthenticator, sans I/O).

States of a connection on a SASL listener::

    HANDSHAKE --SaslHandshake(known mechanism)--> AUTHENTICATE --exchange complete--> AUTHENTICATED
        ^ ApiVersions allowed                        only SaslAuthenticate             every API
                                                                                          |
    AUTHENTICATED --SaslHandshake (KIP-368 re-authentication)--> REAUTHENTICATE --complete--+
    any failure --> FAILED (the response is sent, after the failure delay, then the connection closes)

* Before authentication only ApiVersions, SaslHandshake and SaslAuthenticate are served; anything
  else closes the connection (it is not answered: the client is not talking SASL). Frames are also
  capped lower before authentication (``sasl.server.max.receive.size``), which the shell enforces.
* A handshake naming a mechanism the listener does not enable answers UNSUPPORTED_SASL_MECHANISM
  with the enabled list; the client may try another.
* The session lifetime (SaslAuthenticate v1+) is ``connections.max.reauth.ms`` capped by the
  credential's own expiry (an OAUTHBEARER token), or 0 when re-authentication is off. Once it has
  passed, the next request closes the connection unless it is a re-authentication, which must use
  the same mechanism and end with the same principal. A client that authenticated with
  SaslAuthenticate v0 cannot re-authenticate, so its session lifetime is enforced by closing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.security.sasl.mechanism import SaslAuthenticationError, SaslServer

PRE_AUTH_APIS = frozenset({ApiKey.API_VERSIONS, ApiKey.SASL_HANDSHAKE, ApiKey.SASL_AUTHENTICATE})


class SessionState(Enum):
    HANDSHAKE = "waiting for SaslHandshake"
    AUTHENTICATE = "waiting for SaslAuthenticate"
    AUTHENTICATED = "authenticated"
    REAUTHENTICATE = "re-authenticating"
    FAILED = "failed"


class IllegalSaslState(Exception):
    """A request that cannot come now: the connection is closed without an answer."""


@dataclass(frozen=True, slots=True)
class HandshakeOutcome:
    """The answer to SaslHandshake: error and enabled mechanisms."""

    error_code: ErrorCode
    mechanisms: list[str]


@dataclass(frozen=True, slots=True)
class AuthenticateOutcome:
    """The answer to one SaslAuthenticate message."""

    error_code: ErrorCode
    error_message: str | None
    auth_bytes: bytes
    session_lifetime_ms: int
    newly_authenticated: str | None = None
    """The authorization id, when this message completed an (re-)authentication."""

    @property
    def failed(self) -> bool:
        return self.error_code is not ErrorCode.NO_ERROR


class SaslSession:
    def __init__(
        self,
        servers: Mapping[str, Callable[[], SaslServer]],
        *,
        max_reauth_ms: int = 0,
    ) -> None:
        self._servers = servers
        self.max_reauth_ms = max_reauth_ms
        self.state = SessionState.HANDSHAKE
        self.mechanism: str | None = None
        self.authorization_id: str | None = None
        self.session_expires_ms: int | None = None
        self._server: SaslServer | None = None
        self._reauth_capable = False
        self.raw_tokens = False
        """After a SaslHandshake v0 the client sends bare SASL tokens, not Kafka requests (Kafka
        0.10's protocol, still what some old clients and tools use)."""

    @property
    def authenticated(self) -> bool:
        return self.state in (SessionState.AUTHENTICATED, SessionState.REAUTHENTICATE)

    def check_request(self, api_key: int, now_ms: int) -> None:
        """Raises IllegalSaslState for a request that cannot be served in this state."""
        state = self.state
        if state is SessionState.AUTHENTICATED:
            if self.expired(now_ms) and api_key != ApiKey.SASL_HANDSHAKE:
                raise IllegalSaslState("session expired: the client did not re-authenticate in time")
            return
        if state is SessionState.HANDSHAKE and api_key in (ApiKey.API_VERSIONS, ApiKey.SASL_HANDSHAKE):
            return
        if (
            state in (SessionState.AUTHENTICATE, SessionState.REAUTHENTICATE)
            and api_key == ApiKey.SASL_AUTHENTICATE
        ):
            return
        name = ApiKey(api_key).name if api_key in ApiKey.__members__.values() else str(api_key)
        raise IllegalSaslState(f"Unexpected Kafka request of type {name} during SASL state '{state.value}'")

    def expired(self, now_ms: int) -> bool:
        return self.session_expires_ms is not None and now_ms >= self.session_expires_ms

    def handshake(self, mechanism: str, version: int = 1) -> HandshakeOutcome:
        enabled = list(self._servers)
        if self.state is SessionState.AUTHENTICATED:
            if not self._reauth_capable:
                raise IllegalSaslState("re-authentication needs SaslAuthenticate v1 or later")
            if mechanism != self.mechanism:
                self.state = SessionState.FAILED
                return HandshakeOutcome(ErrorCode.UNSUPPORTED_SASL_MECHANISM, enabled)
            self.state = SessionState.REAUTHENTICATE
        elif self.state is SessionState.HANDSHAKE:
            if mechanism not in self._servers:
                return HandshakeOutcome(ErrorCode.UNSUPPORTED_SASL_MECHANISM, enabled)
            self.state = SessionState.AUTHENTICATE
            self.mechanism = mechanism
            self.raw_tokens = version == 0
        else:
            raise IllegalSaslState(f"Unexpected SaslHandshake during SASL state '{self.state.value}'")
        self._server = self._servers[mechanism]()
        return HandshakeOutcome(ErrorCode.NO_ERROR, enabled)

    def authenticate(self, auth_bytes: bytes, version: int, now_ms: int) -> AuthenticateOutcome:
        server = self._server
        if server is None or self.state not in (SessionState.AUTHENTICATE, SessionState.REAUTHENTICATE):
            raise IllegalSaslState(f"Unexpected SaslAuthenticate during SASL state '{self.state.value}'")
        try:
            challenge = server.evaluate_response(bytes(auth_bytes))
        except SaslAuthenticationError as exc:
            self.state = SessionState.FAILED
            return AuthenticateOutcome(ErrorCode.SASL_AUTHENTICATION_FAILED, str(exc), b"", 0)
        if not server.complete:
            return AuthenticateOutcome(ErrorCode.NO_ERROR, None, challenge, 0)
        user = server.authorization_id
        if self.state is SessionState.REAUTHENTICATE and user != self.authorization_id:
            self.state = SessionState.FAILED
            message = (
                f"Cannot change principals during re-authentication from {self.authorization_id} to {user}"
            )
            return AuthenticateOutcome(ErrorCode.SASL_AUTHENTICATION_FAILED, message, b"", 0)
        self.authorization_id = user
        self.state = SessionState.AUTHENTICATED
        self.raw_tokens = False
        self._server = None
        self._reauth_capable = version >= 1
        lifetime = self._session_lifetime_ms(server.session_lifetime_ms, now_ms)
        self.session_expires_ms = now_ms + lifetime if lifetime > 0 else None
        return AuthenticateOutcome(
            ErrorCode.NO_ERROR, None, challenge, lifetime if version >= 1 else 0, newly_authenticated=user
        )

    def _session_lifetime_ms(self, credential_expiry_ms: int | None, now_ms: int) -> int:
        if self.max_reauth_ms <= 0:
            return 0
        lifetime = self.max_reauth_ms
        if credential_expiry_ms is not None:
            lifetime = min(lifetime, max(0, credential_expiry_ms - now_ms))
        return max(1, lifetime)
