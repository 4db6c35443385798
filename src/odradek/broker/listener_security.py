"""Each listener's security, from Kafka's configs: its protocol, TLS context, SASL mechanisms.

    listeners=CLIENT://:9093,INTERNAL://:9094
    listener.security.protocol.map=CLIENT:SASL_SSL,INTERNAL:SSL
    sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN          (listener.name.client.sasl.enabled.mechanisms)
    listener.name.client.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule \\
        required user_admin="admin-secret" user_alice="alice-secret";

A listener whose name is a protocol name (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL) needs no map
entry. The mechanisms of a SASL listener:

* PLAIN: the users of the PlainLoginModule's ``user_NAME="password"`` options (required);
* SCRAM-SHA-256/512: the credentials in the cluster metadata (``odradek user create``,
  AlterUserScramCredentials), looked up at each login;
* OAUTHBEARER: unsecured JWS tokens (Kafka's default handler, for development; JAAS options
  ``unsecuredValidator*``), unless ``sasl.oauthbearer.jwks.endpoint.url`` is set, and then only
  tokens signed by a key of that JWKS (``listener.name.<l>.oauthbearer.sasl.server.callback.handler.class``
  may name Kafka's OAuthBearerValidatorCallbackHandler; no other class is accepted).

GSSAPI (Kerberos) is not supported: a listener enabling it fails at start with that message.
Everything is checked at start, with Kafka's config names in the messages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from odradek.broker.tls import ListenerTls, TlsConfigError, TlsSettings, listener_setting
from odradek.security.sasl.mechanism import OAUTHBEARER, PLAIN, SCRAM_SHA_256, SCRAM_SHA_512

if TYPE_CHECKING:  # (the SASL modules are imported when a listener enables SASL)
    from odradek.security.jaas import LoginModule
    from odradek.security.principal_mapping import MappingRule
    from odradek.security.sasl.mechanism import SaslServer
    from odradek.security.sasl.oauthbearer import TokenValidator
    from odradek.security.sasl.scram import CredentialLookup

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
TLS_TRANSPORTS = ("broker", "loop")
VALIDATOR_HANDLERS = frozenset(
    {
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler",
        "org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerValidatorCallbackHandler",
    }
)


class ListenerConfigError(ValueError):
    pass


def parse_protocol_map(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, protocol = item.strip().partition(":")
        if not sep or protocol.upper() not in PROTOCOLS:
            raise ListenerConfigError(f"listener.security.protocol.map: invalid entry {item.strip()!r}")
        out[name.upper()] = protocol.upper()
    return out


@dataclass(slots=True)
class ListenerSecurity:
    """The security of one listener: protocol, TLS, SASL mechanisms, principal mapping, JAAS."""

    name: str
    protocol: str
    tls: ListenerTls | None = None
    mechanisms: dict[str, Callable[[], SaslServer]] = field(default_factory=dict)
    principal_rules: tuple[MappingRule, ...] = ()
    jaas: dict[str, LoginModule] = field(default_factory=dict)
    """The listener's login modules by mechanism (also the broker's own credentials on it)."""
    tls_transport: str = "broker"
    """``odradek.ssl.transport``: ``broker`` (`tls_transport.py`) or ``loop`` (the event loop's TLS)."""

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.protocol.endswith("SSL")


@dataclass(slots=True)
class SecurityContext:
    """What the listeners' SASL servers need from the rest of the broker."""

    scram_credentials: CredentialLookup
    now_ms: Callable[[], int]
    signed_validator: Callable[[], TokenValidator | None] = lambda: None
    """The JWKS-backed validator when one is configured (its key set is refreshed by a shell)."""


def listener_security(
    props: Mapping[str, str], listener: str, protocol_map: Mapping[str, str], context: SecurityContext
) -> ListenerSecurity:
    protocol = protocol_map.get(listener.upper()) or (
        listener.upper() if listener.upper() in PROTOCOLS else None
    )
    if protocol is None:
        raise ListenerConfigError(
            f"No security protocol defined for listener {listener} (listener.security.protocol.map)"
        )
    security = ListenerSecurity(listener, protocol)
    rules = listener_setting(props, listener, "ssl.principal.mapping.rules")
    if rules is not None or security.uses_tls:  # (the rules map TLS peers' names)
        from odradek.security.principal_mapping import PrincipalMappingError, parse_rules

        try:
            security.principal_rules = parse_rules(rules)
        except PrincipalMappingError as exc:
            raise ListenerConfigError(f"ssl.principal.mapping.rules: {exc}") from exc
    if security.uses_tls:
        try:
            security.tls = ListenerTls(TlsSettings.for_listener(props, listener))
        except TlsConfigError as exc:
            raise ListenerConfigError(f"listener {listener}: {exc}") from exc
        transport = listener_setting(props, listener, "odradek.ssl.transport", "broker") or "broker"
        if transport not in TLS_TRANSPORTS:
            raise ListenerConfigError(
                f"listener {listener}: odradek.ssl.transport={transport!r} (expected broker or loop)"
            )
        security.tls_transport = transport
    if security.uses_sasl:
        enabled = listener_setting(props, listener, "sasl.enabled.mechanisms", "GSSAPI") or ""
        for mechanism in (m.strip().upper() for m in enabled.split(",") if m.strip()):
            security.mechanisms[mechanism] = _server_factory(props, listener, mechanism, security, context)
        if not security.mechanisms:
            raise ListenerConfigError(f"listener {listener}: sasl.enabled.mechanisms is empty")
    return security


def _jaas(props: Mapping[str, str], listener: str, mechanism: str) -> LoginModule | None:
    from odradek.security.jaas import JaasConfigError, parse_jaas_config

    text = props.get(f"listener.name.{listener.lower()}.{mechanism.lower()}.sasl.jaas.config")
    if text is None:
        return None
    try:
        return parse_jaas_config(text)
    except JaasConfigError as exc:
        raise ListenerConfigError(
            f"listener.name.{listener.lower()}.{mechanism.lower()}.sasl.jaas.config: {exc}"
        ) from exc


def _server_factory(
    props: Mapping[str, str],
    listener: str,
    mechanism: str,
    security: ListenerSecurity,
    context: SecurityContext,
) -> Callable[[], SaslServer]:
    from odradek.security.jaas import PLAIN_LOGIN_MODULE
    from odradek.security.sasl.jwt_validation import SignedJwtValidator, UnsecuredJwsValidator
    from odradek.security.sasl.oauthbearer import OAuthBearerServer
    from odradek.security.sasl.plain import PlainServer, jaas_users_check
    from odradek.security.sasl.scram import ScramServer

    module = _jaas(props, listener, mechanism)
    if module is not None:
        security.jaas[mechanism] = module
    if mechanism == PLAIN:
        if module is None or module.class_name != PLAIN_LOGIN_MODULE:
            raise ListenerConfigError(
                f"SASL/PLAIN on listener {listener} needs "
                f"listener.name.{listener.lower()}.plain.sasl.jaas.config "
                'with the PlainLoginModule and user_NAME="password" entries'
            )
        check = jaas_users_check(module.users())
        return lambda: PlainServer(check)
    if mechanism in (SCRAM_SHA_256, SCRAM_SHA_512):
        lookup = context.scram_credentials
        legacy = props.get("odradek.sasl.scram.librdkafka.nonce", "true").strip().lower() == "true"
        return lambda: ScramServer(mechanism, lookup, accept_librdkafka_nonce=legacy)
    if mechanism == OAUTHBEARER:
        handler = listener_setting(
            props, listener, "oauthbearer.sasl.server.callback.handler.class"
        ) or props.get(f"listener.name.{listener.lower()}.oauthbearer.sasl.server.callback.handler.class")
        jwks = listener_setting(props, listener, "sasl.oauthbearer.jwks.endpoint.url")
        if handler is not None and handler not in VALIDATOR_HANDLERS:
            raise ListenerConfigError(f"callback handler {handler} is not supported (only Kafka's validator)")
        if handler is not None and not jwks:
            # CVE-2026-110985 class: a validating handler without keys must not fail open.
            raise ListenerConfigError(
                f"listener {listener}: the OAUTHBEARER validator needs sasl.oauthbearer.jwks.endpoint.url"
            )
        now_ms = context.now_ms
        if jwks:
            signed = context.signed_validator

            def signed_server() -> SaslServer:
                validator = signed()
                if validator is None:  # no key set yet: refuse every token
                    validator = SignedJwtValidator.empty()
                return OAuthBearerServer(validator, now_ms)

            return signed_server
        unsecured = UnsecuredJwsValidator.from_jaas_options(module.options if module is not None else {})
        return lambda: OAuthBearerServer(unsecured, now_ms)
    if mechanism == "GSSAPI":
        raise ListenerConfigError(
            f"listener {listener}: SASL/GSSAPI (Kerberos) is not supported; set sasl.enabled.mechanisms to "
            "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and/or OAUTHBEARER"
        )
    raise ListenerConfigError(f"listener {listener}: unknown SASL mechanism {mechanism}")
