from __future__ import annotations

from collections.abc import Callable

import pytest

from odradek.metadata.broker_configs import BROKER_CONFIGS
from odradek.metadata.config_resolution import ConfigSynonym
from odradek.metadata.config_types import ConfigResourceType, ConfigSource, ConfigType
from odradek.metadata.delta import replay
from odradek.metadata.describe_configs import ConfigEntry, describe_configs
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import ConfigRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.errors import ErrorCode

TOPIC, BROKER = ConfigResourceType.TOPIC, ConfigResourceType.BROKER


@pytest.fixture
def image(cluster: Callable[..., ClusterImage], with_topic: Callable[..., ClusterImage]) -> ClusterImage:
    image = with_topic(cluster(1), "orders", configs={"retention.ms": "1000"})
    return replay(
        image,
        [
            ConfigRecord(BROKER, "", "log.segment.bytes", "2097152"),
            ConfigRecord(BROKER, "1", "message.max.bytes", "5000"),
        ],
    )


def test_topic_entries(image: ClusterImage, static: StaticBrokerConfig) -> None:
    result = describe_configs(image, static, TOPIC, "orders")
    assert (result.error_code, result.error_message) == (ErrorCode.NO_ERROR, None)
    by_name = {e.name: e for e in result.configs}
    assert [e.name for e in result.configs] == sorted(by_name)
    assert by_name["retention.ms"] == ConfigEntry(
        "retention.ms", "1000", False, ConfigSource.DYNAMIC_TOPIC_CONFIG, False, (), ConfigType.LONG, None
    )
    assert by_name["segment.bytes"].value == "2097152"
    assert by_name["segment.bytes"].source is ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
    assert by_name["max.message.bytes"].value == "5000"
    assert by_name["max.message.bytes"].source is ConfigSource.DYNAMIC_BROKER_CONFIG
    assert by_name["cleanup.policy"].value == "delete"
    assert by_name["cleanup.policy"].is_default
    assert not any(e.read_only for e in result.configs)


def test_topic_keys_synonyms_and_documentation(image: ClusterImage, static: StaticBrokerConfig) -> None:
    result = describe_configs(
        image,
        static,
        TOPIC,
        "orders",
        ["retention.ms", "no.such.config"],
        include_synonyms=True,
        include_documentation=True,
    )
    (entry,) = result.configs
    assert entry.synonyms == (
        ConfigSynonym("retention.ms", "1000", ConfigSource.DYNAMIC_TOPIC_CONFIG),
        ConfigSynonym("log.retention.hours", "168", ConfigSource.DEFAULT_CONFIG),
    )
    assert entry.documentation == (
        "Age after which segments are deleted (delete policy); -1 means keep forever."
    )


@pytest.mark.parametrize(
    ("resource_type", "name", "code", "message"),
    [
        (TOPIC, "missing", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, None),
        (
            TOPIC,
            "bad name",
            ErrorCode.INVALID_TOPIC_EXCEPTION,
            "Topic name is invalid: 'bad name' contains one "
            "or more characters other than ASCII alphanumerics, '.', '_' and '-'",
        ),
        (
            BROKER,
            "2",
            ErrorCode.INVALID_REQUEST,
            "Unexpected broker id, expected 1 or empty string, but received 2",
        ),
        (BROKER, "one", ErrorCode.INVALID_REQUEST, "Broker id must be an integer, but it is: one"),
        (
            ConfigResourceType.BROKER_LOGGER,
            "1",
            ErrorCode.INVALID_REQUEST,
            "Unsupported resource type: BROKER_LOGGER",
        ),
        (99, "x", ErrorCode.INVALID_REQUEST, "Unsupported resource type: UNKNOWN"),
    ],
)
def test_errors(
    image: ClusterImage,
    resource_type: int,
    name: str,
    code: ErrorCode,
    message: str | None,
) -> None:
    result = describe_configs(
        image, StaticBrokerConfig.from_properties({"node.id": "1"}), resource_type, name
    )
    assert (result.resource_type, result.resource_name) == (resource_type, name)
    assert (result.error_code, result.error_message, result.configs) == (code, message, ())


def test_this_broker(image: ClusterImage, static: StaticBrokerConfig) -> None:
    result = describe_configs(image, static, BROKER, "1", include_synonyms=True)
    by_name = {e.name: e for e in result.configs}
    assert len(by_name) == len(BROKER_CONFIGS)
    assert by_name["message.max.bytes"] == ConfigEntry(
        "message.max.bytes",
        "5000",
        False,
        ConfigSource.DYNAMIC_BROKER_CONFIG,
        False,
        (
            ConfigSynonym("message.max.bytes", "5000", ConfigSource.DYNAMIC_BROKER_CONFIG),
            ConfigSynonym("message.max.bytes", "1048588", ConfigSource.DEFAULT_CONFIG),
        ),
        ConfigType.INT,
        None,
    )
    assert by_name["node.id"].value == "1"
    assert by_name["node.id"].source is ConfigSource.STATIC_BROKER_CONFIG
    assert by_name["node.id"].read_only
    assert by_name["num.partitions"].read_only
    assert by_name["log.retention.ms"].value is None
    assert by_name["log.retention.hours"].value == "168"


def test_cluster_default_lists_only_what_is_set(image: ClusterImage, static: StaticBrokerConfig) -> None:
    result = describe_configs(image, static, BROKER, "", include_synonyms=True)
    assert result.configs == (
        ConfigEntry(
            "log.segment.bytes",
            "2097152",
            False,
            ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
            False,
            (ConfigSynonym("log.segment.bytes", "2097152", ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG),),
            ConfigType.INT,
            None,
        ),
    )


def test_listener_prefixed_configs_are_listed_with_their_levels(
    image: ClusterImage, static: StaticBrokerConfig
) -> None:
    location = "listener.name.ssl.ssl.keystore.location"
    static = StaticBrokerConfig.from_properties(
        {
            "node.id": "1",
            location: "/etc/old.pem",
            "ssl.keystore.location": "/etc/any.pem",
            "listener.name.sasl_ssl.plain.sasl.jaas.config": 'PlainLoginModule required user_a="secret";',
            "listener.name.ssl.not.a.config": "x",
        }
    )
    image = replay(
        image,
        [
            ConfigRecord(BROKER, "1", location, "/etc/new.pem"),
            ConfigRecord(BROKER, "1", "listener.name.ssl.ssl.key.password", "hush"),
            ConfigRecord(BROKER, "", "listener.name.internal.ssl.keystore.location", "/etc/default.pem"),
        ],
    )
    result = describe_configs(image, static, BROKER, "1", include_synonyms=True)
    by_name = {e.name: e for e in result.configs}
    assert by_name[location] == ConfigEntry(
        location,
        "/etc/new.pem",
        False,
        ConfigSource.DYNAMIC_BROKER_CONFIG,
        False,
        (
            ConfigSynonym(location, "/etc/new.pem", ConfigSource.DYNAMIC_BROKER_CONFIG),
            ConfigSynonym(location, "/etc/old.pem", ConfigSource.STATIC_BROKER_CONFIG),
            ConfigSynonym("ssl.keystore.location", "/etc/any.pem", ConfigSource.STATIC_BROKER_CONFIG),
        ),
        ConfigType.STRING,
        None,
    )
    password = by_name["listener.name.ssl.ssl.key.password"]
    assert (password.value, password.is_sensitive, password.config_type) == (None, True, ConfigType.PASSWORD)
    assert all(s.value is None for s in password.synonyms)
    jaas = by_name["listener.name.sasl_ssl.plain.sasl.jaas.config"]
    assert (jaas.value, jaas.is_sensitive, jaas.read_only) == (None, True, True)
    assert by_name["listener.name.internal.ssl.keystore.location"].source is (
        ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
    )
    assert "listener.name.ssl.not.a.config" not in by_name
    assert by_name["ssl.keystore.password"].is_sensitive
    default = describe_configs(image, static, BROKER, "")
    assert [e.name for e in default.configs] == [
        "log.segment.bytes",
        "listener.name.internal.ssl.keystore.location",
    ]
