"""How this broker connects to the other brokers: on which listener, with which TLS and SASL settings.

Kafka's config names, as a broker's ``server.properties`` sets them:

    listeners=CLIENT://:9093,INTERNAL://:9094
    listener.security.protocol.map=CLIENT:SASL_SSL,INTERNAL:SASL_SSL
    inter.broker.listener.name=INTERNAL          (or security.inter.broker.protocol=SASL_SSL)
    sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
    listener.name.internal.scram-sha-512.sasl.jaas.config=...ScramLoginModule required \\
        username="broker" password="broker-secret";
    listener.name.internal.ssl.truststore.location=/etc/kafka/ca.pem   (+ keystore for mTLS)

The broker connects to each other broker's endpoint on that listener (its registration lists one
per advertised listener), does TLS with the listener's truststore (and keystore, when the other
side asks for a client certificate), then logs in with the listener's JAAS ``username`` and
``password`` (PLAIN, SCRAM) or an unsecured token (OAUTHBEARER, ``unsecuredLoginStringClaim_sub``).
The other broker authorizes what it asks as any client: a follower's Fetch and
OffsetForLeaderEpoch need CLUSTER_ACTION on the cluster, which brokers usually get from
``super.users=User:broker``.

`InterBrokerConnector` (``Broker.inter_broker``) is the one place inter-broker connections come
from: the replica fetchers and any other inter-broker client build theirs with
``connector.connection(registration, client_id, timeout_s)``.

A single node never connects to another broker, so its settings are only checked when the broker
is part of a cluster (``required``); a misconfigured cluster member fails at start with Kafka's
message.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from odradek.broker.config import BrokerConfig
from odradek.broker.listener_security import PROTOCOLS, ListenerConfigError, ListenerSecurity
from odradek.broker.tls import TlsConfigError, TlsSettings
from odradek.security.sasl.login import ClientSecurity, SaslLoginConfigError, sasl_client_factory

if TYPE_CHECKING:
    from odradek.broker.broker_client import BrokerConnection
    from odradek.metadata.image import BrokerRegistration


@dataclass(frozen=True, slots=True)
class InterBrokerConnector:
    """How this broker connects to the others: the inter-broker listener and its security."""

    listener: str
    security: ClientSecurity = field(default_factory=ClientSecurity)
    """The client side of the inter-broker listener: what a connection to it needs."""

    def endpoint(self, registration: BrokerRegistration) -> tuple[str, int]:
        """The other broker's address on the inter-broker listener."""
        return registration.endpoint(self.listener)

    def connection(
        self, registration: BrokerRegistration, client_id: str, timeout_s: float
    ) -> BrokerConnection:
        return self.connect(*self.endpoint(registration), client_id, timeout_s)

    def connect(self, host: str, port: int, client_id: str, timeout_s: float) -> BrokerConnection:
        """A connection to an endpoint taken with `endpoint` (the transaction marker and
        verification channels' `ConnectionFactory`)."""
        from odradek.broker.broker_client import BrokerConnection

        return BrokerConnection(host, port, client_id, timeout_s, self.security)

    @classmethod
    def of(
        cls, config: BrokerConfig, listeners: Mapping[str, ListenerSecurity], *, required: bool
    ) -> InterBrokerConnector:
        """From the broker's configs. `required`: the broker is a cluster member (errors fail the
        start); a single node gets a PLAINTEXT connector that is never used if anything is off."""
        try:
            name = inter_broker_listener_name(config)
            security = listeners.get(name)
            if security is None:
                valid = ", ".join(listeners)
                raise ListenerConfigError(
                    "inter.broker.listener.name must be a listener name defined in advertised.listeners. "
                    f"The valid options based on currently configured listeners are {valid}"
                )
            return cls(name, client_security(config.static.values, security, config))
        except ListenerConfigError:
            if required:
                raise
            return cls(next(iter(listeners), "PLAINTEXT"))


def inter_broker_listener_name(config: BrokerConfig) -> str:
    """`inter.broker.listener.name`, else the listener named by `security.inter.broker.protocol`."""
    name = config.static.get("inter.broker.listener.name")
    protocol = config.static.get("security.inter.broker.protocol")
    if name and protocol:
        raise ListenerConfigError(
            "Only one of inter.broker.listener.name and security.inter.broker.protocol should be set."
        )
    if name:
        return name.strip().upper()
    protocol = (protocol or "PLAINTEXT").strip().upper()
    if protocol not in PROTOCOLS:
        raise ListenerConfigError(f"security.inter.broker.protocol: unknown protocol {protocol}")
    return protocol


def client_security(
    props: Mapping[str, str], listener: ListenerSecurity, config: BrokerConfig
) -> ClientSecurity:
    context: ssl.SSLContext | None = None
    if listener.uses_tls:
        try:
            settings = TlsSettings.for_listener(props, listener.name)
            context = settings.client_context()
        except TlsConfigError as exc:
            raise ListenerConfigError(f"listener {listener.name} (inter-broker client): {exc}") from exc
        if not (settings.truststore_location or settings.truststore_certificates):
            context.load_default_certs()
    if not listener.uses_sasl:
        return ClientSecurity(listener.protocol, context)
    mechanism = str(config.value("sasl.mechanism.inter.broker.protocol") or "GSSAPI").strip().upper()
    if mechanism not in listener.mechanisms:
        raise ListenerConfigError(
            f"sasl.mechanism.inter.broker.protocol {mechanism} must be included in sasl.enabled.mechanisms "
            f"of listener {listener.name} when SASL is used for inter-broker communication"
        )
    module = listener.jaas.get(mechanism)
    jaas_name = f"listener.name.{listener.name.lower()}.{mechanism.lower()}.sasl.jaas.config"
    if module is None:
        raise ListenerConfigError(
            f"inter-broker SASL/{mechanism} needs the broker's credentials in {jaas_name}"
        )
    try:
        factory = sasl_client_factory(mechanism, module.options)
    except SaslLoginConfigError as exc:
        raise ListenerConfigError(f"{jaas_name}: {exc}") from exc
    return ClientSecurity(listener.protocol, context, mechanism, factory)
