"""OffsetFetch (9), v1-v10: a group's committed offsets (v8+: several groups in one request).

Null topics (v2+) ask for every partition with an offset. Partitions without one answer offset -1.
With ``require_stable`` (v7+), partitions with a pending transactional commit answer
UNSTABLE_OFFSET_COMMIT. v10 names topics by id (UNKNOWN_TOPIC_ID when unknown). A KIP-848 member may
give its id and epoch (v9+: STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID). See
`odradek.coordinator.group.offset_fetch`.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import offset_fetch as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(ctx: RequestContext, request: msg.OffsetFetchRequest) -> msg.OffsetFetchResponse:
    """DESCRIBE on the group (GROUP_AUTHORIZATION_FAILED) and on each topic: topics the principal
    may not describe are left out of an all-topics answer and refused (TOPIC_AUTHORIZATION_FAILED)
    when named, as Kafka does."""
    authorizer = ctx.ports.authorizer
    if not authorizer.enabled:
        return await ctx.ports.groups.service.offset_fetch(coordinator_context(ctx), request)
    if ctx.api_version < 8:
        if not authorizer.authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, request.group_id):
            return msg.OffsetFetchResponse(error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
        response = await ctx.ports.groups.service.offset_fetch(coordinator_context(ctx), request)
        for topic in response.topics:
            if not authorizer.authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, topic.name):
                for partition in topic.partitions:
                    partition.error_code = ErrorCode.TOPIC_AUTHORIZATION_FAILED
                    partition.committed_offset = -1
        if request.topics is None:
            response.topics = [
                t for t in response.topics if not t.partitions or t.partitions[0].error_code == 0
            ]
        return response
    denied_groups = [
        g.group_id
        for g in request.groups
        if not authorizer.authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.group_id)
    ]
    asked = {g.group_id: g.topics for g in request.groups}
    request.groups = [g for g in request.groups if g.group_id not in denied_groups]
    response = msg.OffsetFetchResponse()
    if request.groups:
        response = await ctx.ports.groups.service.offset_fetch(coordinator_context(ctx), request)
    for group in response.groups:
        kept: list[msg.OffsetFetchResponseTopics] = []
        for group_topic in group.topics:
            if authorizer.authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, group_topic.name):
                kept.append(group_topic)
            elif asked.get(group.group_id) is not None:  # named: refused, not hidden
                for group_partition in group_topic.partitions:
                    group_partition.error_code = ErrorCode.TOPIC_AUTHORIZATION_FAILED
                    group_partition.committed_offset = -1
                kept.append(group_topic)
        group.topics = kept
    response.groups += [
        msg.OffsetFetchResponseGroup(group_id=g, error_code=ErrorCode.GROUP_AUTHORIZATION_FAILED)
        for g in denied_groups
    ]
    return response


SPEC = ApiSpec(
    ApiKey.OFFSET_FETCH,
    1,
    10,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="multi-group (v8+), require_stable (v7+), v10 topic ids",
)
