"""Topic facts gathered through the admin API (DescribeTopics/Metadata, ListOffsets, DescribeConfigs)
into `topic_view` values."""

from __future__ import annotations

from typing import Any

from confluent_kafka import TopicCollection
from confluent_kafka.admin import ConfigResource, ResourceType

from odradek.cli.clients import Admin
from odradek.cli.errors import cli_error, error_name
from odradek.cli.topic_view import PartitionView, TopicView
from odradek.model.topic_partition import TopicPartition


def describe_topics(admin: Admin, names: list[str], *, skip_missing: bool = False) -> dict[str, Any]:
    """name -> confluent_kafka TopicDescription, in `names` order. With `skip_missing`, topics deleted
    since they were listed are left out instead of failing."""
    if not names:
        return {}
    outcomes = admin.gather(admin.client.describe_topics(TopicCollection(names), **admin.options))
    described: dict[str, Any] = {}
    for name in names:
        outcome = outcomes[name]
        if isinstance(outcome, Exception):
            if skip_missing and error_name(outcome) == "UNKNOWN_TOPIC_OR_PART":
                continue
            raise cli_error(outcome, f"topic {name}")
        described[name] = outcome
    return described


def non_default_configs(admin: Admin, names: list[str]) -> dict[str, tuple[tuple[str, str | None], ...]]:
    resources = [ConfigResource(ResourceType.TOPIC, name) for name in names]
    found = admin.results(
        admin.client.describe_configs(resources, **admin.options), lambda r: f"topic {r.name}"
    )
    configs = {}
    for resource, entries in found.items():
        configs[resource.name] = tuple(
            (name, None if entry.is_sensitive else entry.value)
            for name, entry in sorted(entries.items())
            if not entry.is_default
        )
    return configs


def topic_views(
    admin: Admin,
    names: list[str],
    elr: dict[tuple[str, int], tuple[tuple[int, ...], tuple[int, ...]]] | None = None,
) -> list[TopicView]:
    """`elr`: (ELR, last known ELR) by partition, from `eligible_leader_replicas` (None: not known)."""
    elr = elr or {}
    described = describe_topics(admin, names)
    partitions = [  # an offline partition (no leader) has no offsets to show, as kafka-topics.sh
        TopicPartition(name, p.id)
        for name, d in described.items()
        for p in d.partitions
        if p.leader is not None
    ]
    starts, ends = admin.watermarks(partitions)
    configs = non_default_configs(admin, names)
    views = []
    for name, d in described.items():
        rows = tuple(
            PartitionView(
                partition=p.id,
                leader=None if p.leader is None else p.leader.id,
                replicas=tuple(n.id for n in p.replicas),
                isr=tuple(n.id for n in p.isr),
                log_start_offset=starts.get(TopicPartition(name, p.id)),
                log_end_offset=ends.get(TopicPartition(name, p.id)),
                elr=elr[(name, p.id)][0] if (name, p.id) in elr else None,
                last_known_elr=elr[(name, p.id)][1] if (name, p.id) in elr else None,
            )
            for p in sorted(d.partitions, key=lambda p: p.id)
        )
        topic_id = None if d.topic_id is None else str(d.topic_id)
        views.append(TopicView(name, topic_id, bool(d.is_internal), rows, configs.get(name, ())))
    return views


def eligible_leader_replicas(
    bootstrap: str, timeout: float, security: Any, names: list[str]
) -> dict[tuple[str, int], tuple[tuple[int, ...], tuple[int, ...]]]:
    """(ELR, last known ELR) per partition of `names`, from DescribeTopicPartitions (KIP-966; Kafka
    3.7+ and odradek serve it). Empty when the cluster does not serve it: the view then omits them."""
    from odradek.cli.errors import CliError
    from odradek.cli.wire_client import BOOTSTRAP_NODE, Cluster
    from odradek.protocol.api_keys import ApiKey
    from odradek.protocol.messages import describe_topic_partitions as msg

    found: dict[tuple[str, int], tuple[tuple[int, ...], tuple[int, ...]]] = {}
    try:
        with Cluster.connect(bootstrap.split(",", maxsplit=1)[0].strip(), timeout, security) as cluster:
            node = BOOTSTRAP_NODE
            if ApiKey.DESCRIBE_TOPIC_PARTITIONS not in cluster.connection(node).versions:
                return {}
            request = msg.DescribeTopicPartitionsRequest([msg.TopicRequest(n) for n in names])
            while True:
                response = cluster.call(node, ApiKey.DESCRIBE_TOPIC_PARTITIONS, request)
                for topic in response.topics:
                    for p in topic.partitions:
                        found[(topic.name or "", p.partition_index)] = (
                            tuple(p.eligible_leader_replicas or ()),
                            tuple(p.last_known_elr or ()),
                        )
                if response.next_cursor is None:
                    return found
                request.cursor = response.next_cursor
    except CliError:
        return found
