"""`odradek dev --secure` hands the broker's client settings to every service in the service's own
config vocabulary, and the REST proxy passes ``client.*`` settings to its Kafka clients."""

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
    plain = DevContext("127.0.0.1:9092", "127.0.0.1", Path("/tmp/data"))
    assert not any("security.protocol" in arg for spec in DEV_SERVICES for arg in spec.argv(plain))


def test_rest_proxy_client_settings() -> None:
    config = RestConfig.from_properties(
        {"client.security.protocol": "SASL_SSL", "client.ssl.ca.location": "/ca.pem"}
    )
    assert config.client == {"security.protocol": "SASL_SSL", "ssl.ca.location": "/ca.pem"}
    with pytest.raises(ConfigError):
        RestConfig.from_properties({"nonsense": "1"})
