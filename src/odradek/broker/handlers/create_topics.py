"""CreateTopics (19), v2-v7: create topics through the controller, or only validate them.

Each topic is checked and created by `metadata.controller.create_topics` (names, collisions,
existence, configs, replication factor against the live brokers, partition count, manual
assignments), which also gives the error codes and Kafka's messages. Creation is synchronous: the
records are durable and the partitions exist when the answer leaves, so ``timeout_ms`` never
expires. ``validate_only`` runs the same checks and writes nothing.

v5+ answers carry the partition count, replication factor and every config of the new topic with
its source; errors carry none of them (-1, -1, empty). v7 adds the topic id.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.metadata.controller.topics import CreatableReplicaAssignment, CreatableTopic, CreateTopicResult
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import create_topics as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(ctx: RequestContext, request: msg.CreateTopicsRequest) -> msg.CreateTopicsResponse:
    """CREATE on the cluster, or on each topic (TOPIC_AUTHORIZATION_FAILED for the others)."""
    authorizer = ctx.ports.authorizer
    denied: set[str] = set()
    if authorizer.enabled and not authorizer.authorize_cluster(ctx, AclOperation.CREATE):
        names = [t.name for t in request.topics]
        denied = set(names) - {
            n for n in names if authorizer.authorize(ctx, AclOperation.CREATE, ResourceType.TOPIC, n)
        }
    throttled: set[str] = set()
    if not request.validate_only:  # controller_mutation_rate (KIP-599): strict from v6
        default_partitions = ctx.ports.config.int_value("num.partitions")
        for t in request.topics:
            if t.name in denied:
                continue
            partitions = (
                t.num_partitions if t.num_partitions > 0 else len(t.assignments) or default_partitions
            )
            if not ctx.ports.quotas.try_mutation(ctx, partitions, strict=ctx.api_version >= 6):
                throttled.add(t.name)
        ctx.ports.quotas.mutation_throttle_ms(ctx)
    topics = [_creatable(t) for t in request.topics if t.name not in denied and t.name not in throttled]
    results = (
        await ctx.ports.metadata.create_topics(topics, validate_only=request.validate_only) if topics else ()
    )
    by_name = {r.name: _result(r) for r in results}
    return msg.CreateTopicsResponse(
        topics=[
            by_name.get(t.name)
            or msg.CreatableTopicResult(
                name=t.name,
                error_code=ErrorCode.THROTTLING_QUOTA_EXCEEDED
                if t.name in throttled
                else ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                error_message="The throttling quota has been exceeded."
                if t.name in throttled
                else "Authorization failed.",
                num_partitions=-1,
                replication_factor=-1,
            )
            for t in request.topics
        ]
    )


def _creatable(topic: msg.CreatableTopic) -> CreatableTopic:
    return CreatableTopic(
        name=topic.name,
        num_partitions=topic.num_partitions,
        replication_factor=topic.replication_factor,
        assignments=tuple(
            CreatableReplicaAssignment(a.partition_index, tuple(a.broker_ids)) for a in topic.assignments
        ),
        configs=tuple((c.name, c.value) for c in topic.configs),
    )


def _result(result: CreateTopicResult) -> msg.CreatableTopicResult:
    return msg.CreatableTopicResult(
        name=result.name,
        topic_id=result.topic_id,
        error_code=result.error_code,
        error_message=result.error_message,
        num_partitions=result.num_partitions,
        replication_factor=result.replication_factor,
        configs=[
            msg.CreatableTopicConfigs(
                name=e.name,
                value=e.value,
                read_only=e.read_only,
                config_source=e.source,
                is_sensitive=e.is_sensitive,
            )
            for e in result.configs or ()
        ],
    )


SPEC = ApiSpec(
    ApiKey.CREATE_TOPICS,
    2,
    7,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="validate_only, manual assignments, configs and topic ids; synchronous (timeout never expires)",
)
