from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from odradek.metadata.config_types import ConfigResourceType
from odradek.metadata.controller import (
    AlterableConfig,
    AlterConfigOp,
    AlterConfigsResource,
    IncrementalAlterConfigsResource,
    alter_configs,
    incremental_alter_configs,
)
from odradek.metadata.delta import replay
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import ConfigRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.model.errors import ErrorCode as E

TOPIC, BROKER = ConfigResourceType.TOPIC, ConfigResourceType.BROKER
STATIC = StaticBrokerConfig.from_properties({"node.id": "1"})
SET, DELETE, APPEND, SUBTRACT = (
    AlterConfigOp.SET,
    AlterConfigOp.DELETE,
    AlterConfigOp.APPEND,
    AlterConfigOp.SUBTRACT,
)


@pytest.fixture
def image(cluster: Callable[..., ClusterImage], with_topic: Callable[..., ClusterImage]) -> ClusterImage:
    image = with_topic(cluster(1), "t", configs={"retention.ms": "1000", "cleanup.policy": "compact"})
    return replay(image, [ConfigRecord(BROKER, "1", "message.max.bytes", "5000")])


def legacy(image: ClusterImage, static: StaticBrokerConfig, *resources: AlterConfigsResource, **kw: object):  # type: ignore[no-untyped-def]
    return alter_configs(image, static, list(resources), validate_only=kw.pop("validate_only", False), **kw)  # type: ignore[arg-type]


def incremental(
    image: ClusterImage,
    static: StaticBrokerConfig,
    kind: int,
    name: str,
    *ops: tuple[str, int, str | None],
    **kw: object,
):  # type: ignore[no-untyped-def]
    resource = IncrementalAlterConfigsResource(kind, name, tuple(AlterableConfig(n, o, v) for n, o, v in ops))
    return incremental_alter_configs(
        image, static, [resource], validate_only=kw.pop("validate_only", False), **kw
    )  # type: ignore[arg-type]


def overrides(image: ClusterImage, name: str) -> Mapping[str, str]:
    return image.topic_config_overrides(name)


def test_legacy_alter_replaces_the_whole_set(image: ClusterImage, static: StaticBrokerConfig) -> None:
    result = legacy(
        image, static, AlterConfigsResource(TOPIC, "t", (("retention.ms", "1000"), ("segment.ms", "60000")))
    )
    assert [(r.error_code, r.error_message) for r in result.response] == [(E.NO_ERROR, None)]
    # Unchanged retention.ms writes nothing; cleanup.policy, not listed, is removed.
    assert set(result.records) == {
        ConfigRecord(TOPIC, "t", "segment.ms", "60000"),
        ConfigRecord(TOPIC, "t", "cleanup.policy", None),
    }
    assert dict(overrides(replay(image, result.records), "t")) == {
        "retention.ms": "1000",
        "segment.ms": "60000",
    }


def test_incremental_set_delete_append_subtract(image: ClusterImage, static: StaticBrokerConfig) -> None:
    result = incremental(
        image,
        static,
        TOPIC,
        "t",
        ("retention.ms", DELETE, None),
        ("cleanup.policy", APPEND, "delete,compact"),
        ("leader.replication.throttled.replicas", APPEND, "0:1"),
        ("max.message.bytes", SET, "2000"),
    )
    assert result.response[0].error_code is E.NO_ERROR
    assert dict(overrides(replay(image, result.records), "t")) == {
        "cleanup.policy": "compact,delete",
        "leader.replication.throttled.replicas": "0:1",
        "max.message.bytes": "2000",
    }
    subtract = incremental(image, static, TOPIC, "t", ("cleanup.policy", SUBTRACT, "compact"))
    assert subtract.records == (ConfigRecord(TOPIC, "t", "cleanup.policy", ""),)


def test_append_starts_from_the_default(
    cluster: Callable[..., ClusterImage], with_topic: Callable[..., ClusterImage], static: StaticBrokerConfig
) -> None:
    image = with_topic(cluster(1), "plain")
    result = incremental(image, static, TOPIC, "plain", ("cleanup.policy", APPEND, "compact"))
    assert result.records == (ConfigRecord(TOPIC, "plain", "cleanup.policy", "delete,compact"),)


def test_validate_only_writes_nothing(image: ClusterImage, static: StaticBrokerConfig) -> None:
    checked = incremental(image, static, TOPIC, "t", ("segment.ms", SET, "5"), validate_only=True)
    assert checked.records == ()
    assert checked.response[0].error_code is E.NO_ERROR
    bad = incremental(image, static, TOPIC, "t", ("segment.ms", SET, "0"), validate_only=True)
    assert bad.response[0].error_code is E.INVALID_CONFIG


@pytest.mark.parametrize(
    ("name", "ops", "code", "message"),
    [
        (
            "t",
            [("segment.ms", SET, "x")],
            E.INVALID_CONFIG,
            "Invalid value x for configuration segment.ms: Not a number of type LONG",
        ),
        ("t", [("nope", SET, "1")], E.INVALID_CONFIG, "Unknown topic config name: nope"),
        (
            "t",
            [("retention.ms", APPEND, "1")],
            E.INVALID_CONFIG,
            "Can't APPEND to key retention.ms because its type is not LIST.",
        ),
        (
            "t",
            [("retention.ms", SUBTRACT, "1")],
            E.INVALID_CONFIG,
            "Can't SUBTRACT to key retention.ms because its type is not LIST.",
        ),
        ("t", [("segment.ms", 9, "1")], E.INVALID_REQUEST, "Unknown operations type 9"),
        ("t", [("segment.ms", SET, None)], E.INVALID_REQUEST, "Null value not supported for : segment.ms"),
        (
            "t",
            [("segment.ms", SET, "1"), ("segment.ms", DELETE, None)],
            E.INVALID_REQUEST,
            "Error due to duplicate config keys",
        ),
        (
            "t",
            [("max.compaction.lag.ms", SET, "1"), ("min.compaction.lag.ms", SET, "2")],
            E.INVALID_CONFIG,
            "conflict topic config setting min.compaction.lag.ms (2) > max.compaction.lag.ms (1)",
        ),
        (
            "missing",
            [("segment.ms", SET, "5")],
            E.UNKNOWN_TOPIC_OR_PARTITION,
            "The topic 'missing' does not exist.",
        ),
        (
            "missing",
            [("segment.ms", SET, "0")],
            E.INVALID_CONFIG,
            "Invalid value 0 for configuration segment.ms: Value must be at least 1",
        ),
        ("", [("segment.ms", SET, "5")], E.INVALID_REQUEST, "Default topic resources are not allowed."),
        (
            "a b",
            [("segment.ms", SET, "5")],
            E.INVALID_TOPIC_EXCEPTION,
            "Topic name is invalid: 'a b' contains one or more characters other than ASCII alphanumerics, "
            "'.', '_' and '-'",
        ),
    ],
)
def test_topic_errors(
    image: ClusterImage,
    name: str,
    ops: list[tuple[str, int, str | None]],
    code: E,
    message: str,
) -> None:
    result = incremental(image, STATIC, TOPIC, name, *ops)
    assert result.records == ()
    assert [(r.resource_type, r.resource_name, r.error_code, r.error_message) for r in result.response] == [
        (TOPIC, name, code, message)
    ]


def test_broker_dynamic_configs(image: ClusterImage, static: StaticBrokerConfig) -> None:
    result = incremental(
        image, static, BROKER, "1", ("message.max.bytes", SET, "5000"), ("log.retention.ms", SET, "60000")
    )
    assert result.response[0].error_code is E.NO_ERROR
    # A broker key is rewritten even when unchanged, so brokers reload it.
    assert result.records == (
        ConfigRecord(BROKER, "1", "message.max.bytes", "5000"),
        ConfigRecord(BROKER, "1", "log.retention.ms", "60000"),
    )
    cluster_wide = incremental(image, static, BROKER, "", ("log.segment.bytes", SET, "2097152"))
    assert cluster_wide.records == (ConfigRecord(BROKER, "", "log.segment.bytes", "2097152"),)
    replaced = legacy(image, static, AlterConfigsResource(BROKER, "1", (("num.io.threads", "4"),)))
    assert replaced.records == (
        ConfigRecord(BROKER, "1", "num.io.threads", "4"),
        ConfigRecord(BROKER, "1", "message.max.bytes", None),
    )


@pytest.mark.parametrize(
    ("name", "ops", "message"),
    [
        ("1", [("num.partitions", SET, "3")], "Cannot update these configs dynamically: Set(num.partitions)"),
        (
            "1",
            [("log.retention.hours", SET, "3"), ("no.such", SET, "1")],
            "Cannot update these configs dynamically: Set(log.retention.hours, no.such)",
        ),
        (
            "",
            [("listeners", SET, "PLAINTEXT://:9093")],
            "Cannot update these configs at default cluster level, broker id must be specified: "
            "Set(listeners)",
        ),
        (
            "1",
            [("message.max.bytes", SET, "-1")],
            "Invalid value -1 for configuration message.max.bytes: Value must be at least 0",
        ),
        ("2", [("message.max.bytes", SET, "1")], "Unexpected broker id, expected 1, but received 2"),
        ("x", [("message.max.bytes", SET, "1")], "Node id must be an integer, but it is: x"),
    ],
)
def test_broker_errors(
    image: ClusterImage,
    static: StaticBrokerConfig,
    name: str,
    ops: list[tuple[str, int, str | None]],
    message: str,
) -> None:
    result = incremental(image, static, BROKER, name, *ops)
    assert result.records == ()
    assert [(r.error_code, r.error_message) for r in result.response] == [(E.INVALID_REQUEST, message)]


def test_resource_level_errors(image: ClusterImage, static: StaticBrokerConfig) -> None:
    result = legacy(
        image,
        static,
        AlterConfigsResource(TOPIC, "t", (("segment.ms", "5"),)),
        AlterConfigsResource(TOPIC, "t", (("segment.ms", "6"),)),
        AlterConfigsResource(ConfigResourceType.BROKER_LOGGER, "1", (("root", "INFO"),)),
        AlterConfigsResource(TOPIC, "u", (("segment.ms", None),)),
        AlterConfigsResource(BROKER, "1", (("num.io.threads", "4"), ("num.io.threads", "5"))),
    )
    assert result.records == ()
    assert [(r.resource_name, r.error_code, r.error_message) for r in result.response] == [
        ("t", E.INVALID_REQUEST, "Each resource must appear at most once."),
        ("t", E.INVALID_REQUEST, "Each resource must appear at most once."),
        ("1", E.INVALID_REQUEST, "Unknown resource type 8"),
        ("u", E.INVALID_REQUEST, "Null value not supported for : segment.ms"),
        ("1", E.INVALID_REQUEST, "Error due to duplicate config keys"),
    ]


def test_resources_succeed_or_fail_independently(image: ClusterImage, static: StaticBrokerConfig) -> None:
    result = legacy(
        image,
        static,
        AlterConfigsResource(TOPIC, "t", (("segment.ms", "0"),)),
        AlterConfigsResource(BROKER, "", (("log.retention.ms", "100"),)),
    )
    assert [r.error_code for r in result.response] == [E.INVALID_CONFIG, E.NO_ERROR]
    assert result.records == (ConfigRecord(BROKER, "", "log.retention.ms", "100"),)


def test_policy(image: ClusterImage, static: StaticBrokerConfig) -> None:
    calls: list[tuple[ConfigResourceType, str, dict[str, str | None]]] = []

    def policy(kind: ConfigResourceType, name: str, configs: Mapping[str, str | None]) -> str | None:
        calls.append((kind, name, dict(configs)))
        return "retention is fixed" if "retention.ms" in configs else None

    refused = incremental(image, static, TOPIC, "t", ("retention.ms", DELETE, None), policy=policy)
    assert [(r.error_code, r.error_message) for r in refused.response] == [
        (E.POLICY_VIOLATION, "retention is fixed")
    ]
    assert refused.records == ()
    allowed = incremental(image, static, TOPIC, "t", ("segment.ms", SET, "9"), policy=policy)
    assert allowed.response[0].error_code is E.NO_ERROR
    assert calls == [(TOPIC, "t", {"retention.ms": None}), (TOPIC, "t", {"segment.ms": "9"})]
