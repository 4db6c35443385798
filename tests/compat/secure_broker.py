"""A broker with every security protocol on its own listener, for the security tests.

Listeners: PLAINTEXT, SSL (server authentication), MTLS (SSL with ssl.client.auth=required and a
mapping rule from the certificate's CN), SASL_PLAINTEXT and SASL_SSL (PLAIN, SCRAM-SHA-256/512,
OAUTHBEARER with unsecured tokens). The StandardAuthorizer is on, with ``User:admin`` as super user;
certificates come from the development CA (`odradek.security.dev_certificates`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from odradek.security.dev_certificates import DEFAULT_SERVER_NAMES, issue, make_ca
from odradek.testing.broker_process import BrokerProcess

PLAIN_JAAS = (
    "org.apache.kafka.common.security.plain.PlainLoginModule required "
    'user_admin="admin-secret" user_alice="alice-secret" user_bob="bob-secret";'
)
SUPER_USER = "admin"
ADMIN_PASSWORD = "admin-secret"


@dataclass(frozen=True, slots=True)
class Pki:
    ca: Path
    server: Path
    alice_cert: Path
    alice_key: Path
    alice_combined: Path
    ca_key: Path


def make_pki(root: Path) -> Pki:
    now = dt.datetime.now(dt.UTC)
    ca = make_ca(now)
    server = issue(ca, "localhost", now, server_names=DEFAULT_SERVER_NAMES)
    alice = issue(ca, "alice", now, client=True)
    files = {
        "ca.pem": ca.certificate_pem,
        "server.pem": server.key_pem + server.certificate_pem,
        "alice.crt": alice.certificate_pem,
        "alice.key": alice.key_pem,
        "alice.pem": alice.key_pem + alice.certificate_pem,
        "ca-key.pem": ca.key_pem,
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    return Pki(
        root / "ca.pem",
        root / "server.pem",
        root / "alice.crt",
        root / "alice.key",
        root / "alice.pem",
        root / "ca-key.pem",
    )


def broker_properties(pki: Pki, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    props = {
        "listeners": ",".join(
            f"{name}://127.0.0.1:0" for name in ("PLAINTEXT", "SSL", "MTLS", "SASL_PLAINTEXT", "SASL_SSL")
        ),
        "listener.security.protocol.map": (
            "PLAINTEXT:PLAINTEXT,SSL:SSL,MTLS:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL"
        ),
        "ssl.keystore.location": str(pki.server),
        "ssl.truststore.location": str(pki.ca),
        "listener.name.mtls.ssl.client.auth": "required",
        "listener.name.mtls.ssl.principal.mapping.rules": "RULE:^CN=([^,]+),.*$/$1/,DEFAULT",
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": PLAIN_JAAS,
        "listener.name.sasl_ssl.plain.sasl.jaas.config": PLAIN_JAAS,
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{SUPER_USER}",
        "connection.failed.authentication.delay.ms": "50",
        "num.partitions": "1",
    }
    props.update(extra or {})
    return props


@contextmanager
def secure_broker(root: Path, extra: Mapping[str, str] | None = None) -> Iterator[tuple[BrokerProcess, Pki]]:
    pki_dir = root / "pki"
    pki_dir.mkdir(parents=True, exist_ok=True)
    pki = make_pki(pki_dir)
    with BrokerProcess(root / "data", broker_properties(pki, extra)) as broker:
        yield broker, pki


def librdkafka_config(broker: BrokerProcess, pki: Pki, listener: str, **extra: str) -> dict[str, str]:
    """confluent-kafka settings for a listener (SASL credentials go in `extra`)."""
    config = {"bootstrap.servers": broker.bootstrap_for(listener), "security.protocol": listener}
    if listener == "MTLS":
        config["security.protocol"] = "SSL"
        config["ssl.certificate.location"] = str(pki.alice_cert)
        config["ssl.key.location"] = str(pki.alice_key)
    if "SSL" in config["security.protocol"]:
        config["ssl.ca.location"] = str(pki.ca)
    config.update(extra)
    return config


def admin_config(broker: BrokerProcess, pki: Pki) -> dict[str, str]:
    return librdkafka_config(
        broker,
        pki,
        "SASL_SSL",
        **{"sasl.mechanism": "PLAIN", "sasl.username": SUPER_USER, "sasl.password": ADMIN_PASSWORD},
    )
