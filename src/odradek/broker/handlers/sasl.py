"""SaslHandshake (17) v1 and SaslAuthenticate (36) v0-v2: the SASL exchange inside Kafka requests.

The connection's `SaslSession` (``ctx.session.sasl``) decides; these handlers only translate. On a
listener without SASL, or once authenticated without a re-authentication handshake, both answer
ILLEGAL_SASL_STATE. A failed SaslAuthenticate answers SASL_AUTHENTICATION_FAILED with the reason,
counts in ``odradek_authentication_failures_total``, and the connection closes after
``connection.failed.authentication.delay.ms``. After a SaslHandshake v0 the client sends bare SASL
tokens in size-prefixed frames instead of SaslAuthenticate requests (Kafka 0.10's protocol; librdkafka
requires v0 to be advertised); the connection hands those to the session directly
(`KafkaConnection._raw_sasl_token`), and a failure there closes the connection without an answer.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.dispatcher import CloseConnection
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import sasl_authenticate, sasl_handshake
from odradek.security.principal import KafkaPrincipal
from odradek.security.sasl.session import IllegalSaslState


def handshake(
    ctx: RequestContext, request: sasl_handshake.SaslHandshakeRequest
) -> sasl_handshake.SaslHandshakeResponse:
    session = ctx.session
    if session is None or session.sasl is None:
        return sasl_handshake.SaslHandshakeResponse(error_code=ErrorCode.ILLEGAL_SASL_STATE)
    try:
        outcome = session.sasl.handshake(request.mechanism, ctx.api_version)
    except IllegalSaslState as exc:
        raise CloseConnection(str(exc)) from exc
    if outcome.error_code is not ErrorCode.NO_ERROR and session.sasl.state.name == "FAILED":
        session.failed_authentication = True
    return sasl_handshake.SaslHandshakeResponse(error_code=outcome.error_code, mechanisms=outcome.mechanisms)


def authenticate(
    ctx: RequestContext, request: sasl_authenticate.SaslAuthenticateRequest
) -> sasl_authenticate.SaslAuthenticateResponse:
    session = ctx.session
    if session is None or session.sasl is None:
        return sasl_authenticate.SaslAuthenticateResponse(
            error_code=ErrorCode.ILLEGAL_SASL_STATE,
            error_message="SaslAuthenticate on a listener without SASL",
        )
    try:
        outcome = session.sasl.authenticate(
            bytes(request.auth_bytes), ctx.api_version, ctx.ports.clock.now_ms()
        )
    except IllegalSaslState as exc:
        raise CloseConnection(str(exc)) from exc
    if outcome.failed:
        session.failed_authentication = True
    elif outcome.newly_authenticated is not None:
        session.principal = KafkaPrincipal.user(outcome.newly_authenticated)
        session.newly_authenticated = True
    return sasl_authenticate.SaslAuthenticateResponse(
        error_code=outcome.error_code,
        error_message=outcome.error_message,
        auth_bytes=outcome.auth_bytes,
        session_lifetime_ms=outcome.session_lifetime_ms,
    )


SPECS = [
    ApiSpec(
        ApiKey.SASL_HANDSHAKE,
        0,
        1,
        sasl_handshake.REQUEST,
        sasl_handshake.RESPONSE,
        handshake,
        notes="PLAIN, SCRAM-SHA-256/512, OAUTHBEARER; v0 with raw tokens, v1 with SaslAuthenticate",
    ),
    ApiSpec(
        ApiKey.SASL_AUTHENTICATE,
        0,
        2,
        sasl_authenticate.REQUEST,
        sasl_authenticate.RESPONSE,
        authenticate,
        notes="re-authentication (KIP-368) with connections.max.reauth.ms",
    ),
]
