"""ConsumerGroupDescribe (69), v0: KIP-848 groups with epochs, assignor, and each member's current
and target assignment (topic ids and names). GROUP_ID_NOT_FOUND for unknown or classic groups.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.authorization import authorized_operations_field
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import consumer_group_describe as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(
    ctx: RequestContext, request: msg.ConsumerGroupDescribeRequest
) -> msg.ConsumerGroupDescribeResponse:
    authorizer = ctx.ports.authorizer
    wanted = list(request.group_ids)
    allowed = set(authorizer.allowed_names(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, wanted))
    request.group_ids = [g for g in wanted if g in allowed]
    described = {}
    if request.group_ids:
        response = await ctx.ports.groups.service.consumer_group_describe(coordinator_context(ctx), request)
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
    return msg.ConsumerGroupDescribeResponse(groups=out)


SPEC = ApiSpec(
    ApiKey.CONSUMER_GROUP_DESCRIBE,
    0,
    0,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="KIP-848 groups: epochs, assignor, current and target assignments",
)
