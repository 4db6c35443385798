"""The client side of a SASL login: which mechanism client to build from a JAAS login module's
options, and one step of the SaslAuthenticate conversation.

Every client of the project that logs in to a broker uses it: the CLI's wire client (from
``--command-config``: ``sasl.mechanism`` + ``sasl.jaas.config``) and a broker's own connections to
other brokers (``sasl.mechanism.inter.broker.protocol`` + the inter-broker listener's
``listener.name.<l>.<mechanism>.sasl.jaas.config``). The options are Kafka's:

* PLAIN, SCRAM-SHA-256/512: ``username="..." password="..."``;
* OAUTHBEARER: an unsecured JWS made the way Kafka's default login handler makes it
  (``unsecuredLoginStringClaim_sub="admin"``, ``unsecuredLoginLifetimeSeconds``, default 3600).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from odradek.security.sasl.mechanism import (
    OAUTHBEARER,
    PLAIN,
    SCRAM_SHA_256,
    SCRAM_SHA_512,
    SaslAuthenticationError,
    SaslClient,
)

if TYPE_CHECKING:
    import ssl

CLIENT_MECHANISMS = (PLAIN, SCRAM_SHA_256, SCRAM_SHA_512, OAUTHBEARER)


@dataclass(frozen=True, slots=True)
class ClientSecurity:
    """What a client connection to a broker needs: its protocol, TLS context and SASL login."""

    protocol: str = "PLAINTEXT"
    ssl_context: ssl.SSLContext | None = None
    mechanism: str | None = None
    sasl_client: Callable[[], SaslClient] | None = None


class SaslLoginConfigError(ValueError):
    """The login cannot be built from these settings (the message names what is missing)."""


def sasl_client_factory(
    mechanism: str, options: Mapping[str, str], *, now_s: Callable[[], float] = time.time
) -> Callable[[], SaslClient]:
    """A new mechanism client per login, from the login module's options."""
    from odradek.security.sasl.jwt_validation import unsecured_token
    from odradek.security.sasl.oauthbearer import OAuthBearerClient
    from odradek.security.sasl.plain import PlainClient
    from odradek.security.sasl.scram import ScramClient

    mechanism = mechanism.upper()
    if mechanism == OAUTHBEARER:
        subject = options.get("unsecuredLoginStringClaim_sub")
        if subject is None:
            raise SaslLoginConfigError(
                "OAUTHBEARER needs unsecuredLoginStringClaim_sub in the OAuthBearerLoginModule's options"
            )
        lifetime = int(options.get("unsecuredLoginLifetimeSeconds", "3600"))

        def token_client() -> SaslClient:
            now = int(now_s())
            return OAuthBearerClient(unsecured_token({"sub": subject, "iat": now, "exp": now + lifetime}))

        return token_client
    if mechanism not in CLIENT_MECHANISMS:
        raise SaslLoginConfigError(
            f"SASL mechanism {mechanism} is not supported (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER)"
        )
    username, password = options.get("username"), options.get("password")
    if username is None or password is None:
        raise SaslLoginConfigError(f"SASL/{mechanism} needs a username and a password")
    if mechanism == PLAIN:
        return lambda: PlainClient(username, password)
    return lambda: ScramClient(mechanism, username, password)


def next_message(
    client: SaslClient, error_code: int, error_message: str | None, auth_bytes: bytes
) -> bytes | None:
    """What to send after a SaslAuthenticate answer (None: the login is complete). A refusal raises
    `SaslAuthenticationError` with the broker's message."""
    if error_code:
        raise SaslAuthenticationError(error_message or f"SaslAuthenticate failed with error {error_code}")
    return client.evaluate_challenge(auth_bytes)
