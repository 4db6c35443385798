"""Authorization of the group describe APIs (DescribeGroups, ConsumerGroupDescribe), as Kafka does it.

* DESCRIBE on each group; the coordinator only describes the allowed ones, every other group is
  answered GROUP_AUTHORIZATION_FAILED (in the order the request named them);
* the authorized operations (KIP-430) are the principal's on that group when the client asks;
* ConsumerGroupDescribe only (KAFKA-18813): member assignments name topics, so a group whose current
  or target assignment names a topic the principal may not DESCRIBE is answered
  TOPIC_AUTHORIZATION_FAILED, without members, instead of leaking those topic names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol, TypeVar

from odradek.broker.authorization import authorized_operations_field
from odradek.broker.context import RequestContext
from odradek.model.errors import ErrorCode
from odradek.protocol.messages import consumer_group_describe as cgd
from odradek.security.acl import AclOperation, ResourceType

UNAUTHORIZED_TOPICS_MESSAGE = (
    "The group has described topic(s) that the client is not authorized to describe."
)


class DescribedGroup(Protocol):
    group_id: str
    authorized_operations: int


G = TypeVar("G", bound=DescribedGroup)


async def describe_authorized_groups(
    ctx: RequestContext,
    wanted: list[str],
    include_authorized_operations: bool,
    describe: Callable[[list[str]], Awaitable[Iterable[G]]],
    refused: Callable[[str], G],
) -> list[G]:
    """`describe(allowed group ids)` asks the coordinator; `refused(group id)` is the
    GROUP_AUTHORIZATION_FAILED answer of the response's type."""
    authorizer = ctx.ports.authorizer
    allowed = authorizer.allowed_names(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, wanted)
    described = {g.group_id: g for g in await describe(allowed)} if allowed else {}
    out = []
    for group_id in wanted:
        group = described.get(group_id)
        if group is None:
            out.append(refused(group_id))
            continue
        group.authorized_operations = authorized_operations_field(
            include_authorized_operations,
            authorizer.authorized_operations(ctx, ResourceType.GROUP, group_id)
            if include_authorized_operations
            else 0,
        )
        out.append(group)
    return out


def hide_unauthorized_assignments(
    ctx: RequestContext, groups: list[cgd.DescribedGroup]
) -> list[cgd.DescribedGroup]:
    """Groups whose member assignments name a topic the principal may not DESCRIBE become
    TOPIC_AUTHORIZATION_FAILED without members (Kafka's rule)."""
    authorizer = ctx.ports.authorizer
    if not authorizer.enabled:
        return groups

    def topics(group: cgd.DescribedGroup) -> set[str]:
        return {
            tp.topic_name
            for member in group.members
            for assignment in (member.assignment, member.target_assignment)
            for tp in assignment.topic_partitions
        }

    named = {group.group_id: topics(group) for group in groups}
    allowed = set(
        authorizer.allowed_names(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, set().union(*named.values()))
    )
    return [
        group
        if named[group.group_id] <= allowed
        else cgd.DescribedGroup(
            error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            error_message=UNAUTHORIZED_TOPICS_MESSAGE,
            group_id=group.group_id,
        )
        for group in groups
    ]
