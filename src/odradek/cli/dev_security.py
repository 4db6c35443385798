"""`odradek dev --secure`: the files and settings of a secured development broker.

Under ``<data dir>/security/`` (mode 0700), made once and reused on later starts:

    ca.pem, ca-key.pem      a development certificate authority (`security.dev_certificates`)
    broker.pem              the broker's private key and certificate (localhost, 127.0.0.1, ::1)
    admin.password          the password of ``admin``, the super user (random)
    client.properties       Kafka client settings for admin: ``--command-config`` of every odradek
                            command, and what kafka-*.sh tools take

Every listener becomes SASL_SSL with PLAIN (admin) and SCRAM-SHA-256/512 (users made with
``odradek user create``), and the StandardAuthorizer denies what no ACL allows.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from odradek.security.dev_certificates import DEFAULT_SERVER_NAMES, Issued, issue, make_ca

ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class SecureDev:
    broker_properties: dict[str, str]
    client_settings: dict[str, str]
    """librdkafka names (services, confluent-kafka, kcat -X)."""
    client_properties: Path
    ca: Path
    admin_password: str


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _secure_listeners(listeners: str) -> str:
    out = []
    for item in listeners.split(","):
        _, sep, address = item.strip().partition("://")
        out.append(f"SASL_SSL://{address if sep else item.strip()}")
    return ",".join(out)


def prepare(data_dir: Path, listeners: str) -> SecureDev:
    root = data_dir / "security"
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o700)
    now = dt.datetime.now(dt.UTC)
    ca_cert, ca_key = root / "ca.pem", root / "ca-key.pem"
    if ca_cert.exists() and ca_key.exists():
        ca = Issued(ca_key.read_bytes(), ca_cert.read_bytes())
    else:
        ca = make_ca(now)
        ca_cert.write_bytes(ca.certificate_pem)
        _write_private(ca_key, ca.key_pem)
    broker = root / "broker.pem"
    if not broker.exists():
        issued = issue(ca, "localhost", now, server_names=DEFAULT_SERVER_NAMES)
        _write_private(broker, issued.key_pem + issued.certificate_pem)
    password_file = root / "admin.password"
    if password_file.exists():
        password = password_file.read_text().strip()
    else:
        password = secrets.token_urlsafe(18)
        _write_private(password_file, password.encode() + b"\n")
    jaas = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{ADMIN}" password="{password}" user_{ADMIN}="{password}";'
    )
    broker_properties = {
        "listeners": _secure_listeners(listeners),
        "ssl.keystore.location": str(broker),
        "ssl.truststore.location": str(ca_cert),
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        "listener.name.sasl_ssl.plain.sasl.jaas.config": jaas,
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{ADMIN}",
    }
    client_properties = root / "client.properties"
    _write_private(
        client_properties,
        (
            "security.protocol=SASL_SSL\n"
            "sasl.mechanism=PLAIN\n"
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'username="{ADMIN}" password="{password}";\n'
            f"ssl.truststore.location={ca_cert}\n"
        ).encode(),
    )
    client_settings = {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "PLAIN",
        "sasl.username": ADMIN,
        "sasl.password": password,
        "ssl.ca.location": str(ca_cert),
    }
    return SecureDev(broker_properties, client_settings, client_properties, ca_cert, password)


def describe(secure: SecureDev, bootstrap_hint: str) -> str:
    """What to tell the user: where the settings are and how to use them."""
    x = " ".join(f"-X {k}={v}" for k, v in secure.client_settings.items())
    if bootstrap_hint.endswith(":0"):
        bootstrap_hint = "BROKER"  # the port is chosen at start: the broker line below has it
    password_file = secure.client_properties.parent / "admin.password"
    return (
        f"secure: SASL_SSL, super user {ADMIN} (password in {password_file})\n"
        f"  odradek CLI:   --command-config {secure.client_properties}\n"
        f"  kcat:          kcat -b {bootstrap_hint} {x} -L\n"
        f"  confluent-kafka / librdkafka: {secure.client_settings}\n"
        f"  new users:     odradek user create NAME --command-config {secure.client_properties}"
    )
