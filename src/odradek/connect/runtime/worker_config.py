"""Worker configuration: Kafka Connect's worker config names (distributed and standalone).

Client settings for the worker's own clients come from the top-level keys Kafka clients
understand (`bootstrap.servers`, `security.protocol`, `sasl.*`, `ssl.*`, `client.id`); `producer.`,
`consumer.` and `admin.` prefixed keys override them per client kind, as in Kafka Connect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from odradek.connect.api.config_def import (
    AbstractConfig,
    ConfigDef,
    ConfigType,
    Importance,
    at_least,
    valid_string,
)

CLIENT_PREFIXES = ("bootstrap.servers", "security.protocol", "sasl.", "ssl.", "client.dns.lookup")


def _base() -> ConfigDef:
    return (
        ConfigDef()
        .define(
            "bootstrap.servers",
            ConfigType.LIST,
            "localhost:9092",
            None,
            Importance.HIGH,
            "A list of host/port pairs to use for establishing the initial connection to the Kafka cluster.",
        )
        .define(
            "key.converter",
            ConfigType.CLASS,
            "org.apache.kafka.connect.json.JsonConverter",
            None,
            Importance.HIGH,
            "Converter class for record keys.",
        )
        .define(
            "value.converter",
            ConfigType.CLASS,
            "org.apache.kafka.connect.json.JsonConverter",
            None,
            Importance.HIGH,
            "Converter class for record values.",
        )
        .define(
            "header.converter",
            ConfigType.CLASS,
            "org.apache.kafka.connect.storage.SimpleHeaderConverter",
            None,
            Importance.LOW,
            "HeaderConverter class for record headers.",
        )
        .define(
            "offset.flush.interval.ms",
            ConfigType.LONG,
            60000,
            at_least(0),
            Importance.LOW,
            "Interval at which to try committing offsets for tasks.",
        )
        .define(
            "offset.flush.timeout.ms",
            ConfigType.LONG,
            5000,
            at_least(0),
            Importance.LOW,
            "Maximum number of milliseconds to wait for records to flush before cancelling the offset commit.",
        )
        .define(
            "task.shutdown.graceful.timeout.ms",
            ConfigType.LONG,
            5000,
            at_least(0),
            Importance.LOW,
            "Amount of time to wait for tasks to shutdown gracefully.",
        )
        .define(
            "plugin.path",
            ConfigType.LIST,
            "",
            None,
            Importance.LOW,
            "Python packages to import before looking up plugins (connectors register through the "
            "'odradek.connectors' entry point group, so an installed package needs no entry here).",
        )
        .define(
            "listeners",
            ConfigType.LIST,
            "http://127.0.0.1:8083",
            None,
            Importance.LOW,
            "List of comma-separated URIs the REST API will listen on.",
        )
        .define(
            "rest.advertised.host.name",
            ConfigType.STRING,
            None,
            None,
            Importance.LOW,
            "The hostname given out to other workers to connect to.",
        )
        .define(
            "rest.advertised.port",
            ConfigType.INT,
            None,
            None,
            Importance.LOW,
            "The port given out to other workers to connect to.",
        )
        .define(
            "rest.advertised.listener",
            ConfigType.STRING,
            None,
            None,
            Importance.LOW,
            "The protocol given out to other workers (http).",
        )
        .define(
            "config.providers",
            ConfigType.LIST,
            "",
            None,
            Importance.LOW,
            "Names of ConfigProviders (config.providers.<name>.class) resolving ${name:path:key} placeholders.",
        )
        .define(
            "exactly.once.source.support",
            ConfigType.STRING,
            "disabled",
            valid_string("disabled", "preparing", "enabled", case_insensitive=True),
            Importance.HIGH,
            "Whether to enable exactly-once support for source connectors (transactions, fencing).",
        )
        .define(
            "topic.creation.enable",
            ConfigType.BOOLEAN,
            True,
            None,
            Importance.LOW,
            "Whether to allow automatic creation of topics used by source connectors, when source "
            "connectors are configured with `topic.creation.` properties (KIP-158).",
        )
        .define(
            "odradek.task.isolation",
            ConfigType.STRING,
            "process",
            valid_string("process", "thread"),
            Importance.MEDIUM,
            "Where each task runs: 'process' (a child process per task: both cores, and a hung task is "
            "killed for real) or 'thread' (a thread of the worker: no process start, shares the worker's "
            "memory; for debugging and for tests whose connectors share state with the test).",
        )
    )


def distributed_config_def() -> ConfigDef:
    return (
        _base()
        .define(
            "group.id",
            ConfigType.STRING,
            None,
            None,
            Importance.HIGH,
            "A unique string that identifies the Connect cluster group this worker belongs to.",
        )
        .define(
            "config.storage.topic",
            ConfigType.STRING,
            None,
            None,
            Importance.HIGH,
            "The name of the Kafka topic where connector configurations are stored",
        )
        .define(
            "config.storage.replication.factor",
            ConfigType.SHORT,
            -1,
            None,
            Importance.LOW,
            "Replication factor used when creating the configuration storage topic (-1: broker default)",
        )
        .define(
            "offset.storage.topic",
            ConfigType.STRING,
            None,
            None,
            Importance.HIGH,
            "The name of the Kafka topic where source connector offsets are stored",
        )
        .define(
            "offset.storage.partitions",
            ConfigType.INT,
            25,
            at_least(1),
            Importance.LOW,
            "The number of partitions used when creating the offset storage topic",
        )
        .define(
            "offset.storage.replication.factor",
            ConfigType.SHORT,
            -1,
            None,
            Importance.LOW,
            "Replication factor used when creating the offset storage topic (-1: broker default)",
        )
        .define(
            "status.storage.topic",
            ConfigType.STRING,
            None,
            None,
            Importance.HIGH,
            "The name of the Kafka topic where connector and task status are stored",
        )
        .define(
            "status.storage.partitions",
            ConfigType.INT,
            5,
            at_least(1),
            Importance.LOW,
            "The number of partitions used when creating the status storage topic",
        )
        .define(
            "status.storage.replication.factor",
            ConfigType.SHORT,
            -1,
            None,
            Importance.LOW,
            "Replication factor used when creating the status storage topic (-1: broker default)",
        )
        .define(
            "scheduled.rebalance.max.delay.ms",
            ConfigType.INT,
            10000,
            at_least(0),
            Importance.LOW,
            "How long a departed worker keeps its tasks before they move to others (the session timeout "
            "of the worker group, a static member re-joining within it keeps its tasks).",
        )
        .define(
            "heartbeat.interval.ms",
            ConfigType.INT,
            1000,
            at_least(1),
            Importance.LOW,
            "Heartbeats to the worker group.",
        )
        .define(
            "odradek.task.slots",
            ConfigType.INT,
            64,
            at_least(1),
            Importance.LOW,
            "Partitions of the task-slots topic: connectors and tasks hash onto slots, slots are assigned to "
            "workers by the consumer group (cooperative-sticky).",
        )
        .define(
            "odradek.task.slots.topic",
            ConfigType.STRING,
            None,
            None,
            Importance.LOW,
            "The slots topic (default: <config.storage.topic>-slots).",
        )
        .define(
            "odradek.worker.instance.id",
            ConfigType.STRING,
            None,
            None,
            Importance.LOW,
            "A stable id for this worker (static group membership: a restart within "
            "scheduled.rebalance.max.delay.ms keeps its tasks).",
        )
    )


def standalone_config_def() -> ConfigDef:
    return _base().define(
        "offset.storage.file.filename",
        ConfigType.STRING,
        "",
        None,
        Importance.HIGH,
        "File to store source connector offsets in (JSON).",
    )


class WorkerConfig(AbstractConfig):
    def __init__(self, props: Mapping[str, Any], distributed: bool) -> None:
        super().__init__(distributed_config_def() if distributed else standalone_config_def(), props)
        self.distributed = distributed

    def client_config(self, kind: str) -> dict[str, Any]:
        """librdkafka settings for one client kind (`producer`, `consumer`, `admin`)."""
        base: dict[str, Any] = {"bootstrap.servers": ",".join(self.get_list("bootstrap.servers"))}
        for key, value in self.originals.items():
            if key != "bootstrap.servers" and key.startswith(CLIENT_PREFIXES):
                base[key] = value
        prefix = kind + "."
        for key, value in self.originals.items():
            if key.startswith(prefix):
                base[key[len(prefix) :]] = value
        return base

    @property
    def exactly_once_enabled(self) -> bool:
        """KIP-618 exactly-once sources: distributed workers only (they need the offsets topic)."""
        return self.distributed and self.get_string("exactly.once.source.support").lower() == "enabled"
