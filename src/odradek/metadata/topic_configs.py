"""Every topic config of Kafka 4.x: type, default, valid values, and the broker configs behind it.

A topic's effective value is its override if set, else the first broker synonym that is set
(dynamic per-broker, dynamic cluster default, static), else the default below. Synonym order
follows Kafka (`retention.ms` ← `log.retention.ms` ← `log.retention.minutes` ← `log.retention.hours`).

Kafka 4.0 removed `message.format.version` and `message.timestamp.difference.max.ms`; they are unknown
here too. `message.downconversion.enable` is still accepted by Kafka 4.x but does nothing (there is
no down-conversion), so it is kept as a no-op. Defaults follow 4.0's KIP-1030 changes:
`segment.bytes` is at least 1 MiB and `message.timestamp.after.max.ms` defaults to one hour.
"""

from __future__ import annotations

from odradek.metadata.config_def import HOURS_TO_MS, MINUTES_TO_MS, ConfigDef, Synonym, table_of
from odradek.metadata.config_types import (
    ConfigType,
    ListOf,
    OneOf,
    RangeOrSentinel,
    ThrottledReplicas,
    at_least,
    between,
)

LONG_MAX = 2**63 - 1
INT_MAX = 2**31 - 1
DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 + 12  # 1 MiB plus the log overhead of one batch
DEFAULT_SEGMENT_BYTES = 1024 * 1024 * 1024
WEEK_MS = 7 * 24 * HOURS_TO_MS
COMPRESSION_TYPES = ("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer")
TIMESTAMP_TYPES = ("CreateTime", "LogAppendTime")
CLEANUP_POLICIES = ("compact", "delete")
TOPIC_NAME_STRATEGY = "io.confluent.kafka.serializers.subject.TopicNameStrategy"
RECORD_NAME_STRATEGY = "io.confluent.kafka.serializers.subject.RecordNameStrategy"
TOPIC_RECORD_NAME_STRATEGY = "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"
SUBJECT_NAME_STRATEGIES = (
    TOPIC_NAME_STRATEGY,
    RECORD_NAME_STRATEGY,
    TOPIC_RECORD_NAME_STRATEGY,
    "TopicNameStrategy",
    "RecordNameStrategy",
    "TopicRecordNameStrategy",
)

BOOL, STR, INT, LONG, DOUBLE, LIST = (
    ConfigType.BOOLEAN,
    ConfigType.STRING,
    ConfigType.INT,
    ConfigType.LONG,
    ConfigType.DOUBLE,
    ConfigType.LIST,
)


def _log(name: str) -> tuple[Synonym, ...]:
    return (Synonym(name),)


TOPIC_CONFIGS = table_of(
    ConfigDef(
        "cleanup.policy",
        LIST,
        ("delete",),
        "How old segments are removed: 'delete' drops them past the retention limits, 'compact' keeps "
        "the latest record per key; both may be listed.",
        ListOf(CLEANUP_POLICIES),
        synonyms=_log("log.cleanup.policy"),
    ),
    ConfigDef(
        "compression.gzip.level",
        INT,
        -1,
        "Compression level used when compression.type is gzip; -1 means the codec's default.",
        RangeOrSentinel(1, 9, -1),
        synonyms=_log("compression.gzip.level"),
    ),
    ConfigDef(
        "compression.lz4.level",
        INT,
        9,
        "Compression level used when compression.type is lz4.",
        between(1, 17),
        synonyms=_log("compression.lz4.level"),
    ),
    ConfigDef(
        "compression.type",
        STR,
        "producer",
        "Codec the broker stores batches with; 'producer' keeps whatever the producer sent, "
        "'uncompressed' stores them uncompressed.",
        OneOf(COMPRESSION_TYPES),
        synonyms=_log("compression.type"),
    ),
    ConfigDef(
        "compression.zstd.level",
        INT,
        3,
        "Compression level used when compression.type is zstd.",
        between(-131072, 22),
        synonyms=_log("compression.zstd.level"),
    ),
    ConfigDef(
        "delete.retention.ms",
        LONG,
        24 * HOURS_TO_MS,
        "How long tombstones stay readable in a compacted topic, so consumers can see deletions.",
        at_least(0),
        synonyms=_log("log.cleaner.delete.retention.ms"),
    ),
    ConfigDef(
        "file.delete.delay.ms",
        LONG,
        60_000,
        "Delay between retiring a segment and removing its files.",
        at_least(0),
        synonyms=_log("log.segment.delete.delay.ms"),
    ),
    ConfigDef(
        "flush.messages",
        LONG,
        LONG_MAX,
        "Force an fsync after this many records; the default leaves durability to replication and the OS.",
        at_least(1),
        synonyms=_log("log.flush.interval.messages"),
    ),
    ConfigDef(
        "flush.ms",
        LONG,
        LONG_MAX,
        "Force an fsync when data has been unflushed this long.",
        at_least(0),
        synonyms=(Synonym("log.flush.interval.ms"), Synonym("log.flush.scheduler.interval.ms")),
    ),
    ConfigDef(
        "follower.replication.throttled.replicas",
        LIST,
        (),
        "Replicas ('partition:broker' pairs, or '*') whose follower fetching is throttled.",
        ThrottledReplicas(),
    ),
    ConfigDef(
        "index.interval.bytes",
        INT,
        4096,
        "Bytes of log between two entries of the offset index.",
        at_least(0),
        synonyms=_log("log.index.interval.bytes"),
    ),
    ConfigDef(
        "leader.replication.throttled.replicas",
        LIST,
        (),
        "Replicas ('partition:broker' pairs, or '*') whose leader-side replication is throttled.",
        ThrottledReplicas(),
    ),
    ConfigDef(
        "local.retention.bytes",
        LONG,
        -2,
        "Tiered storage: local size limit per partition; -2 means use retention.bytes.",
        at_least(-2),
        synonyms=_log("log.local.retention.bytes"),
    ),
    ConfigDef(
        "local.retention.ms",
        LONG,
        -2,
        "Tiered storage: local time limit per segment; -2 means use retention.ms.",
        at_least(-2),
        synonyms=_log("log.local.retention.ms"),
    ),
    ConfigDef(
        "max.compaction.lag.ms",
        LONG,
        LONG_MAX,
        "Longest a record may wait before its segment becomes eligible for compaction.",
        at_least(1),
        synonyms=_log("log.cleaner.max.compaction.lag.ms"),
    ),
    ConfigDef(
        "max.message.bytes",
        INT,
        DEFAULT_MAX_MESSAGE_BYTES,
        "Largest record batch (after compression) the topic accepts.",
        at_least(0),
        synonyms=_log("message.max.bytes"),
    ),
    ConfigDef(
        "message.downconversion.enable",
        BOOL,
        True,
        "Deprecated and ignored: Kafka 4 brokers never down-convert record batches.",
        synonyms=_log("log.message.downconversion.enable"),
    ),
    ConfigDef(
        "message.timestamp.after.max.ms",
        LONG,
        60 * MINUTES_TO_MS,
        "How far in the future a CreateTime timestamp may be, relative to the broker clock.",
        at_least(0),
        synonyms=_log("log.message.timestamp.after.max.ms"),
    ),
    ConfigDef(
        "message.timestamp.before.max.ms",
        LONG,
        LONG_MAX,
        "How far in the past a CreateTime timestamp may be, relative to the broker clock.",
        at_least(0),
        synonyms=_log("log.message.timestamp.before.max.ms"),
    ),
    ConfigDef(
        "message.timestamp.type",
        STR,
        "CreateTime",
        "Whether record timestamps are the producer's (CreateTime) or the broker's append time.",
        OneOf(TIMESTAMP_TYPES),
        synonyms=_log("log.message.timestamp.type"),
    ),
    ConfigDef(
        "min.cleanable.dirty.ratio",
        DOUBLE,
        0.5,
        "Compact once the uncompacted share of the log exceeds this ratio.",
        between(0, 1),
        synonyms=_log("log.cleaner.min.cleanable.ratio"),
    ),
    ConfigDef(
        "min.compaction.lag.ms",
        LONG,
        0,
        "Shortest time a record stays uncompacted.",
        at_least(0),
        synonyms=_log("log.cleaner.min.compaction.lag.ms"),
    ),
    ConfigDef(
        "min.insync.replicas",
        INT,
        1,
        "With acks=all, the number of in-sync replicas that must hold a write before it is acknowledged.",
        at_least(1),
        synonyms=_log("min.insync.replicas"),
    ),
    ConfigDef(
        "preallocate",
        BOOL,
        False,
        "Preallocate segment files when they are created.",
        synonyms=_log("log.preallocate"),
    ),
    ConfigDef(
        "remote.log.copy.disable",
        BOOL,
        False,
        "Tiered storage: stop copying segments to remote storage (remote data becomes read-only).",
    ),
    ConfigDef(
        "remote.log.delete.on.disable",
        BOOL,
        False,
        "Tiered storage: delete remote data when remote storage is disabled for the topic.",
    ),
    ConfigDef(
        "remote.storage.enable",
        BOOL,
        False,
        "Tiered storage for this topic; odradek has no tiered storage, so only false is accepted.",
    ),
    ConfigDef(
        "retention.bytes",
        LONG,
        -1,
        "Size limit per partition before old segments are deleted; -1 means no limit.",
        synonyms=_log("log.retention.bytes"),
    ),
    ConfigDef(
        "retention.ms",
        LONG,
        WEEK_MS,
        "Age after which segments are deleted (delete policy); -1 means keep forever.",
        at_least(-1),
        synonyms=(
            Synonym("log.retention.ms"),
            Synonym("log.retention.minutes", MINUTES_TO_MS),
            Synonym("log.retention.hours", HOURS_TO_MS),
        ),
    ),
    ConfigDef(
        "segment.bytes",
        INT,
        DEFAULT_SEGMENT_BYTES,
        "Size at which the active segment is rolled.",
        at_least(1024 * 1024),
        synonyms=_log("log.segment.bytes"),
    ),
    ConfigDef(
        "segment.index.bytes",
        INT,
        10 * 1024 * 1024,
        "Maximum size of a segment's offset and time indexes.",
        at_least(4),
        synonyms=_log("log.index.size.max.bytes"),
    ),
    ConfigDef(
        "segment.jitter.ms",
        LONG,
        0,
        "Random amount subtracted from segment.ms so segments do not all roll at once.",
        at_least(0),
        synonyms=(Synonym("log.roll.jitter.ms"), Synonym("log.roll.jitter.hours", HOURS_TO_MS)),
    ),
    ConfigDef(
        "segment.ms",
        LONG,
        WEEK_MS,
        "Age at which the active segment is rolled even if it is not full.",
        at_least(1),
        synonyms=(Synonym("log.roll.ms"), Synonym("log.roll.hours", HOURS_TO_MS)),
    ),
    ConfigDef(
        "confluent.key.schema.validation",
        BOOL,
        False,
        "Refuse (INVALID_RECORD) batches whose record keys carry no schema id registered under the "
        "topic's key subject in confluent.schema.registry.url (Confluent Server's name).",
    ),
    ConfigDef(
        "confluent.key.subject.name.strategy",
        STR,
        TOPIC_NAME_STRATEGY,
        "How the key subject is named for confluent.key.schema.validation: TopicNameStrategy "
        "(<topic>-key), RecordNameStrategy (<record name>) or TopicRecordNameStrategy "
        "(<topic>-<record name>); Confluent's class names, or the short names.",
        OneOf(SUBJECT_NAME_STRATEGIES),
    ),
    ConfigDef(
        "confluent.value.schema.validation",
        BOOL,
        False,
        "Refuse (INVALID_RECORD) batches whose record values carry no schema id registered under the "
        "topic's value subject in confluent.schema.registry.url (Confluent Server's name).",
    ),
    ConfigDef(
        "confluent.value.subject.name.strategy",
        STR,
        TOPIC_NAME_STRATEGY,
        "How the value subject is named for confluent.value.schema.validation: TopicNameStrategy "
        "(<topic>-value), RecordNameStrategy (<record name>) or TopicRecordNameStrategy "
        "(<topic>-<record name>); Confluent's class names, or the short names.",
        OneOf(SUBJECT_NAME_STRATEGIES),
    ),
    ConfigDef(
        "unclean.leader.election.enable",
        BOOL,
        False,
        "Allow an out-of-sync replica to become leader when no in-sync one is left (may lose data).",
        synonyms=_log("unclean.leader.election.enable"),
    ),
)
