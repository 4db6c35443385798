"""OffsetDelete (47), v0: delete a group's committed offsets for some partitions (KIP-496).

Partitions that do not exist get UNKNOWN_TOPIC_OR_PARTITION from the broker, as in Kafka; the
coordinator answers the rest: GROUP_SUBSCRIBED_TO_TOPIC for topics the group consumes, NON_EMPTY_GROUP
for an active group not using the consumer protocol, GROUP_ID_NOT_FOUND
(`odradek.coordinator.group.offset_commit`).
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.broker.handlers.offset_commit import existing_partitions
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import offset_delete as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(ctx: RequestContext, request: msg.OffsetDeleteRequest) -> msg.OffsetDeleteResponse:
    image = ctx.ports.metadata.image
    refused: list[msg.OffsetDeleteResponseTopic] = []
    accepted: list[msg.OffsetDeleteRequestTopic] = []
    authorizer = ctx.ports.authorizer
    if not authorizer.authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, request.group_id):
        return msg.OffsetDeleteResponse(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
    for topic in request.topics:
        if not authorizer.authorize(ctx, AclOperation.READ, ResourceType.TOPIC, topic.name):
            error = ErrorCode.TOPIC_AUTHORIZATION_FAILED
            partitions = [
                msg.OffsetDeleteResponsePartition(p.partition_index, error) for p in topic.partitions
            ]
            refused.append(msg.OffsetDeleteResponseTopic(topic.name, partitions))
            continue
        exists = existing_partitions(image, topic.name)
        known = [p for p in topic.partitions if p.partition_index in exists]
        unknown = [p for p in topic.partitions if p.partition_index not in exists]
        if unknown:
            error = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            partitions = [msg.OffsetDeleteResponsePartition(p.partition_index, error) for p in unknown]
            refused.append(msg.OffsetDeleteResponseTopic(topic.name, partitions))
        if known:
            accepted.append(msg.OffsetDeleteRequestTopic(topic.name, known))
    request.topics = accepted
    response = await ctx.ports.groups.service.offset_delete(coordinator_context(ctx), request)
    if response.error_code:
        return response
    merged = {t.name: t for t in response.topics}
    for refused_topic in refused:
        if refused_topic.name in merged:
            merged[refused_topic.name].partitions.extend(refused_topic.partitions)
        else:
            merged[refused_topic.name] = refused_topic
    response.topics = list(merged.values())
    return response


SPEC = ApiSpec(
    ApiKey.OFFSET_DELETE,
    0,
    0,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="GROUP_SUBSCRIBED_TO_TOPIC for topics the group consumes",
)
