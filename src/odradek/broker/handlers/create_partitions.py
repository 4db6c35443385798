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
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import create_partitions as msg


async def handle(ctx: RequestContext, request: msg.CreatePartitionsRequest) -> msg.CreatePartitionsResponse:
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
