"""DeleteGroups (42), v0-v2: delete empty groups and their offsets (tombstones).

Per group: NON_EMPTY_GROUP while it has members, GROUP_ID_NOT_FOUND when unknown.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import delete_groups as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(ctx: RequestContext, request: msg.DeleteGroupsRequest) -> msg.DeleteGroupsResponse:
    """DELETE on each group (GROUP_AUTHORIZATION_FAILED for the others)."""
    authorizer = ctx.ports.authorizer
    wanted = list(request.groups_names)
    allowed = {g for g in wanted if authorizer.authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, g)}
    request.groups_names = [g for g in wanted if g in allowed]
    results = {}
    if request.groups_names:
        response = await ctx.ports.groups.service.delete_groups(coordinator_context(ctx), request)
        results = {r.group_id: r for r in response.results}
    return msg.DeleteGroupsResponse(
        results=[
            results.get(g)
            or msg.DeletableGroupResult(group_id=g, error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
            for g in dict.fromkeys(wanted)
        ]
    )


SPEC = ApiSpec(
    ApiKey.DELETE_GROUPS,
    0,
    2,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="empty groups with their offsets",
)
