"""ConsumerGroupHeartbeat (68), v0-v1: the KIP-848 consumer protocol (server-side assignment).

A member joins with epoch 0, heartbeats with its current epoch and owned partitions, and leaves with
-1 (-2: a static member leaving for now). The answer carries the member's epoch and, when it changed,
the partitions it should own; the group's target assignment comes from the server assignor the
client names (`group.remote.assignor`: ``uniform`` or ``range``; the first of
`group.consumer.assignors` otherwise). Errors: UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH,
UNRELEASED_INSTANCE_ID, UNSUPPORTED_ASSIGNOR, GROUP_MAX_SIZE_REACHED, INVALID_REQUEST (also for a
regular-expression subscription, not supported), GROUP_ID_NOT_FOUND for a classic group's id;
UNSUPPORTED_VERSION, as in Kafka, when `group.coordinator.rebalance.protocols` leaves out
``consumer``.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import consumer_group_heartbeat as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(
    ctx: RequestContext, request: msg.ConsumerGroupHeartbeatRequest
) -> msg.ConsumerGroupHeartbeatResponse:
    protocols = ctx.ports.config.value("group.coordinator.rebalance.protocols")
    if not isinstance(protocols, list | tuple) or "consumer" not in protocols:
        return msg.ConsumerGroupHeartbeatResponse(
            error_code=ErrorCode.UNSUPPORTED_VERSION,
            error_message="The consumer group protocol is disabled (group.coordinator.rebalance.protocols).",
        )
    authorizer = ctx.ports.authorizer
    if not authorizer.authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.group_id):
        return msg.ConsumerGroupHeartbeatResponse(
            error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED, error_message=None
        )
    names = request.subscribed_topic_names or []
    if names and len(authorizer.allowed_names(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, names)) != len(
        names
    ):
        return msg.ConsumerGroupHeartbeatResponse(
            error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            error_message="The member may not describe every topic it subscribes to.",
        )
    return await ctx.ports.groups.service.consumer_group_heartbeat(coordinator_context(ctx), request)


SPEC = ApiSpec(
    ApiKey.CONSUMER_GROUP_HEARTBEAT,
    0,
    1,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="KIP-848: server assignors uniform and range; regex subscriptions (RE2)",
)
