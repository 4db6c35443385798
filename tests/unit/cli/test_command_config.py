"""--command-config: Kafka client properties files as librdkafka settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from odradek.cli.command_config import CommandConfigError, read_command_config, translate


def test_sasl_ssl_scram_file(tmp_path: Path) -> None:
    path = tmp_path / "client.properties"
    path.write_text(
        "security.protocol=SASL_SSL\n"
        "sasl.mechanism=SCRAM-SHA-512\n"
        "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n"
        '    username="admin" password="s3cret";\n'
        "ssl.truststore.type=PEM\n"
        "ssl.truststore.location=/data/ca.pem\n"
        "ssl.endpoint.identification.algorithm=\n"
    )
    assert read_command_config(path) == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "admin",
        "sasl.password": "s3cret",
        "ssl.ca.location": "/data/ca.pem",
        "ssl.endpoint.identification.algorithm": "none",
    }


def test_keystores_and_passthrough() -> None:
    assert translate(
        {"ssl.keystore.location": "/k.pem", "ssl.keystore.password": "x", "debug": "security"}
    ) == {
        "ssl.certificate.location": "/k.pem",
        "ssl.key.location": "/k.pem",
        "debug": "security",
    }
    assert translate(
        {"ssl.keystore.type": "PKCS12", "ssl.keystore.location": "/k.p12", "ssl.keystore.password": "x"}
    ) == {
        "ssl.keystore.location": "/k.p12",
        "ssl.keystore.password": "x",
    }


def test_oauthbearer_unsecured_login() -> None:
    jaas = (
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
        'unsecuredLoginStringClaim_sub="svc";'
    )
    assert translate({"sasl.jaas.config": jaas}) == {
        "enable.sasl.oauthbearer.unsecure.jwt": "true",
        "sasl.oauthbearer.config": "principal=svc",
    }


@pytest.mark.parametrize(
    "jaas",
    [
        'org.apache.kafka.common.security.plain.PlainLoginModule required username="a";',
        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
        "com.example.Evil required;",
    ],
)
def test_bad_jaas(jaas: str) -> None:
    with pytest.raises(CommandConfigError):
        translate({"sasl.jaas.config": jaas})


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandConfigError, match="cannot read"):
        read_command_config(tmp_path / "nope.properties")
