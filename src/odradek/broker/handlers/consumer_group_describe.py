"""ConsumerGroupDescribe (69), v0: KIP-848 groups with epochs, assignor, and each member's current
and target assignment (topic ids and names). GROUP_ID_NOT_FOUND for unknown or classic groups.
A group whose assignments name a topic the principal may not DESCRIBE answers
TOPIC_AUTHORIZATION_FAILED without members (Kafka's rule, KAFKA-18813).
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.broker.group_describe_authorization import (
    describe_authorized_groups,
    hide_unauthorized_assignments,
)
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import consumer_group_describe as msg


async def handle(
    ctx: RequestContext, request: msg.ConsumerGroupDescribeRequest
) -> msg.ConsumerGroupDescribeResponse:
    """DESCRIBE on each group, authorized operations, and no group whose assignments name a topic
    the principal may not DESCRIBE (`group_describe_authorization.py`)."""

    async def describe(allowed: list[str]) -> list[msg.DescribedGroup]:
        request.group_ids = allowed
        response = await ctx.ports.groups.service.consumer_group_describe(coordinator_context(ctx), request)
        return response.groups

    groups = await describe_authorized_groups(
        ctx,
        list(request.group_ids),
        request.include_authorized_operations,
        describe,
        lambda group_id: msg.DescribedGroup(
            error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED, group_id=group_id
        ),
    )
    return msg.ConsumerGroupDescribeResponse(groups=hide_unauthorized_assignments(ctx, groups))


SPEC = ApiSpec(
    ApiKey.CONSUMER_GROUP_DESCRIBE,
    0,
    0,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes=(
        "KIP-848 groups: epochs, assignor, current and target assignments; groups naming topics "
        "the describer may not DESCRIBE answer TOPIC_AUTHORIZATION_FAILED"
    ),
)
