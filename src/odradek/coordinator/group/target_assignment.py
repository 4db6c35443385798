"""Computing a KIP-848 group's target assignment with a server-side assignor.

The assignors (`odradek.coordinator.group.assignors`) work on topic names; the group stores partitions
by topic id. The group's subscription metadata (the ConsumerGroupPartitionMetadata record) holds both,
so the translation needs no live metadata: each member is given to the assignor with its subscribed
topics (its topic names plus what its regex resolved to) and, as the partitions it "owns", its
*current target* (so the assignor stays sticky to what the group was already moving towards, as Kafka
does), and the result is translated back to topic ids.
"""

from __future__ import annotations

import uuid

from odradek.coordinator.group.assignors import SERVER_ASSIGNORS, MemberSubscription
from odradek.coordinator.group.consumer_group import Assignment, ConsumerGroup, assignment_of
from odradek.coordinator.group.topics import TopicInfo, TopicsView
from odradek.model.topic_partition import TopicPartition


def subscription_metadata(names: set[str], topics: TopicsView) -> dict[str, TopicInfo]:
    """The existing topics among ``names`` (with at least one partition), by name."""
    out: dict[str, TopicInfo] = {}
    for name in sorted(names):
        info = topics.topic(name)
        if info is not None and info.num_partitions > 0:
            out[name] = info
    return out


def compute_target_assignment(group: ConsumerGroup, assignor_name: str) -> dict[str, Assignment]:
    """The target of every member of ``group`` under the named server assignor."""
    meta = group.subscription_metadata
    names_by_id = {info.topic_id: name for name, info in meta.items()}
    members = []
    for member in group.members.values():
        target = group.target_assignment.get(member.member_id, {})
        owned = tuple(
            TopicPartition(names_by_id[tid], p)
            for tid, parts in sorted(target.items())
            if tid in names_by_id
            for p in sorted(parts)
            if p < meta[names_by_id[tid]].num_partitions
        )
        members.append(
            MemberSubscription(
                member_id=member.member_id,
                topics=tuple(sorted(group.member_topics(member))),
                owned_partitions=owned,
                rack=member.rack_id,
                instance_id=member.instance_id,
            )
        )
    counts = {name: info.num_partitions for name, info in meta.items()}
    result = SERVER_ASSIGNORS[assignor_name].assign(members, counts)
    out: dict[str, Assignment] = {}
    for member_id, partitions in result.items():
        by_topic: dict[uuid.UUID, list[int]] = {}
        for tp in partitions:
            by_topic.setdefault(meta[tp.topic].topic_id, []).append(tp.partition)
        out[member_id] = assignment_of(by_topic.items())
    return out
