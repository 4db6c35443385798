"""ListGroups (16), v0-v5: every group this broker coordinates, with v4+ state and v5+ type filters.

Groups of `__consumer_offsets` partitions not loaded (before the topic exists) are simply absent.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import list_groups as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(ctx: RequestContext, request: msg.ListGroupsRequest) -> msg.ListGroupsResponse:
    """Every group with DESCRIBE on the cluster; otherwise only the groups the principal may DESCRIBE."""
    response = await ctx.ports.groups.service.list_groups(coordinator_context(ctx), request)
    authorizer = ctx.ports.authorizer
    if authorizer.enabled and not authorizer.authorize_cluster(ctx, AclOperation.DESCRIBE):
        allowed = set(
            authorizer.allowed_names(
                ctx, AclOperation.DESCRIBE, ResourceType.GROUP, [g.group_id for g in response.groups]
            )
        )
        response.groups = [g for g in response.groups if g.group_id in allowed]
    return response


SPEC = ApiSpec(
    ApiKey.LIST_GROUPS,
    0,
    5,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="state (v4+) and type (v5+) filters",
)
