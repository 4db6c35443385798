"""LeaveGroup (13), v0-v5: classic members leave (v3+: a batch of members, static ones by instance id).

The group rebalances without them at once instead of after their session timeout. Per member:
UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID (`odradek.coordinator.group.classic_session`).
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import leave_group as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(ctx: RequestContext, request: msg.LeaveGroupRequest) -> msg.LeaveGroupResponse:
    if not ctx.ports.authorizer.authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.group_id):
        return msg.LeaveGroupResponse(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
    return await ctx.ports.groups.service.leave_group(coordinator_context(ctx), request)


SPEC = ApiSpec(
    ApiKey.LEAVE_GROUP,
    0,
    5,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="batched members (v3+), static members by instance id",
)
