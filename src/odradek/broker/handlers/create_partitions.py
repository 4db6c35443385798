"""CreatePartitions (37), v0-v3: grow topics to a new partition count, or only validate it.

`metadata.controller.create_partitions` decides: UNKNOWN_TOPIC_OR_PARTITION, INVALID_PARTITIONS
when the count does not grow, INVALID_REPLICATION_ASSIGNMENT for bad manual assignments,
INVALID_REPLICATION_FACTOR when too few brokers are live, INVALID_REQUEST for a topic listed twice.
New partitions are hosted (empty logs created) before the answer; ``timeout_ms`` never expires.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.metadata.controller.partitions import CreatePartitionsTopic, create_partitions
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import create_partitions as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(ctx: RequestContext, request: msg.CreatePartitionsRequest) -> msg.CreatePartitionsResponse:
    authorizer = ctx.ports.authorizer
    denied = [
        t.name
        for t in request.topics
        if not authorizer.authorize(ctx, AclOperation.ALTER, ResourceType.TOPIC, t.name)
    ]
    request.topics = [t for t in request.topics if t.name not in denied]
    refused = [
        msg.CreatePartitionsTopicResult(n, ErrorCode.TOPIC_AUTHORIZATION_FAILED, "Authorization failed.")
        for n in denied
    ]
    image = ctx.ports.metadata.image
    if not request.validate_only:  # controller_mutation_rate (KIP-599): strict from v3
        for t in list(request.topics):
            found = image.topic(t.name)
            added = t.count - len(found.partitions) if found is not None else 0
            if added > 0 and not ctx.ports.quotas.try_mutation(ctx, added, strict=ctx.api_version >= 3):
                request.topics.remove(t)
                refused.append(
                    msg.CreatePartitionsTopicResult(
                        t.name, ErrorCode.THROTTLING_QUOTA_EXCEEDED, "The throttling quota has been exceeded."
                    )
                )
        ctx.ports.quotas.mutation_throttle_ms(ctx)
    if not request.topics:
        return msg.CreatePartitionsResponse(results=refused)
    topics = [
        CreatePartitionsTopic(
            t.name,
            t.count,
            None if t.assignments is None else tuple(tuple(a.broker_ids) for a in t.assignments),
        )
        for t in request.topics
    ]
    results = await ctx.ports.metadata.run_controller(
        lambda image: create_partitions(image, topics, validate_only=request.validate_only)
    )
    return msg.CreatePartitionsResponse(
        results=[msg.CreatePartitionsTopicResult(r.name, r.error_code, r.error_message) for r in results]
        + refused
    )


SPEC = ApiSpec(
    ApiKey.CREATE_PARTITIONS,
    0,
    3,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="automatic or manual assignment, validate_only; synchronous",
)
