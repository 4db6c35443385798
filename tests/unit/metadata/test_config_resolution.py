from __future__ import annotations

from collections.abc import Callable

import pytest

from odradek.metadata.config_resolution import (
    ConfigSynonym,
    broker_config_value,
    effective_topic_configs,
    resolve_broker_config,
    resolve_topic_config,
)
from odradek.metadata.config_types import ConfigResourceType, ConfigSource
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import ConfigRecord
from odradek.metadata.static_config import StaticBrokerConfig

S = ConfigSource
HOUR = 3_600_000


def broker_configs(image: ClusterImage, resource: str, **values: str) -> ClusterImage:
    return replay(
        image,
        [
            ConfigRecord(ConfigResourceType.BROKER, resource, k.replace("_", "."), v)
            for k, v in values.items()
        ],
    )


def test_defaults_only() -> None:
    static = StaticBrokerConfig.from_properties({"node.id": "1"})
    resolved = resolve_topic_config(ClusterImage.EMPTY, static, {}, "retention.ms")
    assert resolved.value == 168 * HOUR
    assert resolved.source is S.DEFAULT_CONFIG
    assert resolved.synonyms == (ConfigSynonym("log.retention.hours", "168", S.DEFAULT_CONFIG),)
    remote = resolve_topic_config(ClusterImage.EMPTY, static, {}, "remote.storage.enable")
    assert (remote.value, remote.source, remote.synonyms) == (False, S.DEFAULT_CONFIG, ())


def test_every_level_in_order_most_specific_first() -> None:
    static = StaticBrokerConfig.from_properties(
        {"node.id": "1", "log.retention.hours": "24", "log.retention.ms": "7"}
    )
    image = broker_configs(ClusterImage.EMPTY, "", log_retention_ms="2000")
    image = broker_configs(image, "1", log_retention_ms="1000")
    image = broker_configs(image, "2", log_retention_ms="999")  # another broker's: not ours
    resolved = resolve_topic_config(image, static, {"retention.ms": "500"}, "retention.ms")
    assert resolved.value == 500
    assert resolved.source is S.DYNAMIC_TOPIC_CONFIG
    assert resolved.synonyms == (
        ConfigSynonym("retention.ms", "500", S.DYNAMIC_TOPIC_CONFIG),
        ConfigSynonym("log.retention.ms", "1000", S.DYNAMIC_BROKER_CONFIG),
        ConfigSynonym("log.retention.ms", "2000", S.DYNAMIC_DEFAULT_BROKER_CONFIG),
        ConfigSynonym("log.retention.ms", "7", S.STATIC_BROKER_CONFIG),
        ConfigSynonym("log.retention.hours", "24", S.STATIC_BROKER_CONFIG),
        ConfigSynonym("log.retention.hours", "168", S.DEFAULT_CONFIG),
    )
    assert resolve_topic_config(image, static, {}, "retention.ms").value == 1000


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({"log.retention.hours": "2"}, 2 * HOUR),
        ({"log.retention.minutes": "3", "log.retention.hours": "2"}, 3 * 60_000),
        ({"log.retention.ms": "4", "log.retention.minutes": "3"}, 4),
        ({"log.retention.ms": "-1"}, -1),
    ],
)
def test_retention_synonyms_convert_units(properties: dict[str, str], expected: int) -> None:
    static = StaticBrokerConfig.from_properties({"node.id": "1", **properties})
    resolved = resolve_topic_config(ClusterImage.EMPTY, static, {}, "retention.ms")
    assert resolved.value == expected
    assert resolved.source is S.STATIC_BROKER_CONFIG


def test_flush_ms_falls_back_to_the_scheduler_interval() -> None:
    static = StaticBrokerConfig.from_properties({"node.id": "1", "log.flush.scheduler.interval.ms": "100"})
    resolved = resolve_topic_config(ClusterImage.EMPTY, static, {}, "flush.ms")
    assert (resolved.value, resolved.source) == (100, S.STATIC_BROKER_CONFIG)


def test_a_stored_value_that_no_longer_parses_is_skipped() -> None:
    static = StaticBrokerConfig.from_properties({"node.id": "1"})
    resolved = resolve_topic_config(ClusterImage.EMPTY, static, {"segment.bytes": "100"}, "segment.bytes")
    assert resolved.value == 1024**3
    assert resolved.source is S.DEFAULT_CONFIG


def test_effective_topic_configs_lists_all_alphabetically(
    cluster: Callable[..., ClusterImage], with_topic: Callable[..., ClusterImage], static: StaticBrokerConfig
) -> None:
    image = with_topic(cluster(1), "t", configs={"cleanup.policy": "compact,delete"})
    configs = effective_topic_configs(image, static, "t")
    assert list(configs) == sorted(configs)
    assert len(configs) == 38  # Kafka 4's 34 and Confluent Server's 4 schema validation configs
    assert configs["cleanup.policy"].value == ("compact", "delete")
    assert configs["cleanup.policy"].value_string == "compact,delete"
    assert configs["min.cleanable.dirty.ratio"].value_string == "0.5"


def test_broker_configs_follow_kafkas_synonym_rule() -> None:
    static = StaticBrokerConfig.from_properties({"node.id": "1", "log.retention.ms": "5"})
    ms = resolve_broker_config(ClusterImage.EMPTY, static, "log.retention.ms")
    assert (ms.value, ms.source) == (5, S.STATIC_BROKER_CONFIG)
    assert ms.synonyms == (
        ConfigSynonym("log.retention.ms", "5", S.STATIC_BROKER_CONFIG),
        ConfigSynonym("log.retention.hours", "168", S.DEFAULT_CONFIG),
    )
    hours = resolve_broker_config(ClusterImage.EMPTY, static, "log.retention.hours")
    assert (hours.value, hours.source) == (168, S.DEFAULT_CONFIG)
    assert hours.synonyms == (ConfigSynonym("log.retention.hours", "168", S.DEFAULT_CONFIG),)
    unset = resolve_broker_config(ClusterImage.EMPTY, static, "log.roll.ms")
    assert (unset.value, unset.source, unset.synonyms) == (None, S.DEFAULT_CONFIG, ())


def test_broker_value_prefers_dynamic_then_static_then_default() -> None:
    static = StaticBrokerConfig.from_properties({"node.id": "1", "message.max.bytes": "2000"})
    assert broker_config_value(ClusterImage.EMPTY, static, "message.max.bytes") == 2000
    image = broker_configs(ClusterImage.EMPTY, "", message_max_bytes="3000")
    assert broker_config_value(image, static, "message.max.bytes") == 3000
    image = broker_configs(image, "1", message_max_bytes="4000")
    assert broker_config_value(image, static, "message.max.bytes") == 4000
    assert broker_config_value(image, static, "num.partitions") == 1
    cluster_default = resolve_broker_config(image, static, "message.max.bytes", cluster_default=True)
    assert cluster_default.synonyms == (
        ConfigSynonym("message.max.bytes", "3000", S.DYNAMIC_DEFAULT_BROKER_CONFIG),
    )
