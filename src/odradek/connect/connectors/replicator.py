"""`ReplicatorSourceConnector`: Kafka-to-Kafka replication in the spirit of MirrorMaker 2's
`MirrorSourceConnector` (same config names where they exist).

It reads topics of a *source* cluster (`source.cluster.bootstrap.servers`) whose names match `topics`
(a regex; `topics.exclude` removes internal ones) and writes them to the worker's cluster:

- names: `DefaultReplicationPolicy` (MM2's default) prefixes `<source.cluster.alias>.`,
  `IdentityReplicationPolicy` keeps them; target topics are created with the source's partition
  count (`replication.factor`, -1: broker default), existing ones grown to it;
- partitions and order: record N of source partition p goes to partition p of the target, in order;
- records as they were: key and value bytes, headers, timestamps (the connector brings its own
  ByteArray converters, so nothing is decoded);
- offsets: each task's source partition is MM2's `{"cluster", "topic", "partition"}` with offset
  `{"offset": n}`, so a restart resumes where the last flush left off (at least once; with an
  exactly-once worker, exactly once);
- offset syncs as MM2 writes them (`mirror_offsets.py`, formats in `mirror_formats.py`):
  `mm2-offset-syncs.<target.cluster.alias>.internal` on the source cluster
  (`offset-syncs.topic.location`), one sync for a partition's first record, after gaps and at
  least every `offset.lag.max` records (`emit.offset-syncs.enabled`); a starting task reads them
  back, so translation survives restarts;
- consumer groups (`groups` regex minus `groups.exclude`): every
  `sync.group.offsets.interval.seconds` / `emit.checkpoints.interval.seconds` the committed offsets
  of matching source groups are translated through the syncs, written as MM2 checkpoints to
  `<source.cluster.alias>.checkpoints.internal` on the target (`emit.checkpoints.enabled`), and
  committed for the same group on the target (`sync.group.offsets.enabled`) when that group has no
  active member there and the translation moves it forward.

New source topics are picked up every `refresh.topics.interval.seconds` (the connector asks the
runtime for new task configs).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, KafkaException
from confluent_kafka import TopicPartition as KafkaTopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from odradek.connect.api.config_def import (
    NO_DEFAULT,
    ConfigDef,
    ConfigType,
    Importance,
    at_least,
    regex,
    valid_string,
)
from odradek.connect.api.connector import ExactlyOnceSupport, SourceConnector, SourceTask, Task
from odradek.connect.api.errors import ConnectException
from odradek.connect.api.headers import Headers
from odradek.connect.api.records import RecordMetadata, SourceRecord
from odradek.connect.connectors.mirror_formats import Checkpoint, checkpoints_topic, offset_syncs_topic
from odradek.connect.connectors.mirror_offsets import Checkpoints, OffsetSyncs, create_internal_topic
from odradek.connect.data.schema import OPTIONAL_BYTES_SCHEMA

log = logging.getLogger("odradek.connect.replicator")
BYTE_ARRAY = "org.apache.kafka.connect.converters.ByteArrayConverter"
POLICIES = {
    "DefaultReplicationPolicy": "default",
    "org.apache.kafka.connect.mirror.DefaultReplicationPolicy": "default",
    "IdentityReplicationPolicy": "identity",
    "org.apache.kafka.connect.mirror.IdentityReplicationPolicy": "identity",
}
DEFAULT_EXCLUDE = r".*[\-\.]internal|.*\.replica|__.*|_schemas|connect-.*|.*-slots"


def target_topic(policy: str, alias: str, topic: str) -> str:
    return topic if policy == "identity" else f"{alias}.{topic}"


def _target_client(props: Mapping[str, Any]) -> dict[str, Any]:
    return {"bootstrap.servers": props["target.cluster.bootstrap.servers"]}


def _syncs_client(values: Mapping[str, Any], props: Mapping[str, str]) -> dict[str, Any] | None:
    """Clients of the cluster holding the offset syncs (None: the target, and it is not known)."""
    if values["offset-syncs.topic.location"] == "source":
        return _client(props, "source.admin.")
    return _target_client(values) if values["target.cluster.bootstrap.servers"] else None


def _client(props: Mapping[str, str], prefix: str) -> dict[str, Any]:
    config: dict[str, Any] = {"bootstrap.servers": props["source.cluster.bootstrap.servers"]}
    for key, value in props.items():  # MM2's source.cluster.<client config> (security settings etc.)
        if key.startswith("source.cluster.") and key not in (
            "source.cluster.alias",
            "source.cluster.bootstrap.servers",
        ):
            config[key[len("source.cluster.") :]] = value
    for key, value in props.items():
        if key.startswith(prefix):
            config[key[len(prefix) :]] = value
    return config


class ReplicatorSourceConnector(SourceConnector):
    java_class = "org.apache.kafka.connect.mirror.MirrorSourceConnector"
    converter_defaults: ClassVar[dict[str, str]] = {
        "key.converter": BYTE_ARRAY,
        "value.converter": BYTE_ARRAY,
        "header.converter": BYTE_ARRAY,
    }

    @classmethod
    def config_def(cls) -> ConfigDef:
        return (
            ConfigDef()
            .define(
                "source.cluster.bootstrap.servers",
                ConfigType.STRING,
                NO_DEFAULT,
                None,
                Importance.HIGH,
                "The source cluster's bootstrap servers (source.cluster.*, source.consumer.*, source.admin.* set its clients).",
            )
            .define(
                "target.cluster.bootstrap.servers",
                ConfigType.STRING,
                "",
                None,
                Importance.HIGH,
                "The worker's (target) cluster: needed to create target topics and to translate group offsets.",
            )
            .define(
                "source.cluster.alias",
                ConfigType.STRING,
                "source",
                None,
                Importance.HIGH,
                "Alias of the source cluster, the prefix of replicated topic names under DefaultReplicationPolicy.",
            )
            .define(
                "topics",
                ConfigType.STRING,
                ".*",
                regex,
                Importance.HIGH,
                "Regexes of the source topics to replicate (comma-separated, as MM2's list).",
            )
            .define(
                "topics.exclude",
                ConfigType.STRING,
                DEFAULT_EXCLUDE,
                regex,
                Importance.MEDIUM,
                "Regex of topics never replicated (internal topics).",
            )
            .define(
                "replication.policy.class",
                ConfigType.STRING,
                "DefaultReplicationPolicy",
                None,
                Importance.MEDIUM,
                "DefaultReplicationPolicy (prefix the source alias) or IdentityReplicationPolicy (same names).",
            )
            .define(
                "replication.factor",
                ConfigType.INT,
                -1,
                None,
                Importance.LOW,
                "Replication factor of created target topics (-1: broker default).",
            )
            .define(
                "refresh.topics.interval.seconds",
                ConfigType.LONG,
                30,
                at_least(1),
                Importance.LOW,
                "How often to look for new source topics.",
            )
            .define(
                "sync.group.offsets.enabled",
                ConfigType.BOOLEAN,
                True,
                None,
                Importance.MEDIUM,
                "Translate and commit consumer-group offsets on the target cluster.",
            )
            .define(
                "sync.group.offsets.interval.seconds",
                ConfigType.LONG,
                10,
                at_least(1),
                Importance.LOW,
                "How often group offsets are translated.",
            )
            .define(
                "groups",
                ConfigType.STRING,
                ".*",
                regex,
                Importance.MEDIUM,
                "Regex of the consumer groups whose offsets are translated.",
            )
            .define(
                "groups.exclude",
                ConfigType.STRING,
                r"console-consumer-.*|connect-.*|__.*",
                regex,
                Importance.LOW,
                "Regex of groups never translated.",
            )
            .define(
                "target.cluster.alias",
                ConfigType.STRING,
                "target",
                None,
                Importance.MEDIUM,
                "Alias of the target cluster: names the offset-syncs topic.",
            )
            .define(
                "emit.offset-syncs.enabled",
                ConfigType.BOOLEAN,
                True,
                None,
                Importance.LOW,
                "Write MM2 offset syncs (upstream offset -> downstream offset) for group offset translation.",
            )
            .define(
                "offset-syncs.topic.location",
                ConfigType.STRING,
                "source",
                valid_string("source", "target"),
                Importance.LOW,
                "The cluster holding mm2-offset-syncs.<target alias>.internal: source or target.",
            )
            .define(
                "offset-syncs.topic.replication.factor",
                ConfigType.INT,
                -1,
                None,
                Importance.LOW,
                "Replication factor of the offset-syncs topic (-1: broker default).",
            )
            .define(
                "offset.lag.max",
                ConfigType.LONG,
                100,
                at_least(0),
                Importance.LOW,
                "At most this many records between two offset syncs of a partition (translated offsets "
                "may lag by as much: a consumer failing over reads at most that many records again).",
            )
            .define(
                "emit.checkpoints.enabled",
                ConfigType.BOOLEAN,
                True,
                None,
                Importance.LOW,
                "Write translated group offsets as MM2 checkpoints to <source alias>.checkpoints.internal.",
            )
            .define(
                "emit.checkpoints.interval.seconds",
                ConfigType.LONG,
                60,
                at_least(1),
                Importance.LOW,
                "How often checkpoints are written.",
            )
            .define(
                "checkpoints.topic.replication.factor",
                ConfigType.INT,
                -1,
                None,
                Importance.LOW,
                "Replication factor of the checkpoints topic (-1: broker default).",
            )
            .define(
                "consumer.poll.timeout.ms",
                ConfigType.LONG,
                200,
                at_least(0),
                Importance.LOW,
                "How long one poll() waits for source records.",
            )
        )

    def version(self) -> str:
        return "odradek"

    def start(self, props: Mapping[str, str]) -> None:
        self.props = dict(props)
        self.values = self.config_def().parse(props)
        policy = POLICIES.get(self.values["replication.policy.class"])
        if policy is None:
            raise ConnectException(
                f"Unknown replication.policy.class {self.values['replication.policy.class']}"
            )
        self.policy = policy
        self.partitions: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self._create_internal_topics()
        self._refresh()
        self._thread = threading.Thread(target=self._watch, name="replicator-topics", daemon=True)
        self._thread.start()

    def _create_internal_topics(self) -> None:
        values = self.values
        syncs = _syncs_client(values, self.props)
        wanted = []
        if values["emit.offset-syncs.enabled"] and syncs is not None:
            topic = offset_syncs_topic(values["target.cluster.alias"])
            wanted.append((syncs, topic, values["offset-syncs.topic.replication.factor"]))
        if values["emit.checkpoints.enabled"] and values["target.cluster.bootstrap.servers"]:
            topic = checkpoints_topic(values["source.cluster.alias"])
            wanted.append((_target_client(values), topic, values["checkpoints.topic.replication.factor"]))
        for config, topic, replication_factor in wanted:
            try:
                create_internal_topic(config, topic, replication_factor)
            except (ConnectException, KafkaException) as exc:
                log.warning("%s (it is created when first written, if the cluster allows)", exc)

    def _source_partitions(self) -> list[tuple[str, int]]:
        admin = AdminClient(_client(self.props, "source.admin."))
        metadata = admin.list_topics(timeout=15)
        include = re.compile(
            "|".join(f"(?:{p.strip()})" for p in self.values["topics"].split(",") if p.strip())
        )
        exclude = re.compile(self.values["topics.exclude"])
        found: list[tuple[str, int]] = []
        for name, topic in sorted(metadata.topics.items()):
            if topic.error is None and include.fullmatch(name) and not exclude.fullmatch(name):
                found.extend((name, p) for p in sorted(topic.partitions))
        return found

    def _refresh(self) -> bool:
        found = self._source_partitions()
        if found == self.partitions:
            return False
        self.partitions = found
        self._create_targets(found)
        return True

    def _create_targets(self, partitions: list[tuple[str, int]]) -> None:
        counts: dict[str, int] = {}
        for topic, partition in partitions:
            counts[topic] = max(counts.get(topic, 0), partition + 1)
        target_config = {"bootstrap.servers": self.values["target.cluster.bootstrap.servers"]}
        if not target_config["bootstrap.servers"]:
            return  # created by the producer's auto-creation or by the operator
        admin = AdminClient(target_config)
        existing = admin.list_topics(timeout=15).topics
        alias = self.values["source.cluster.alias"]
        wanted, grow = [], []
        for topic, count in counts.items():
            name = target_topic(self.policy, alias, topic)
            found = existing.get(name)
            if found is None or found.error is not None:
                wanted.append(NewTopic(name, count, self.values["replication.factor"]))
            elif len(found.partitions) < count:  # partition p must exist for source partition p
                grow.append(NewPartitions(name, count))
        futures = list(admin.create_topics(wanted).values()) if wanted else []
        futures += list(admin.create_partitions(grow).values()) if grow else []
        for future in futures:
            try:
                future.result(15)
            except KafkaException as exc:
                log.warning("creating a target topic or its partitions failed: %s", exc)

    def _watch(self) -> None:
        interval = self.values["refresh.topics.interval.seconds"]
        while not self._stop.wait(interval):
            try:
                if self._refresh():
                    self.context.request_task_reconfiguration()
            except Exception as exc:
                log.warning("looking for new source topics failed: %s", exc)

    def task_class(self) -> type[Task]:
        return ReplicatorSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        if not self.partitions:
            return []
        count = min(max_tasks, len(self.partitions))
        shares: list[list[str]] = [[] for _ in range(count)]
        for i, (topic, partition) in enumerate(self.partitions):
            shares[i % count].append(f"{topic}:{partition}")
        return [{**self.props, "task.assigned.partitions": ",".join(share)} for share in shares]

    def stop(self) -> None:
        self._stop.set()

    def exactly_once_support(self, props: Mapping[str, str]) -> ExactlyOnceSupport | None:
        return ExactlyOnceSupport.SUPPORTED

    def alter_offsets(self, props: Mapping[str, str], offsets: Mapping[Any, Any]) -> bool:
        return True


class ReplicatorSourceTask(SourceTask):
    def start(self, props: Mapping[str, str]) -> None:
        self.props = dict(props)
        values = ReplicatorSourceConnector.config_def().parse(props)
        self.alias = values["source.cluster.alias"]
        self.policy = POLICIES[values["replication.policy.class"]]
        self.poll_timeout = values["consumer.poll.timeout.ms"] / 1000
        self.sync_groups = values["sync.group.offsets.enabled"]
        self.emit_checkpoints = values["emit.checkpoints.enabled"]
        intervals = [
            values[name]
            for name, enabled in (
                ("sync.group.offsets.interval.seconds", self.sync_groups),
                ("emit.checkpoints.interval.seconds", self.emit_checkpoints),
            )
            if enabled
        ]
        self.sync_interval = min(intervals, default=0)
        self.groups = re.compile(values["groups"])
        self.groups_exclude = re.compile(values["groups.exclude"])
        assigned = [p for p in props.get("task.assigned.partitions", "").split(",") if p]
        self.assigned = [(t, int(p)) for t, _, p in (a.rpartition(":") for a in assigned)]
        self.consumer = Consumer(
            {
                "group.id": f"odradek-replicator-{self.alias}",  # never commits: offsets live in Connect
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 100,
                **_client(props, "source.consumer."),
            }
        )
        stored = self.context.offset_storage_reader().offsets(
            [self._partition(t, p) for t, p in self.assigned]
        )
        assignment = []
        for topic, partition in self.assigned:
            offset = stored.get(json.dumps(self._partition(topic, partition), separators=(",", ":")))
            start = int(offset["offset"]) + 1 if offset and "offset" in offset else -2  # -2: beginning
            assignment.append(KafkaTopicPartition(topic, partition, start))
        self.consumer.assign(assignment)
        self.target: dict[str, Any] | None = (
            _target_client(values) if values["target.cluster.bootstrap.servers"] else None
        )
        syncs_config = _syncs_client(values, props)
        self.syncs = OffsetSyncs(
            syncs_config or {},
            offset_syncs_topic(values["target.cluster.alias"]),
            values["offset.lag.max"],
            emit=values["emit.offset-syncs.enabled"] and syncs_config is not None,
        )
        if syncs_config is not None and self.sync_interval:
            self.syncs.load(self.assigned)  # what earlier tasks wrote: translation survives restarts
        self.checkpoints = (
            Checkpoints(self.target, checkpoints_topic(self.alias))
            if self.emit_checkpoints and self.target is not None
            else None
        )
        self.next_sync = time.monotonic() + self.sync_interval

    def _partition(self, topic: str, partition: int) -> dict[str, Any]:
        return {"cluster": self.alias, "topic": topic, "partition": partition}

    def poll(self) -> Sequence[SourceRecord] | None:
        if self.sync_interval and time.monotonic() >= self.next_sync:
            self.next_sync = time.monotonic() + self.sync_interval
            try:
                self.sync_group_offsets()
            except Exception as exc:
                log.warning("translating group offsets failed: %s", exc)
        messages = self.consumer.consume(2000, self.poll_timeout)
        records: list[SourceRecord] = []
        for message in messages:
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise ConnectException(f"source consumer failed: {error}")
                continue
            topic, partition, offset = message.topic() or "", message.partition() or 0, message.offset() or 0
            raw_headers = message.headers() or []
            headers = Headers()
            for name, value in raw_headers if isinstance(raw_headers, list) else raw_headers.items():
                headers.add(name, value.encode() if isinstance(value, str) else value, OPTIONAL_BYTES_SCHEMA)
            ts_type, ts = message.timestamp()
            records.append(
                SourceRecord(
                    target_topic(self.policy, self.alias, topic),
                    partition,
                    OPTIONAL_BYTES_SCHEMA,
                    message.key(),
                    OPTIONAL_BYTES_SCHEMA,
                    message.value(),
                    ts if ts_type else None,
                    headers,
                    source_partition=self._partition(topic, partition),
                    source_offset={"offset": offset},
                )
            )
        return records

    def commit_record(self, record: SourceRecord, metadata: RecordMetadata | None) -> None:
        if metadata is None or record.source_partition is None or record.source_offset is None:
            return
        partition = record.source_partition
        self.syncs.record(
            partition["topic"], partition["partition"], int(record.source_offset["offset"]), metadata.offset
        )

    def translate(self, topic: str, partition: int, committed: int) -> int | None:
        """The target offset for a group that committed `committed` upstream (next record to read)."""
        return self.syncs.translate(topic, partition, committed)

    def sync_group_offsets(self) -> None:
        """Translate the source groups' offsets: checkpoints out, target groups moved forward."""
        if self.target is None:
            return
        source = AdminClient(_client(self.props, "source.admin."))
        target = AdminClient(self.target)
        listing = source.list_consumer_groups().result(15)
        mine = set(self.assigned)
        checkpoints: list[Checkpoint] = []
        for group in listing.valid:
            name = group.group_id
            if not self.groups.fullmatch(name) or self.groups_exclude.fullmatch(name):
                continue
            request = [ConsumerGroupTopicPartitions(name)]
            offsets = source.list_consumer_group_offsets(request)[name].result(15)
            translated = []
            for tp in offsets.topic_partitions or []:
                if (tp.topic, tp.partition) not in mine or tp.offset < 0:
                    continue
                downstream = self.translate(tp.topic, tp.partition, tp.offset)
                if downstream is None:
                    continue
                remote = target_topic(self.policy, self.alias, tp.topic)
                translated.append(KafkaTopicPartition(remote, tp.partition, downstream))
                checkpoints.append(
                    Checkpoint(name, remote, tp.partition, tp.offset, downstream, tp.metadata or "")
                )
            if translated and self.sync_groups:
                self._move_forward(target, name, translated)
        if self.checkpoints is not None:
            self.checkpoints.emit(checkpoints)

    def _move_forward(self, target: AdminClient, group: str, translated: list[KafkaTopicPartition]) -> None:
        current = {}
        try:
            existing = target.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group]
            current = {(t.topic, t.partition): t.offset for t in existing.result(15).topic_partitions or []}
        except KafkaException:
            pass
        forward = [t for t in translated if t.offset > current.get((t.topic, t.partition), -1)]
        if not forward:
            return
        try:
            target.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, forward)])[group].result(
                15
            )
        except KafkaException as exc:
            log.info("not translating group %s (active on the target?): %s", group, exc)

    def stop(self) -> None:
        self.consumer.close()
        self.syncs.close()
        if self.checkpoints is not None:
            self.checkpoints.close()
