"""SyncGroup (14), v0-v5: the leader hands in the assignment; every member gets its own share.

Followers' answers wait for the leader's SyncGroup (or the rebalance timeout). v5 checks the protocol
type and name against the group's (INCONSISTENT_GROUP_PROTOCOL). The state machine is the
coordinator's (`odradek.coordinator.group.classic_sync`).
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import sync_group as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(ctx: RequestContext, request: msg.SyncGroupRequest) -> msg.SyncGroupResponse:
    if not ctx.ports.authorizer.authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.group_id):
        return msg.SyncGroupResponse(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
    return await ctx.ports.groups.service.sync_group(coordinator_context(ctx), request)


SPEC = ApiSpec(
    ApiKey.SYNC_GROUP,
    0,
    5,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="leader's assignment stored in __consumer_offsets; followers wait for it",
)
