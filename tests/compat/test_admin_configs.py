"""DescribeConfigs, AlterConfigs and IncrementalAlterConfigs through real admin clients."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from admin_clients import (
    ConfigResourceType,
    DescribeConfigsRequest,
    IncrementalAlterConfigsRequest,
    KafkaAdminClient,
    KpConfigResource,
    error_of,
    message_of,
)
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin import NewTopic as AioNewTopic
from aiokafka.admin.config_resource import ConfigResource as AioConfigResource
from aiokafka.admin.config_resource import ConfigResourceType as AioConfigResourceType
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewTopic,
    ResourceType,
)

from odradek.model.errors import ErrorCode
from odradek.testing.broker_process import BrokerProcess

pytestmark = pytest.mark.compat


def create(admin: AdminClient, topic: str, **configs: str) -> None:
    assert error_of(admin.create_topics([NewTopic(topic, 1, 1, config=configs)])[topic]) == ErrorCode.NO_ERROR


def describe(admin: AdminClient, kind: ResourceType, name: str) -> dict[str, ConfigEntry]:
    futures = admin.describe_configs([ConfigResource(kind, name)])
    (future,) = futures.values()
    result: dict[str, ConfigEntry] = future.result(timeout=30)
    return result


def incremental(admin: AdminClient, kind: ResourceType, name: str, *entries: ConfigEntry) -> ErrorCode:
    futures = admin.incremental_alter_configs([ConfigResource(kind, name, incremental_configs=list(entries))])
    (future,) = futures.values()
    return error_of(future)


def op(name: str, operation: AlterConfigOpType, value: str | None = None) -> ConfigEntry:
    return ConfigEntry(name, value, incremental_operation=operation)


def test_describe_topic_configs_with_sources_and_synonyms(admin: AdminClient, topic_name: str) -> None:
    create(admin, topic_name, **{"retention.ms": "3600000"})
    configs = describe(admin, ResourceType.TOPIC, topic_name)
    retention = configs["retention.ms"]
    assert (retention.value, retention.source, retention.is_default) == (
        "3600000",
        ConfigSource.DYNAMIC_TOPIC_CONFIG.value,
        False,
    )
    assert not retention.is_read_only
    # librdkafka asks for synonyms: the topic override first, then the broker defaults under it.
    assert [(s.name, s.source) for s in retention.synonyms.values()][:2] == [
        ("retention.ms", ConfigSource.DYNAMIC_TOPIC_CONFIG.value),
        ("log.retention.hours", ConfigSource.DEFAULT_CONFIG.value),
    ]
    segment = configs["segment.bytes"]
    assert (segment.value, segment.source) == ("1073741824", ConfigSource.DEFAULT_CONFIG.value)
    assert configs["cleanup.policy"].value == "delete"
    assert configs["message.timestamp.type"].value == "CreateTime"


def test_describe_broker_configs(admin: AdminClient) -> None:
    configs = describe(admin, ResourceType.BROKER, "1")
    # The test broker is started with num.partitions=1 (static), Kafka's default elsewhere.
    assert (configs["num.partitions"].value, configs["num.partitions"].source) == (
        "1",
        ConfigSource.STATIC_BROKER_CONFIG.value,
    )
    assert configs["node.id"].is_read_only
    assert configs["log.retention.hours"].value == "168"
    assert not configs["log.retention.ms"].is_read_only  # dynamic


def test_describe_errors(admin: AdminClient, topic_name: str) -> None:
    futures = admin.describe_configs(
        [
            ConfigResource(ResourceType.TOPIC, topic_name),
            ConfigResource(ResourceType.TOPIC, "bad name!"),
        ]
    )
    assert [error_of(f) for f in futures.values()] == [
        ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        ErrorCode.INVALID_TOPIC_EXCEPTION,
    ]


def test_incremental_set_delete_append_subtract(admin: AdminClient, topic_name: str) -> None:
    create(admin, topic_name)
    topic = ResourceType.TOPIC
    assert incremental(admin, topic, topic_name, op("retention.ms", AlterConfigOpType.SET, "60000")) == 0
    assert describe(admin, topic, topic_name)["retention.ms"].value == "60000"
    append = op("cleanup.policy", AlterConfigOpType.APPEND, "compact")
    assert incremental(admin, topic, topic_name, append) == ErrorCode.NO_ERROR
    assert describe(admin, topic, topic_name)["cleanup.policy"].value == "delete,compact"
    subtract = op("cleanup.policy", AlterConfigOpType.SUBTRACT, "delete")
    assert incremental(admin, topic, topic_name, subtract) == ErrorCode.NO_ERROR
    assert describe(admin, topic, topic_name)["cleanup.policy"].value == "compact"
    delete = [op("retention.ms", AlterConfigOpType.DELETE), op("cleanup.policy", AlterConfigOpType.DELETE)]
    assert incremental(admin, topic, topic_name, *delete) == ErrorCode.NO_ERROR
    configs = describe(admin, topic, topic_name)
    assert (configs["retention.ms"].value, configs["retention.ms"].source) == (
        "604800000",
        ConfigSource.DEFAULT_CONFIG.value,
    )
    assert configs["cleanup.policy"].value == "delete"


def test_incremental_validate_only_changes_nothing(admin: AdminClient, topic_name: str) -> None:
    create(admin, topic_name)
    resource = ConfigResource(
        ResourceType.TOPIC,
        topic_name,
        incremental_configs=[op("retention.ms", AlterConfigOpType.SET, "1000")],
    )
    (future,) = admin.incremental_alter_configs([resource], validate_only=True).values()
    assert error_of(future) == ErrorCode.NO_ERROR
    assert describe(admin, ResourceType.TOPIC, topic_name)["retention.ms"].value == "604800000"


def test_bad_config_changes(admin: AdminClient, topic_name: str) -> None:
    create(admin, topic_name)
    topic = ResourceType.TOPIC
    set_ = AlterConfigOpType.SET
    assert incremental(admin, topic, topic_name, op("no.such.config", set_, "1")) == ErrorCode.INVALID_CONFIG
    resource = ConfigResource(topic, topic_name, incremental_configs=[op("retention.ms", set_, "soon")])
    (future,) = admin.incremental_alter_configs([resource]).values()
    assert error_of(future) == ErrorCode.INVALID_CONFIG
    assert (
        message_of(future) == "Invalid value soon for configuration retention.ms: Not a number of type LONG"
    )
    below = op("min.insync.replicas", set_, "0")
    assert incremental(admin, topic, topic_name, below) == ErrorCode.INVALID_CONFIG
    not_a_list = op("retention.ms", AlterConfigOpType.APPEND, "1")
    assert incremental(admin, topic, topic_name, not_a_list) == ErrorCode.INVALID_CONFIG
    missing = f"{topic_name}-missing"
    assert (
        incremental(admin, topic, missing, op("retention.ms", set_, "1"))
        == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    )
    broker = ResourceType.BROKER
    assert incremental(admin, broker, "1", op("node.id", set_, "5")) == ErrorCode.INVALID_REQUEST
    assert describe(admin, topic, topic_name)["retention.ms"].value == "604800000"


def test_legacy_alter_configs_replaces_the_whole_set(admin: AdminClient, topic_name: str) -> None:
    create(admin, topic_name, **{"retention.ms": "3600000"})
    resource = ConfigResource(ResourceType.TOPIC, topic_name, set_config={"segment.ms": "86400000"})
    with pytest.warns(DeprecationWarning):
        (future,) = admin.alter_configs([resource]).values()
    assert error_of(future) == ErrorCode.NO_ERROR
    configs = describe(admin, ResourceType.TOPIC, topic_name)
    assert configs["segment.ms"].value == "86400000"
    assert configs["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value  # removed: not in the new set
    bad = ConfigResource(ResourceType.TOPIC, topic_name, set_config={"segment.ms": "-5"})
    with pytest.warns(DeprecationWarning):
        (future,) = admin.alter_configs([bad]).values()
    assert error_of(future) == ErrorCode.INVALID_CONFIG
    assert message_of(future) == "Invalid value -5 for configuration segment.ms: Value must be at least 1"


def raw_incremental(kp_admin: KafkaAdminClient, kind: int, name: str, *changes: tuple[str, int, str]) -> int:
    """IncrementalAlterConfigs as sent by kafka-python, for what its high-level API cannot name."""
    request = IncrementalAlterConfigsRequest(resources=[(kind, name, list(changes))], validate_only=False)
    response = kp_admin._manager.run(kp_admin._manager.send, request)
    (result,) = response.responses
    code: int = result.error_code
    return code


def test_broker_configs_cluster_default_and_per_broker(broker_factory: Callable[..., BrokerProcess]) -> None:
    proc = broker_factory()
    admin = AdminClient({"bootstrap.servers": proc.bootstrap})
    create(admin, "plain")
    set_ = AlterConfigOpType.SET
    broker = ResourceType.BROKER
    kp_admin = KafkaAdminClient(bootstrap_servers=proc.bootstrap)
    # "" is the cluster-wide default (librdkafka and kafka-python's high-level APIs cannot name it).
    cluster_default = raw_incremental(kp_admin, 4, "", ("log.retention.ms", 0, "7200000"))
    other_broker = raw_incremental(kp_admin, 4, "7", ("log.retention.ms", 0, "1"))
    per_broker_at_default = raw_incremental(kp_admin, 4, "", ("log.dirs", 0, "/tmp"))
    kp_admin.close()
    assert (cluster_default, other_broker, per_broker_at_default) == (
        ErrorCode.NO_ERROR,
        ErrorCode.INVALID_REQUEST,
        ErrorCode.INVALID_REQUEST,
    )
    retention = describe(admin, ResourceType.TOPIC, "plain")["retention.ms"]
    assert (retention.value, retention.source) == (
        "7200000",
        ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG.value,
    )
    assert incremental(admin, broker, "1", op("log.retention.ms", set_, "3600000")) == ErrorCode.NO_ERROR
    retention = describe(admin, ResourceType.TOPIC, "plain")["retention.ms"]
    assert (retention.value, retention.source) == ("3600000", ConfigSource.DYNAMIC_BROKER_CONFIG.value)
    kp_admin = KafkaAdminClient(bootstrap_servers=proc.bootstrap)
    request = DescribeConfigsRequest(resources=[(4, "", None)], include_synonyms=False)
    (result,) = kp_admin._manager.run(kp_admin._manager.send, request).results
    kp_admin.close()
    assert [(c.name, c.value, c.config_source) for c in result.configs] == [
        ("log.retention.ms", "7200000", ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG.value)
    ]
    # Dynamic configs survive a restart (they are metadata records).
    proc.restart()
    admin = AdminClient({"bootstrap.servers": proc.bootstrap})
    assert describe(admin, ResourceType.TOPIC, "plain")["retention.ms"].value == "3600000"


def test_broker_logger_levels(kp_admin: KafkaAdminClient) -> None:
    logger = KpConfigResource(ConfigResourceType.BROKER_LOGGER, "1")
    before = kp_admin.describe_configs([logger], config_filter="all")["broker_logger"]["1"]
    assert before["root"]["value"] == "INFO"  # the test broker runs with --log-level INFO
    assert "odradek.broker" in before
    change = KpConfigResource(ConfigResourceType.BROKER_LOGGER, "1", {"odradek.broker": "DEBUG"})
    assert kp_admin.alter_configs([change], raise_on_unknown=False) == {"broker_logger": {"1": "OK"}}
    after = kp_admin.describe_configs([logger], config_filter="all")["broker_logger"]["1"]
    assert after["odradek.broker"]["value"] == "DEBUG"
    reset = KpConfigResource(ConfigResourceType.BROKER_LOGGER, "1", {"odradek.broker": ("DELETE", None)})
    assert kp_admin.alter_configs([reset], raise_on_unknown=False) == {"broker_logger": {"1": "OK"}}
    assert kp_admin.describe_configs([logger], config_filter="all")["broker_logger"]["1"]["odradek.broker"][
        "value"
    ] == ("INFO")
    bad_level = KpConfigResource(ConfigResourceType.BROKER_LOGGER, "1", {"root": "LOUD"})
    result = kp_admin.alter_configs([bad_level], raise_on_unknown=False)["broker_logger"]["1"]
    assert result.startswith("[Error 40] InvalidConfigurationError")
    assert "Cannot set the log level of root to LOUD as it is not a supported log level" in result
    root_delete = KpConfigResource(ConfigResourceType.BROKER_LOGGER, "1", {"root": ("DELETE", None)})
    result = kp_admin.alter_configs([root_delete], raise_on_unknown=False)["broker_logger"]["1"]
    assert result.startswith("[Error 42] InvalidRequestError")


def test_kafka_python_configs(kp_admin: KafkaAdminClient, topic_name: str) -> None:
    kp_admin.create_topics({topic_name: {"num_partitions": 1, "replication_factor": 1}})
    resource = KpConfigResource(ConfigResourceType.TOPIC, topic_name, {"retention.bytes": "1048576"})
    assert kp_admin.alter_configs([resource]) == {"topic": {topic_name: "OK"}}
    described = kp_admin.describe_configs(
        [KpConfigResource(ConfigResourceType.TOPIC, topic_name)], include_synonyms=True
    )
    modified = described["topic"][topic_name]
    assert modified["retention.bytes"]["value"] == "1048576"
    assert modified["retention.bytes"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"
    assert [s["name"] for s in modified["retention.bytes"]["synonyms"]] == [
        "retention.bytes",
        "log.retention.bytes",
    ]


def test_aiokafka_configs(bootstrap: str, topic_name: str) -> None:
    async def scenario() -> str | None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([AioNewTopic(topic_name, 1, 1)])
            await admin.alter_configs(
                [AioConfigResource(AioConfigResourceType.TOPIC, topic_name, {"max.message.bytes": "2000"})]
            )
            responses = await admin.describe_configs(
                [AioConfigResource(AioConfigResourceType.TOPIC, topic_name, {"max.message.bytes": None})]
            )
        finally:
            await admin.close()
        (response,) = responses
        ((*_, configs),) = response.resources
        (entry,) = configs
        assert entry[0] == "max.message.bytes"
        value: str | None = entry[1]
        return value

    assert asyncio.run(scenario()) == "2000"
