"""ConsumerGroupDescribe (69), v0: KIP-848 groups with epochs, assignor, and each member's current
and target assignment (topic ids and names). GROUP_ID_NOT_FOUND for unknown or classic groups.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import consumer_group_describe as msg


async def handle(
    ctx: RequestContext, request: msg.ConsumerGroupDescribeRequest
) -> msg.ConsumerGroupDescribeResponse:
    return await ctx.ports.groups.service.consumer_group_describe(coordinator_context(ctx), request)


SPEC = ApiSpec(
    ApiKey.CONSUMER_GROUP_DESCRIBE,
    0,
    0,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="KIP-848 groups: epochs, assignor, current and target assignments",
)
