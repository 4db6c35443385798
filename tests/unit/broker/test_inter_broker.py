"""Which listener and credentials a broker uses to reach the others (`inter_broker.py`), from
Kafka's config names; misconfigurations fail a cluster member's start with Kafka's messages."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from odradek.broker.config import BrokerConfig
from odradek.broker.inter_broker import InterBrokerConnector
from odradek.broker.listener_security import (
    ListenerConfigError,
    SecurityContext,
    listener_security,
    parse_protocol_map,
)
from odradek.metadata.image import BrokerRegistration
from odradek.model.ids import BrokerId
from odradek.security.sasl.plain import PlainClient
from odradek.security.sasl.scram import ScramClient

LOGIN = 'username="broker" password="pw" user_broker="pw"'
JAAS = "org.apache.kafka.common.security.{}LoginModule required " + LOGIN + ";"


def connector(props: Mapping[str, str], *, required: bool = True) -> InterBrokerConnector:
    config = BrokerConfig.from_properties(props)
    protocols = parse_protocol_map(props.get("listener.security.protocol.map", ""))
    context = SecurityContext(lambda _user, _mechanism: None, lambda: 0)
    listeners = {
        lst.name: listener_security(config.static.values, lst.name, protocols, context)
        for lst in config.listeners
    }
    return InterBrokerConnector.of(config, listeners, required=required)


TWO_LISTENERS = {
    "listeners": "CLIENT://127.0.0.1:0,INTERNAL://127.0.0.1:0",
    "listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT",
    "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512",
    "listener.name.client.plain.sasl.jaas.config": JAAS.format("plain.Plain"),
    "listener.name.internal.plain.sasl.jaas.config": JAAS.format("plain.Plain"),
    "listener.name.internal.scram-sha-512.sasl.jaas.config": JAAS.format("scram.Scram"),
    "inter.broker.listener.name": "internal",
}


def test_the_inter_broker_listener_and_its_login() -> None:
    found = connector({**TWO_LISTENERS, "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512"})
    assert found.listener == "INTERNAL"
    assert found.security.protocol == "SASL_PLAINTEXT" and found.security.mechanism == "SCRAM-SHA-512"
    assert found.security.sasl_client is not None
    assert isinstance(found.security.sasl_client(), ScramClient)
    plain = connector({**TWO_LISTENERS, "sasl.mechanism.inter.broker.protocol": "PLAIN"})
    assert plain.security.sasl_client is not None and isinstance(plain.security.sasl_client(), PlainClient)


def test_the_endpoint_is_the_registrations_one_on_that_listener() -> None:
    found = connector({**TWO_LISTENERS, "sasl.mechanism.inter.broker.protocol": "PLAIN"})
    registration = BrokerRegistration(
        BrokerId(2), "10.0.0.2", 9092, endpoints=("CLIENT://10.0.0.2:9092", "INTERNAL://10.0.0.3:9094")
    )
    assert found.endpoint(registration) == ("10.0.0.3", 9094)
    connection = found.connection(registration, "broker-1-fetcher", 5.0)
    assert (connection.host, connection.port, connection.security) == ("10.0.0.3", 9094, found.security)


def test_security_inter_broker_protocol_names_the_listener() -> None:
    found = connector(
        {
            "listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
            "sasl.enabled.mechanisms": "PLAIN",
            "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS.format("plain.Plain"),
            "security.inter.broker.protocol": "PLAINTEXT",
        }
    )
    assert found.listener == "PLAINTEXT" and found.security.ssl_context is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"security.inter.broker.protocol": "SASL_PLAINTEXT"}, "Only one of inter.broker.listener.name"),
        (
            {"inter.broker.listener.name": "ELSEWHERE"},
            "must be a listener name defined in advertised.listeners",
        ),
        ({}, "sasl.mechanism.inter.broker.protocol GSSAPI must be included"),
        (
            {"sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512", "sasl.enabled.mechanisms": "PLAIN"},
            "must be included in sasl.enabled.mechanisms",
        ),
        (
            {
                "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
                "listener.name.internal.scram-sha-512.sasl.jaas.config": None,
            },
            "needs the broker's credentials in listener.name.internal.scram-sha-512.sasl.jaas.config",
        ),
        (
            {
                "sasl.mechanism.inter.broker.protocol": "PLAIN",
                "listener.name.internal.plain.sasl.jaas.config": (
                    'org.apache.kafka.common.security.plain.PlainLoginModule required user_broker="pw";'
                ),
            },
            "needs a username and a password",
        ),
    ],
)
def test_a_cluster_member_with_bad_inter_broker_settings_does_not_start(
    change: dict[str, str | None], message: str
) -> None:
    props = {k: v for k, v in {**TWO_LISTENERS, **change}.items() if v is not None}
    with pytest.raises(ListenerConfigError, match=message):
        connector(props)


def test_a_single_node_never_needs_them() -> None:
    found = connector({**TWO_LISTENERS, "inter.broker.listener.name": "ELSEWHERE"}, required=False)
    assert found.listener == "CLIENT" and found.security.sasl_client is None
