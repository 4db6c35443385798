"""Composition root of a Connect worker: builds the herder for standalone or distributed mode.

Standalone: configs in memory (loaded from connector properties files, changeable over REST),
statuses in memory, offsets in `offset.storage.file.filename`, every unit local.
Distributed: the three internal topics and the task-slot group (`slots.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from confluent_kafka.admin import AdminClient

from odradek.connect.api.errors import ConfigException
from odradek.connect.runtime.assignment import LocalAssignment
from odradek.connect.runtime.config_store import ConfigStore, KafkaConfigStore
from odradek.connect.runtime.herder import Herder, HerderServices
from odradek.connect.runtime.kafka_log import ensure_topic
from odradek.connect.runtime.offset_store import FileOffsetStore, KafkaOffsetStore
from odradek.connect.runtime.plugins import Plugins
from odradek.connect.runtime.status_store import KafkaStatusStore, StatusStore
from odradek.connect.runtime.worker_config import WorkerConfig

log = logging.getLogger("odradek.connect.worker")


def worker_id_from(url: str) -> str:
    """Connect's worker id: the advertised REST `host:port`."""
    return url.split("://", 1)[-1].rstrip("/")


def standalone_herder(worker_props: Mapping[str, Any], rest_url: str) -> Herder:
    worker = WorkerConfig(worker_props, distributed=False)
    plugins = Plugins(worker.get_list("plugin.path"))
    services = HerderServices(
        worker=worker,
        plugins=plugins,
        config_store=ConfigStore(),
        status_store=StatusStore(),
        offset_store=FileOffsetStore(worker.get_string("offset.storage.file.filename")),
        assignment=LocalAssignment(),
        worker_id=worker_id_from(rest_url),
        group_id="connect-standalone",
        kafka_cluster_id=lambda: _cluster_id(worker),
    )
    return Herder(services)


def distributed_herder(worker_props: Mapping[str, Any], rest_url: str) -> Herder:
    from odradek.connect.runtime.slots import SlotAssignment

    worker = WorkerConfig(worker_props, distributed=True)
    for required in ("group.id", "config.storage.topic", "offset.storage.topic", "status.storage.topic"):
        if not worker.get(required):
            raise ConfigException(
                required, None, f'Missing required configuration "{required}" which has no default value.'
            )
    plugins = Plugins(worker.get_list("plugin.path"))
    admin = AdminClient(worker.client_config("admin"))
    consumer_config = worker.client_config("consumer")
    offsets_topic = worker.get_string("offset.storage.topic")
    offset_partitions = ensure_topic(
        admin,
        offsets_topic,
        worker.get_int("offset.storage.partitions"),
        worker.get_int("offset.storage.replication.factor"),
    )

    def topic_offset_store(topic: str) -> KafkaOffsetStore:
        """A connector's own offsets topic (KIP-618): created like the worker's when missing."""
        partitions = ensure_topic(
            admin,
            topic,
            worker.get_int("offset.storage.partitions"),
            worker.get_int("offset.storage.replication.factor"),
        )
        store = KafkaOffsetStore(topic, partitions, consumer_config)
        store.start()
        return store

    slots_topic = (
        worker.get_string("odradek.task.slots.topic") or worker.get_string("config.storage.topic") + "-slots"
    )
    services = HerderServices(
        worker=worker,
        plugins=plugins,
        config_store=KafkaConfigStore(
            worker.get_string("config.storage.topic"),
            worker.get_int("config.storage.replication.factor"),
            consumer_config,
            admin,
        ),
        status_store=KafkaStatusStore(
            worker.get_string("status.storage.topic"),
            worker.get_int("status.storage.partitions"),
            worker.get_int("status.storage.replication.factor"),
            consumer_config,
            admin,
        ),
        offset_store=KafkaOffsetStore(offsets_topic, offset_partitions, consumer_config),
        assignment=SlotAssignment(
            admin=admin,
            client_config=consumer_config,
            group_id=worker.get_string("group.id"),
            topic=slots_topic,
            slots=worker.get_int("odradek.task.slots"),
            replication_factor=worker.get_int("config.storage.replication.factor"),
            rest_url=rest_url,
            session_timeout_ms=max(6000, worker.get_int("scheduled.rebalance.max.delay.ms")),
            heartbeat_interval_ms=worker.get_int("heartbeat.interval.ms"),
            instance_id=worker.get_string("odradek.worker.instance.id"),
        ),
        worker_id=worker_id_from(rest_url),
        group_id=worker.get_string("group.id"),
        offsets_topic=offsets_topic,
        topic_offset_store=topic_offset_store,
        kafka_cluster_id=lambda: _cluster_id(worker),
    )
    return Herder(services)


def _cluster_id(worker: WorkerConfig) -> str | None:
    try:
        admin = AdminClient(worker.client_config("admin"))
        return admin.list_topics(timeout=5).cluster_id
    except Exception:
        return None
