"""`odradek dev --secure` hands the broker's client settings to every service in the service's own
config vocabulary; the REST proxy passes ``client.*`` settings to its Kafka clients, the SQL server
its plain ``security.protocol``/``sasl.*``/``ssl.*`` properties to every client it makes (streams
applications included), never to SHOW PROPERTIES."""

from __future__ import annotations

from pathlib import Path

import pytest

from odradek.rest.config import ConfigError, RestConfig
from odradek.supervisor.services import DEV_SERVICES
from odradek.supervisor.spec import DevContext

SETTINGS = {"security.protocol": "SASL_SSL", "sasl.username": "admin"}


def test_each_service_gets_the_client_settings_with_its_prefix() -> None:
    ctx = DevContext("127.0.0.1:9093", "127.0.0.1", Path("/tmp/data"), client_settings=SETTINGS)
    by_name = {spec.name: spec.argv(ctx) for spec in DEV_SERVICES}
    assert "kafkastore.security.protocol=SASL_SSL" in by_name["registry"]
    assert "client.sasl.username=admin" in by_name["rest"]
    assert "security.protocol=SASL_SSL" in by_name["connect"]
    assert "security.protocol=SASL_SSL" in by_name["sql"]
    plain = DevContext("127.0.0.1:9092", "127.0.0.1", Path("/tmp/data"))
    assert not any("security.protocol" in arg for spec in DEV_SERVICES for arg in spec.argv(plain))


def test_rest_proxy_client_settings() -> None:
    config = RestConfig.from_properties(
        {"client.security.protocol": "SASL_SSL", "client.ssl.ca.location": "/ca.pem"}
    )
    assert config.client == {"security.protocol": "SASL_SSL", "ssl.ca.location": "/ca.pem"}
    with pytest.raises(ConfigError):
        RestConfig.from_properties({"nonsense": "1"})


def test_sql_server_client_settings_reach_every_client_and_stay_out_of_its_properties() -> None:
    from odradek.sql.server.cluster import split_client_settings
    from odradek.sql.server.runtime import streams_config
    from odradek.streams.config import StreamsConfig

    client, rest = split_client_settings(
        {
            "security.protocol": "SASL_SSL",
            "ksql.streams.sasl.password": "secret",
            "ssl.ca.location": "/ca.pem",
            "ksql.service.id": "x_",
            "ksql.streams.auto.offset.reset": "earliest",
        }
    )
    assert client == {
        "security.protocol": "SASL_SSL",
        "sasl.password": "secret",
        "ssl.ca.location": "/ca.pem",
    }
    assert rest == {"ksql.service.id": "x_", "ksql.streams.auto.offset.reset": "earliest"}
    config = StreamsConfig(
        streams_config(
            "app",
            "127.0.0.1:9093",
            Path("/tmp/state"),
            {"ksql.streams.producer.acks": "1"},
            "at_least_once",
            client,
        )
    )
    for prefix in ("consumer.", "producer.", "admin."):
        assert config.client_overrides(prefix)["sasl.password"] == "secret"
    assert config.client_overrides("producer.")["acks"] == "1"
    assert config.security_settings() == client
