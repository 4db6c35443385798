"""Consumer group facts gathered through the admin API (DescribeGroups, OffsetFetch, ListOffsets)
into `group_view` values and `reset_plan` inputs."""

from __future__ import annotations

from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, TopicCollection

from odradek.cli.clients import Admin
from odradek.cli.errors import CliError
from odradek.cli.group_view import STATE_NAMES, Coordinator, GroupView, MemberView, lag_table
from odradek.cli.reset_plan import PartitionState, ResetStrategy, ToDatetime
from odradek.model.topic_partition import TopicPartition


def state_name(description: Any) -> str:
    state = getattr(description, "state", None)
    return STATE_NAMES.get(state.name, "Unknown") if state is not None else "Unknown"


def type_name(description: Any) -> str:
    kind = getattr(description, "type", None)
    return kind.name.lower() if kind is not None else "unknown"


def describe_groups(admin: Admin, groups: list[str]) -> dict[str, Any]:
    """group -> confluent_kafka ConsumerGroupDescription, in `groups` order."""
    futures = admin.client.describe_consumer_groups(groups, **admin.options)
    found = admin.results(futures, lambda g: f"group {g}")
    return {g: found[g] for g in groups}


def committed_offsets(admin: Admin, group: str) -> dict[TopicPartition, int]:
    """The group's committed offsets (partitions without one are left out)."""
    request = [ConsumerGroupTopicPartitions(group)]
    futures = admin.client.list_consumer_group_offsets(request, **admin.options)
    result = admin.results(futures, lambda g: f"group {g}")[group]
    return {
        TopicPartition(tp.topic, tp.partition): tp.offset
        for tp in result.topic_partitions or ()
        if tp.offset >= 0
    }


def _member(m: Any) -> MemberView:
    assignment = m.assignment.topic_partitions if m.assignment is not None else []
    return MemberView(
        member_id=m.member_id,
        group_instance_id=m.group_instance_id,
        client_id=m.client_id,
        host=m.host,
        assignment=tuple(sorted(TopicPartition(tp.topic, tp.partition) for tp in assignment)),
    )


def group_views(admin: Admin, groups: list[str]) -> list[GroupView]:
    views = []
    for group, d in describe_groups(admin, groups).items():
        members = tuple(_member(m) for m in d.members)
        committed = committed_offsets(admin, group)
        partitions = committed.keys() | {tp for m in members for tp in m.assignment}
        log_end_offsets = admin.log_end_offsets(sorted(partitions))
        c = d.coordinator
        views.append(
            GroupView(
                group=group,
                state=state_name(d),
                type=type_name(d),
                protocol=d.partition_assignor or "",
                coordinator=None if c is None else Coordinator(c.id, c.host, c.port),
                members=members,
                offsets=lag_table(committed, log_end_offsets, members),
            )
        )
    return views


def topic_partitions(admin: Admin, topics: list[tuple[str, tuple[int, ...] | None]]) -> list[TopicPartition]:
    """`--topic T` (all of T's partitions) and `--topic T:P,P` resolved against the cluster."""
    names = list(dict.fromkeys(t for t, _ in topics))
    futures = admin.client.describe_topics(TopicCollection(names), **admin.options)
    described = admin.results(futures, lambda t: f"topic {t}")
    chosen: set[TopicPartition] = set()
    for topic, wanted in topics:
        existing = {p.id for p in described[topic].partitions}
        missing = sorted(set(wanted or ()) - existing)
        if missing:
            raise CliError(f"topic {topic} has no partition {missing[0]} (it has {len(existing)})")
        chosen.update(TopicPartition(topic, p) for p in (wanted or existing))
    return sorted(chosen)


def partition_states(
    admin: Admin,
    strategy: ResetStrategy,
    partitions: list[TopicPartition],
    committed: dict[TopicPartition, int],
) -> list[PartitionState]:
    starts, ends = admin.watermarks(partitions)
    by_time: dict[TopicPartition, int | None] = {}
    if isinstance(strategy, ToDatetime):
        by_time = admin.offsets_for_time(partitions, strategy.timestamp_ms)
    return [
        PartitionState(
            topic_partition=tp,
            committed_offset=committed.get(tp),
            log_start_offset=starts[tp],
            log_end_offset=ends[tp],
            offset_for_time=by_time.get(tp),
        )
        for tp in partitions
    ]
