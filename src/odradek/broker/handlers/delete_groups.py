"""DeleteGroups (42), v0-v2: delete empty groups and their offsets (tombstones).

Per group: NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND when unknown.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import delete_groups as msg


async def handle(ctx: RequestContext, request: msg.DeleteGroupsRequest) -> msg.DeleteGroupsResponse:
    return await ctx.ports.groups.service.delete_groups(coordinator_context(ctx), request)


SPEC = ApiSpec(
    ApiKey.DELETE_GROUPS,
    0,
    2,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="empty groups with their offsets",
)
