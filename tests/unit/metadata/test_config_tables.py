"""The config tables agree with Kafka and with each other."""

from __future__ import annotations

from odradek.metadata.broker_configs import BROKER_CONFIGS
from odradek.metadata.config_types import ConfigType
from odradek.metadata.topic_configs import TOPIC_CONFIGS

KAFKA_4_TOPIC_CONFIGS = {
    "cleanup.policy",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.type",
    "compression.zstd.level",
    "delete.retention.ms",
    "file.delete.delay.ms",
    "flush.messages",
    "flush.ms",
    "follower.replication.throttled.replicas",
    "index.interval.bytes",
    "leader.replication.throttled.replicas",
    "local.retention.bytes",
    "local.retention.ms",
    "max.compaction.lag.ms",
    "max.message.bytes",
    "message.downconversion.enable",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.type",
    "min.cleanable.dirty.ratio",
    "min.compaction.lag.ms",
    "min.insync.replicas",
    "preallocate",
    "remote.log.copy.disable",
    "remote.log.delete.on.disable",
    "remote.storage.enable",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.index.bytes",
    "segment.jitter.ms",
    "segment.ms",
    "unclean.leader.election.enable",
}


# Confluent Server's broker-side schema validation (broker/schema_validation.py), the only additions
CONFLUENT_TOPIC_CONFIGS = {
    "confluent.key.schema.validation",
    "confluent.value.schema.validation",
    "confluent.key.subject.name.strategy",
    "confluent.value.subject.name.strategy",
}


def test_every_kafka_4_topic_config_and_nothing_removed() -> None:
    assert set(TOPIC_CONFIGS) == KAFKA_4_TOPIC_CONFIGS | CONFLUENT_TOPIC_CONFIGS
    assert "message.format.version" not in TOPIC_CONFIGS
    assert "message.timestamp.difference.max.ms" not in TOPIC_CONFIGS


def test_topic_defaults_equal_their_broker_synonym_defaults() -> None:
    for definition in TOPIC_CONFIGS.values():
        for synonym in definition.synonyms:
            broker_default = BROKER_CONFIGS[synonym.name].default
            if broker_default is None:
                continue
            if isinstance(broker_default, int) and not isinstance(broker_default, bool):
                broker_default *= synonym.scale
            assert broker_default == definition.default, (definition.name, synonym.name)
            break
        else:
            assert not definition.synonyms, definition.name


def test_primary_synonyms_are_dynamic_and_the_others_are_not() -> None:
    for definition in TOPIC_CONFIGS.values():
        if definition.synonyms:
            primary, *others = definition.synonyms
            assert BROKER_CONFIGS[primary.name].dynamic, primary.name
            assert not any(BROKER_CONFIGS[o.name].dynamic for o in others)


def test_selected_broker_configs() -> None:
    assert BROKER_CONFIGS["num.partitions"].default == 1
    assert not BROKER_CONFIGS["num.partitions"].dynamic
    assert BROKER_CONFIGS["log.retention.hours"].default == 168
    assert BROKER_CONFIGS["offsets.topic.replication.factor"].type is ConfigType.SHORT
    assert BROKER_CONFIGS["message.max.bytes"].default == 1048588
    assert BROKER_CONFIGS["listeners"].per_broker
    assert BROKER_CONFIGS["group.consumer.assignors"].default == ("uniform", "range")


def test_documentation_is_written_for_every_config() -> None:
    for definition in (*TOPIC_CONFIGS.values(), *BROKER_CONFIGS.values()):
        assert definition.doc.endswith("."), definition.name
