"""v3 partitions and replicas: ``/topics/{t}/partitions[/{p}[/replicas[/{b}]]]``, and the
partition's earliest/latest offsets at ``/topics/{t}/partitions/{p}/offset``."""

from __future__ import annotations

from typing import Any

from confluent_kafka.admin import PartitionMetadata
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.http import HttpError
from odradek.rest import errors
from odradek.rest.responses import v3_json
from odradek.rest.v2.metadata import offsets, partition_or_404, topic_or_404
from odradek.rest.v3.common import Ctx, collection, ctx_of


def partition_json(ctx: Ctx, topic: str, p: PartitionMetadata) -> dict[str, Any]:
    return ctx.resource(
        "KafkaPartition",
        ctx.url("topics", topic, "partitions", p.id),
        ctx.crn(("topic", topic), ("partition", p.id)),
        topic_name=topic,
        partition_id=p.id,
        leader=ctx.related("topics", topic, "partitions", p.id, "replicas", p.leader)
        if p.leader >= 0
        else None,
        replicas=ctx.related("topics", topic, "partitions", p.id, "replicas"),
        reassignment=ctx.related("topics", topic, "partitions", p.id, "reassignment"),
    )


def replica_json(ctx: Ctx, topic: str, p: PartitionMetadata, broker: int) -> dict[str, Any]:
    return ctx.resource(
        "KafkaReplica",
        ctx.url("topics", topic, "partitions", p.id, "replicas", broker),
        ctx.crn(("topic", topic), ("partition", p.id), ("replica", broker)),
        topic_name=topic,
        partition_id=p.id,
        broker_id=broker,
        is_leader=broker == p.leader,
        is_in_sync=broker in p.isrs,
        broker=ctx.related("brokers", broker),
    )


async def _partition(request: Request) -> tuple[Ctx, str, PartitionMetadata]:
    ctx = await ctx_of(request)
    topic = await topic_or_404(ctx.proxy, request.path_params["topic_name"])
    return ctx, topic.name, partition_or_404(topic, request.path_params["partition_id"])


async def list_partitions(request: Request) -> Response:
    ctx = await ctx_of(request)
    topic = await topic_or_404(ctx.proxy, request.path_params["topic_name"])
    data = [partition_json(ctx, topic.name, topic.partitions[p]) for p in sorted(topic.partitions)]
    return v3_json(collection("KafkaPartitionList", ctx.url("topics", topic.name, "partitions"), data))


async def get_partition(request: Request) -> Response:
    ctx, topic, partition = await _partition(request)
    return v3_json(partition_json(ctx, topic, partition))


async def list_replicas(request: Request) -> Response:
    ctx, topic, p = await _partition(request)
    data = [replica_json(ctx, topic, p, b) for b in p.replicas]
    return v3_json(
        collection("KafkaReplicaList", ctx.url("topics", topic, "partitions", p.id, "replicas"), data)
    )


async def get_replica(request: Request) -> Response:
    ctx, topic, p = await _partition(request)
    broker = request.path_params["broker_id"]
    if broker not in p.replicas:
        raise HttpError(404, f"Replica {broker} of {topic}-{p.id} cannot be found.")
    return v3_json(replica_json(ctx, topic, p, broker))


async def partition_offset(request: Request) -> Response:
    ctx, topic, p = await _partition(request)
    kind = request.query_params.get("offset_type", "").lower()
    earliest, latest = await offsets(ctx.proxy, topic, p.id)
    data = ctx.resource(
        "KafkaPartitionOffsets",
        ctx.url("topics", topic, "partitions", p.id, "offset"),
        ctx.crn(("topic", topic), ("partition", p.id)),
        topic_name=topic,
        partition_id=p.id,
        earliest_offset=earliest,
        latest_offset=latest,
    )
    if kind and kind not in ("earliest", "latest"):
        raise errors.bad_request(f"offset_type must be earliest or latest, got {kind!r}.")
    return v3_json(data)


P = "/v3/clusters/{cluster_id}/topics/{topic_name}/partitions"
ROUTES = [
    Route(P, list_partitions, methods=["GET"]),
    Route(P + "/{partition_id:int}", get_partition, methods=["GET"]),
    Route(P + "/{partition_id:int}/offset", partition_offset, methods=["GET"]),
    Route(P + "/{partition_id:int}/replicas", list_replicas, methods=["GET"]),
    Route(P + "/{partition_id:int}/replicas/{broker_id:int}", get_replica, methods=["GET"]),
]
