"""DescribeGroups (15), v0-v6: state, protocol and members (with metadata and assignment) per group.

An unknown group is described as Dead with no members (v6+: GROUP_ID_NOT_FOUND); a KIP-848 group
answers GROUP_ID_NOT_FOUND here (it is described by ConsumerGroupDescribe).
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.authorization import authorized_operations_field
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import describe_groups as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(ctx: RequestContext, request: msg.DescribeGroupsRequest) -> msg.DescribeGroupsResponse:
    """DESCRIBE on each group (GROUP_AUTHORIZATION_FAILED for the others); authorized operations
    (v3+) are the principal's."""
    authorizer = ctx.ports.authorizer
    wanted = list(request.groups)
    allowed = set(authorizer.allowed_names(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, wanted))
    request.groups = [g for g in wanted if g in allowed]
    described = {}
    if request.groups:
        response = await ctx.ports.groups.service.describe_groups(coordinator_context(ctx), request)
        described = {g.group_id: g for g in response.groups}
    out = []
    for group_id in wanted:
        group = described.get(group_id)
        if group is None:
            out.append(msg.DescribedGroup(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED, group_id=group_id))
            continue
        group.authorized_operations = authorized_operations_field(
            request.include_authorized_operations,
            authorizer.authorized_operations(ctx, ResourceType.GROUP, group_id)
            if request.include_authorized_operations
            else 0,
        )
        out.append(group)
    return msg.DescribeGroupsResponse(groups=out)


SPEC = ApiSpec(
    ApiKey.DESCRIBE_GROUPS,
    0,
    6,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="classic groups; KIP-848 groups answer GROUP_ID_NOT_FOUND (v6) or Dead",
)
