"""DescribeGroups (15), v0-v6: state, protocol and members (with metadata and assignment) per group.

An unknown group is described as Dead with no members (v6+: GROUP_ID_NOT_FOUND); a KIP-848 group
answers GROUP_ID_NOT_FOUND here (it is described by ConsumerGroupDescribe).
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.broker.group_describe_authorization import describe_authorized_groups
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import describe_groups as msg


async def handle(ctx: RequestContext, request: msg.DescribeGroupsRequest) -> msg.DescribeGroupsResponse:
    """DESCRIBE on each group (GROUP_AUTHORIZATION_FAILED for the others); authorized operations
    (v3+) are the principal's (`group_describe_authorization.py`)."""

    async def describe(allowed: list[str]) -> list[msg.DescribedGroup]:
        request.groups = allowed
        response = await ctx.ports.groups.service.describe_groups(coordinator_context(ctx), request)
        return response.groups

    groups = await describe_authorized_groups(
        ctx,
        list(request.groups),
        request.include_authorized_operations,
        describe,
        lambda group_id: msg.DescribedGroup(
            error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED, group_id=group_id
        ),
    )
    return msg.DescribeGroupsResponse(groups=groups)


SPEC = ApiSpec(
    ApiKey.DESCRIBE_GROUPS,
    0,
    6,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="classic groups; KIP-848 groups answer GROUP_ID_NOT_FOUND (v6) or Dead",
)
