"""Heartbeat (12), v0-v4: a classic member is alive; REBALANCE_IN_PROGRESS tells it to rejoin.

Errors: UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID, REBALANCE_IN_PROGRESS,
COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR (`odradek.coordinator.group.classic_session`).
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import heartbeat as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(ctx: RequestContext, request: msg.HeartbeatRequest) -> msg.HeartbeatResponse:
    if not ctx.ports.authorizer.authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.group_id):
        return msg.HeartbeatResponse(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
    return await ctx.ports.groups.service.heartbeat(coordinator_context(ctx), request)


SPEC = ApiSpec(
    ApiKey.HEARTBEAT,
    0,
    4,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="session timeouts; REBALANCE_IN_PROGRESS tells members to rejoin",
)
