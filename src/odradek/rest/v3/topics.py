"""v3 topics: list, create (201), get, ``PATCH`` partition count, delete (204)."""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import NewTopic
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.rest import content
from odradek.rest.fields import array, boolean, integer, obj, pointer, string
from odradek.rest.responses import no_content, v3_json
from odradek.rest.v2.metadata import INTERNAL_TOPICS, TopicInfo, topic_or_404
from odradek.rest.v3.common import Ctx, collection, ctx_of, kafka_call_error

CREATED = 201


def topic_json(ctx: Ctx, topic: TopicInfo) -> dict[str, Any]:
    name = topic.name
    first = topic.partitions.get(0)
    return ctx.resource(
        "KafkaTopic",
        ctx.url("topics", name),
        ctx.crn(("topic", name)),
        topic_name=name,
        is_internal=name in INTERNAL_TOPICS,
        replication_factor=len(first.replicas) if first is not None else 0,
        partitions_count=len(topic.partitions),
        partitions=ctx.related("topics", name, "partitions"),
        configs=ctx.related("topics", name, "configs"),
        partition_reassignments=ctx.related("topics", name, "partitions", "-", "reassignment"),
        authorized_operations=[],
    )


async def list_topics(request: Request) -> Response:
    ctx = await ctx_of(request)
    metadata = await ctx.proxy.admin.metadata(fresh=True)
    data = [
        topic_json(ctx, TopicInfo(name, metadata.topics[name].partitions)) for name in sorted(metadata.topics)
    ]
    return v3_json(collection("KafkaTopicList", ctx.url("topics"), data))


async def get_topic(request: Request) -> Response:
    ctx = await ctx_of(request)
    return v3_json(topic_json(ctx, await topic_or_404(ctx.proxy, request.path_params["topic_name"])))


async def create_topic(request: Request) -> Response:
    content.require_json(request)
    ctx = await ctx_of(request)
    body = obj(await content.read_json(request), "")
    name = string(body.get("topic_name"), "/topic_name")
    partitions = body.get("partitions_count")
    replication = body.get("replication_factor")
    assignments = body.get("replicas_assignments")
    kwargs: dict[str, Any] = {}
    if assignments:
        raw = obj(assignments, "/replicas_assignments")
        kwargs["replica_assignment"] = [
            [
                integer(b, pointer("replicas_assignments", p, i))
                for i, b in enumerate(array(raw[p], f"/replicas_assignments/{p}"))
            ]
            for p in sorted(raw, key=lambda k: integer(k, f"/replicas_assignments/{k}", 0))
        ]
    else:
        kwargs["num_partitions"] = -1 if partitions is None else integer(partitions, "/partitions_count", 1)
        kwargs["replication_factor"] = (
            -1 if replication is None else integer(replication, "/replication_factor", 1)
        )
    configs = {}
    for i, item in enumerate(array(body.get("configs") or [], "/configs")):
        entry = obj(item, pointer("configs", i))
        configs[string(entry.get("name"), pointer("configs", i, "name"))] = string(
            entry.get("value"), pointer("configs", i, "value")
        )
    validate = boolean(body.get("validate_only", False), "/validate_only")
    try:
        await ctx.proxy.admin.create_topic(NewTopic(name, config=configs, **kwargs), validate)
    except KafkaException as exc:
        raise kafka_call_error(exc) from None
    if validate:
        data = ctx.resource(
            "KafkaTopic",
            ctx.url("topics", name),
            ctx.crn(("topic", name)),
            topic_name=name,
            is_internal=False,
            replication_factor=max(kwargs.get("replication_factor", 1), 1),
            partitions_count=max(kwargs.get("num_partitions", 1), 1),
            partitions=ctx.related("topics", name, "partitions"),
            configs=ctx.related("topics", name, "configs"),
            partition_reassignments=ctx.related("topics", name, "partitions", "-", "reassignment"),
            authorized_operations=[],
        )
        return v3_json(data, CREATED)
    topic = await topic_or_404(ctx.proxy, name)
    return v3_json(topic_json(ctx, topic), CREATED)


async def update_topic(request: Request) -> Response:
    content.require_json(request)
    ctx = await ctx_of(request)
    topic = await topic_or_404(ctx.proxy, request.path_params["topic_name"])
    body = obj(await content.read_json(request), "")
    count = integer(body.get("partitions_count"), "/partitions_count", 1)
    if count != len(topic.partitions):
        try:
            await ctx.proxy.admin.create_partitions(topic.name, count)
        except KafkaException as exc:
            raise kafka_call_error(exc) from None
        topic = await topic_or_404(ctx.proxy, topic.name)
    return v3_json(topic_json(ctx, topic))


async def delete_topic(request: Request) -> Response:
    ctx = await ctx_of(request)
    name = request.path_params["topic_name"]
    await topic_or_404(ctx.proxy, name)
    try:
        await ctx.proxy.admin.delete_topic(name)
    except KafkaException as exc:
        raise kafka_call_error(exc) from None
    return no_content()


T = "/v3/clusters/{cluster_id}/topics"
ROUTES = [
    Route(T, list_topics, methods=["GET"]),
    Route(T, create_topic, methods=["POST"]),
    Route(T + "/{topic_name}", get_topic, methods=["GET"]),
    Route(T + "/{topic_name}", update_topic, methods=["PATCH"]),
    Route(T + "/{topic_name}", delete_topic, methods=["DELETE"]),
]
