"""librdkafka client settings translated for the admin client that removes static members."""

from __future__ import annotations

import logging

from odradek.rest.kafka.admin_extras import REQUEST_TIMEOUT_MS, admin_settings


def test_plaintext_keeps_only_what_kafka_python_knows() -> None:
    settings = admin_settings(
        {
            "bootstrap.servers": "h:1",
            "client.id": "odradek-rest",
            "logger": logging.getLogger("x"),
            "linger.ms": 5,
        }
    )
    assert settings == {
        "bootstrap_servers": "h:1",
        "client_id": "odradek-rest",
        "request_timeout_ms": REQUEST_TIMEOUT_MS,
    }


def test_sasl_ssl_settings_carry_over() -> None:
    settings = admin_settings(
        {
            "bootstrap.servers": "h:1",
            "security.protocol": "sasl_ssl",
            "sasl.mechanisms": "scram-sha-512",
            "sasl.username": "alice",
            "sasl.password": "secret",
            "ssl.ca.location": "/ca.pem",
            "ssl.certificate.location": "/c.pem",
            "ssl.key.location": "/k.pem",
            "ssl.key.password": "kp",
            "ssl.endpoint.identification.algorithm": "none",
        }
    )
    assert settings["security_protocol"] == "SASL_SSL"
    assert settings["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (settings["sasl_plain_username"], settings["sasl_plain_password"]) == ("alice", "secret")
    assert (settings["ssl_cafile"], settings["ssl_certfile"], settings["ssl_keyfile"]) == (
        "/ca.pem",
        "/c.pem",
        "/k.pem",
    )
    assert settings["ssl_password"] == "kp" and settings["ssl_check_hostname"] is False
