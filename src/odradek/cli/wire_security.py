"""TLS and SASL for `wire_client.py`, from the same client properties `--command-config` reads.

Kafka client names are read (``security.protocol``, ``sasl.mechanism``, ``sasl.jaas.config``,
``ssl.truststore.*``, ``ssl.keystore.*``, ``ssl.endpoint.identification.algorithm``), with
librdkafka's ``sasl.username``/``sasl.password``/``ssl.ca.location`` accepted too, so one file
serves every command. The SASL exchange is SaslHandshake v1 then SaslAuthenticate, driven by the
same mechanism clients the broker's tests and its own connections use (`odradek.security.sasl`).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping

from odradek.cli.errors import CliError
from odradek.security.jaas import OAUTHBEARER_LOGIN_MODULE, JaasConfigError, parse_jaas_config
from odradek.security.sasl.login import ClientSecurity, SaslLoginConfigError, sasl_client_factory
from odradek.security.sasl.mechanism import OAUTHBEARER, PLAIN, SaslClient

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


class WireSecurity(ClientSecurity):
    __slots__ = ()

    @classmethod
    def from_properties(cls, props: Mapping[str, str]) -> WireSecurity:
        protocol = props.get("security.protocol", "PLAINTEXT").upper()
        if protocol not in PROTOCOLS:
            raise CliError(f"security.protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")
        context = _ssl_context(props) if protocol.endswith("SSL") else None
        if not protocol.startswith("SASL"):
            return cls(protocol, context)
        mechanism = props.get("sasl.mechanism", props.get("sasl.mechanisms", PLAIN)).upper()
        return cls(protocol, context, mechanism, _sasl_client(mechanism, props))


def _ssl_context(props: Mapping[str, str]) -> ssl.SSLContext:
    from odradek.broker.tls import TlsConfigError, TlsSettings

    settings = dict(props)
    if "ssl.ca.location" in settings and "ssl.truststore.location" not in settings:
        settings["ssl.truststore.location"] = settings["ssl.ca.location"]
    try:
        context = TlsSettings.for_listener(settings, "client").client_context()
    except TlsConfigError as exc:
        raise CliError(f"TLS settings: {exc}") from exc
    if not (settings.get("ssl.truststore.location") or settings.get("ssl.truststore.certificates")):
        context.load_default_certs()
    return context


def _sasl_client(mechanism: str, props: Mapping[str, str]) -> Callable[[], SaslClient]:
    options: dict[str, str] = {}
    if "sasl.jaas.config" in props:
        try:
            module = parse_jaas_config(props["sasl.jaas.config"])
        except JaasConfigError as exc:
            raise CliError(f"sasl.jaas.config: {exc}") from exc
        options = dict(module.options)
        if module.class_name == OAUTHBEARER_LOGIN_MODULE and mechanism != OAUTHBEARER:
            raise CliError(
                f"sasl.jaas.config has the OAUTHBEARER login module but sasl.mechanism is {mechanism}"
            )
    for name in ("username", "password"):  # librdkafka's sasl.username / sasl.password
        if name not in options and f"sasl.{name}" in props:
            options[name] = props[f"sasl.{name}"]
    try:
        return sasl_client_factory(mechanism, options)
    except SaslLoginConfigError as exc:
        raise CliError(f"{exc} (sasl.jaas.config)") from exc
