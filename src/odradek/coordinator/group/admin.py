"""ListGroups, DescribeGroups, ConsumerGroupDescribe and DeleteGroups over one shard's groups.

The service fans multi-group requests out to the shards owning each group and joins the answers.
Classic and consumer groups share one group id namespace: ListGroups reports both (``group_type``
"classic" or "consumer", v5 filter by type, v4 by state, case-insensitively); DescribeGroups describes
classic groups and ConsumerGroupDescribe consumer groups, each answering "not found" for the other
kind. DeleteGroups removes an Empty group with its offsets (tombstones), refusing others with
NON_EMPTY_GROUP, and unknown ones with GROUP_ID_NOT_FOUND.
"""

from __future__ import annotations

from collections.abc import Iterable

from odradek.coordinator.group import records as rec
from odradek.coordinator.group.classic_group import ClassicGroup
from odradek.coordinator.group.classic_states import ClassicGroupState
from odradek.coordinator.group.consumer_group import Assignment, ConsumerGroup, ConsumerGroupState
from odradek.coordinator.group.state import Group, Op, ShardState
from odradek.coordinator.group.topics import TopicsView
from odradek.model.errors import ErrorCode
from odradek.protocol.messages import consumer_group_describe as cgd
from odradek.protocol.messages import delete_groups as dg
from odradek.protocol.messages import describe_groups as dsc
from odradek.protocol.messages import list_groups as lg

CLASSIC = "classic"
CONSUMER = "consumer"
FIRST_VERSION_WITH_NOT_FOUND = 6
"""DescribeGroups v6+ (KIP-1043) reports unknown groups with GROUP_ID_NOT_FOUND."""


def group_type(group: Group) -> str:
    return CONSUMER if isinstance(group, ConsumerGroup) else CLASSIC


def group_state(group: Group) -> str:
    state: str = group.state.value
    return state


def list_groups(
    state: ShardState, states_filter: Iterable[str], types_filter: Iterable[str]
) -> list[lg.ListedGroup]:
    states = {s.strip().lower() for s in states_filter}
    types = {t.strip().lower() for t in types_filter}
    out = []
    for group_id, group in state.groups.items():
        if states and group_state(group).lower() not in states:
            continue
        if types and group_type(group) not in types:
            continue
        protocol_type = CONSUMER if isinstance(group, ConsumerGroup) else group.protocol_type or ""
        out.append(
            lg.ListedGroup(
                group_id=group_id,
                protocol_type=protocol_type,
                group_state=group_state(group),
                group_type=group_type(group),
            )
        )
    return out


def describe_group(state: ShardState, version: int, group_id: str) -> dsc.DescribedGroup:
    group = state.classic(group_id)
    if group is None:
        described = dsc.DescribedGroup(group_id=group_id, group_state=ClassicGroupState.DEAD.value)
        if version >= FIRST_VERSION_WITH_NOT_FOUND:
            described.error_code = ErrorCode.GROUP_ID_NOT_FOUND
            described.error_message = f"Group {group_id} not found."
        return described
    stable = group.is_(ClassicGroupState.STABLE)
    return dsc.DescribedGroup(
        group_id=group_id,
        group_state=group_state(group),
        protocol_type=group.protocol_type or "",
        protocol_data=(group.protocol_name or "") if stable else "",
        members=[
            dsc.DescribedGroupMember(
                member_id=m.member_id,
                group_instance_id=m.group_instance_id,
                client_id=m.client_id,
                client_host=m.client_host,
                member_metadata=m.metadata(group.protocol_name) if stable else b"",
                member_assignment=m.assignment if stable else b"",
            )
            for m in group.members.values()
        ],
    )


def consumer_group_describe(state: ShardState, group_id: str) -> cgd.DescribedGroup:
    group = state.consumer(group_id)
    if group is None:
        return cgd.DescribedGroup(
            group_id=group_id,
            error_code=ErrorCode.GROUP_ID_NOT_FOUND,
            error_message=f"Group {group_id} not found.",
        )
    return cgd.DescribedGroup(
        group_id=group_id,
        group_state=group_state(group),
        group_epoch=group.group_epoch,
        assignment_epoch=group.assignment_epoch,
        assignor_name=group.preferred_assignor(state.config.consumer_group_assignors),
        members=[
            cgd.Member(
                member_id=m.member_id,
                instance_id=m.instance_id,
                rack_id=m.rack_id,
                member_epoch=m.member_epoch,
                client_id=m.client_id,
                client_host=m.client_host,
                subscribed_topic_names=list(m.subscribed_topic_names),
                subscribed_topic_regex=m.subscribed_topic_regex,
                assignment=_described(m.assigned, state.topics),
                target_assignment=_described(group.target_assignment.get(m.member_id, {}), state.topics),
            )
            for m in group.members.values()
        ],
    )


def _described(assignment: Assignment, topics: TopicsView) -> cgd.Assignment:
    out = cgd.Assignment()
    for topic_id, partitions in sorted(assignment.items()):
        info = topics.topic_by_id(topic_id)
        if info is not None:
            out.topic_partitions.append(
                cgd.TopicPartitions(topic_id=topic_id, topic_name=info.name, partitions=sorted(partitions))
            )
    return out


def is_empty(group: Group) -> bool:
    if isinstance(group, ConsumerGroup):
        return group.state is ConsumerGroupState.EMPTY
    return group.is_(ClassicGroupState.EMPTY)


def delete_group(op: Op, group_id: str) -> dg.DeletableGroupResult:
    group = op.state.groups.get(group_id)
    if group is None or (isinstance(group, ClassicGroup) and group.is_(ClassicGroupState.DEAD)):
        return dg.DeletableGroupResult(group_id=group_id, error_code=ErrorCode.GROUP_ID_NOT_FOUND)
    if not is_empty(group):
        return dg.DeletableGroupResult(group_id=group_id, error_code=ErrorCode.NON_EMPTY_GROUP)
    delete_offsets(op, group_id)
    delete_group_records(op, group)
    return dg.DeletableGroupResult(group_id=group_id)


def delete_offsets(op: Op, group_id: str) -> None:
    offsets = op.state.offsets
    partitions = set(offsets.group_offsets(group_id)) | offsets.pending_partitions(group_id)
    for tp in sorted(partitions):
        op.emit(rec.offset_commit_tombstone(group_id, tp.topic, tp.partition))


def delete_group_records(op: Op, group: Group) -> None:
    if isinstance(group, ConsumerGroup):
        for record in group.tombstones():
            op.emit(record)
    else:
        op.emit(rec.group_metadata_tombstone(group.group_id))
