"""Offsets of one connector as the REST API shows and changes them (KIP-875).

Source connectors: the entries of the offset store, `{"partition": {...}, "offset": {...}}`.
Sink connectors: the committed offsets of the consumer group `connect-<name>`, shown as
`{"partition": {"kafka_topic": t, "kafka_partition": p}, "offset": {"kafka_offset": n}}`.
Altering or resetting needs the connector STOPPED (its tasks gone); the connector's
`alter_offsets` is asked first and may refuse (an exception: 400).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException
from confluent_kafka import TopicPartition as KafkaTopicPartition
from confluent_kafka.admin import AdminClient

from odradek.connect.api.connector import Connector, SinkConnector
from odradek.connect.api.errors import ConnectException
from odradek.connect.runtime.offset_keys import canonical_json
from odradek.connect.runtime.offset_store import OffsetStore

NOT_STOPPED = (
    "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the "
    "specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
)


class BadOffsets(ConnectException):
    """A 400: malformed offsets, or the connector refused them."""


def group_of(connector: str) -> str:
    return f"connect-{connector}"


def read_offsets(
    connector_cls: type[Connector], name: str, store: OffsetStore, admin_config: Mapping[str, Any]
) -> list[dict[str, Any]]:
    if not issubclass(connector_cls, SinkConnector):
        return [{"partition": p, "offset": o} for p, o in store.all_for(name)]
    admin = AdminClient(dict(admin_config))
    futures = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group_of(name))])
    try:
        result = futures[group_of(name)].result(timeout=15)
    except KafkaException as exc:
        raise ConnectException(f"Failed to read the offsets of {group_of(name)}: {exc}") from exc
    return [
        {
            "partition": {"kafka_topic": tp.topic, "kafka_partition": tp.partition},
            "offset": {"kafka_offset": tp.offset},
        }
        for tp in result.topic_partitions or []
        if tp.offset >= 0
    ]


def _parse(entries: Any) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    if not isinstance(entries, list) or not entries:
        raise BadOffsets('The offsets to alter must be a non-empty list under "offsets"')
    parsed = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("partition"), dict):
            raise BadOffsets('Each offset entry needs a "partition" object')
        offset = entry.get("offset")
        if offset is not None and not isinstance(offset, dict):
            raise BadOffsets("An offset must be an object or null")
        parsed.append((entry["partition"], offset))
    return parsed


def alter_offsets(
    connector: Connector,
    config: Mapping[str, str],
    name: str,
    entries: Any,
    store: OffsetStore,
    admin_config: Mapping[str, Any],
) -> str:
    parsed = _parse(entries)
    try:
        managed = connector.alter_offsets(config, {canonical_json(p): o for p, o in parsed})
    except ConnectException as exc:
        raise BadOffsets(str(exc)) from exc
    if isinstance(connector, SinkConnector):
        partitions = []
        for partition, offset in parsed:
            topic, number = partition.get("kafka_topic"), partition.get("kafka_partition")
            if not isinstance(topic, str) or not isinstance(number, int):
                raise BadOffsets(
                    'Sink connector offsets need "kafka_topic" (string) and "kafka_partition" (integer)'
                )
            if offset is None:
                raise BadOffsets(
                    "Removing the offset of a single partition of a sink connector is not supported; "
                    "use DELETE /connectors/{name}/offsets to reset them all"
                )
            value = offset.get("kafka_offset")
            if not isinstance(value, int) or value < 0:
                raise BadOffsets('"kafka_offset" must be a non-negative integer')
            partitions.append(KafkaTopicPartition(topic, number, value))
        admin = AdminClient(dict(admin_config))
        futures = admin.alter_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group_of(name), partitions)]
        )
        try:
            futures[group_of(name)].result(timeout=15)
        except KafkaException as exc:
            raise ConnectException(f"Failed to alter the offsets of {group_of(name)}: {exc}") from exc
    else:
        store.write(name, {canonical_json(p): (p, o) for p, o in parsed})
    if managed:
        return "The offsets for this connector have been altered successfully"
    return (
        "The Connect framework-managed offsets for this connector have been altered successfully. However, if "
        "this connector manages offsets externally, they will need to be manually altered in the system that "
        "the connector uses."
    )


def reset_offsets(
    connector: Connector,
    config: Mapping[str, str],
    name: str,
    store: OffsetStore,
    admin_config: Mapping[str, Any],
) -> str:
    if isinstance(connector, SinkConnector):
        current = read_offsets(type(connector), name, store, admin_config)
        managed = connector.alter_offsets(config, {canonical_json(e["partition"]): None for e in current})
        admin = AdminClient(dict(admin_config))
        futures = admin.delete_consumer_groups([group_of(name)], request_timeout=15)
        try:
            futures[group_of(name)].result(timeout=15)
        except KafkaException as exc:
            if "GROUP_ID_NOT_FOUND" not in str(exc):
                raise ConnectException(f"Failed to reset the offsets of {group_of(name)}: {exc}") from exc
    else:
        entries = store.all_for(name)
        managed = connector.alter_offsets(config, {canonical_json(p): None for p, _ in entries})
        store.write(name, {canonical_json(p): (p, None) for p, _ in entries})
    if managed:
        return "The offsets for this connector have been reset successfully"
    return (
        "The Connect framework-managed offsets for this connector have been reset successfully. However, if "
        "this connector manages offsets externally, they will need to be manually reset in the system that "
        "the connector uses."
    )
