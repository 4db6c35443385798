"""The shape every SASL mechanism has here: a server (and a client) that turns bytes into bytes.

A `SaslServer` is fed the client's messages, one per SaslAuthenticate request (or one per raw
frame for SaslHandshake v0 clients), and answers each with the bytes to send back. When the
exchange succeeds, `complete` is True and `authorization_id` names the authenticated user; a
failure raises `SaslAuthenticationError` with the message the client will see
(SASL_AUTHENTICATION_FAILED). `session_lifetime_ms` is the credential's own lifetime (an
OAUTHBEARER token's expiry), which caps the session for re-authentication (KIP-368).

Servers and clients take no clock and no sockets: randomness (nonces) comes from an injected
`random_bytes`, time from a `now_ms` given per call where a mechanism needs it.
"""

from __future__ import annotations

from typing import Protocol

PLAIN = "PLAIN"
SCRAM_SHA_256 = "SCRAM-SHA-256"
SCRAM_SHA_512 = "SCRAM-SHA-512"
OAUTHBEARER = "OAUTHBEARER"
ALL_MECHANISMS = (PLAIN, SCRAM_SHA_256, SCRAM_SHA_512, OAUTHBEARER)


class SaslAuthenticationError(Exception):
    """The client failed to authenticate; str(exc) is what it is told."""


class SaslServer(Protocol):
    mechanism: str

    def evaluate_response(self, response: bytes) -> bytes: ...

    @property
    def complete(self) -> bool: ...

    @property
    def authorization_id(self) -> str: ...

    @property
    def session_lifetime_ms(self) -> int | None: ...


class SaslClient(Protocol):
    mechanism: str

    def initial_response(self) -> bytes: ...

    def evaluate_challenge(self, challenge: bytes) -> bytes | None:
        """The next message to send, or None when the exchange is over (success)."""
        ...

    @property
    def complete(self) -> bool: ...
