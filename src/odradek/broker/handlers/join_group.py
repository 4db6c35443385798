"""JoinGroup (11), v0-v9: a classic group member joins or rejoins, and waits for the new generation.

The answer is deferred until the rebalance completes (every known member rejoined, or the rebalance
timeout; for a new group, `group.initial.rebalance.delay.ms` more). Since v4 a new member first gets
MEMBER_ID_REQUIRED with its member id and must join again with it (KIP-394); v5+ may name a static
member (`group.instance.id`, KIP-345). The state machine is the coordinator's
(`odradek.coordinator.group.classic_join`); NOT_COORDINATOR until `__consumer_offsets` is loaded.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import join_group as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(ctx: RequestContext, request: msg.JoinGroupRequest) -> msg.JoinGroupResponse:
    if not ctx.ports.authorizer.authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.group_id):
        return msg.JoinGroupResponse(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
    return await ctx.ports.groups.service.join_group(coordinator_context(ctx), request)


SPEC = ApiSpec(
    ApiKey.JOIN_GROUP,
    0,
    9,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="classic groups: KIP-394 member ids, static members (KIP-345), initial rebalance delay",
)
