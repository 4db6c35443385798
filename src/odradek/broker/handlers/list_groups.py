"""ListGroups (16), v0-v5: every group this broker coordinates, with v4+ state and v5+ type filters.

Groups of `__consumer_offsets` partitions not loaded (before the topic exists) are simply absent.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import list_groups as msg


async def handle(ctx: RequestContext, request: msg.ListGroupsRequest) -> msg.ListGroupsResponse:
    return await ctx.ports.groups.service.list_groups(coordinator_context(ctx), request)


SPEC = ApiSpec(
    ApiKey.LIST_GROUPS,
    0,
    5,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="state (v4+) and type (v5+) filters",
)
