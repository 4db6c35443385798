"""v3 clusters: ``/v3/clusters`` and ``/v3/clusters/{cluster_id}`` (one cluster per proxy)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.rest.responses import base_url, v3_json
from odradek.rest.v3.common import Ctx, collection, ctx_of


async def cluster_data(ctx: Ctx) -> dict[str, Any]:
    metadata = await ctx.proxy.admin.metadata()
    controller = metadata.controller_id
    return ctx.resource(
        "KafkaCluster",
        ctx.base,
        ctx.crn(),
        controller=ctx.related("brokers", controller) if controller is not None and controller >= 0 else None,
        acls=ctx.related("acls"),
        brokers=ctx.related("brokers"),
        broker_configs=ctx.related("broker-configs"),
        consumer_groups=ctx.related("consumer-groups"),
        topics=ctx.related("topics"),
        partition_reassignments=ctx.related("topics", "-", "partitions", "-", "reassignment"),
    )


async def list_clusters(request: Request) -> Response:
    ctx = await ctx_of(request)
    return v3_json(
        collection("KafkaClusterList", f"{base_url(request)}/v3/clusters", [await cluster_data(ctx)])
    )


async def get_cluster(request: Request) -> Response:
    return v3_json(await cluster_data(await ctx_of(request)))


ROUTES = [
    Route("/v3/clusters", list_clusters, methods=["GET"]),
    Route("/v3/clusters/{cluster_id}", get_cluster, methods=["GET"]),
]
