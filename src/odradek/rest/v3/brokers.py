"""v3 brokers: ``/brokers``, ``/brokers/{b}``, ``/brokers/{b}/partition-replicas``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.http import HttpError
from odradek.rest.responses import v3_json
from odradek.rest.v3.common import Ctx, collection, ctx_of
from odradek.rest.v3.partitions import replica_json


def broker_json(ctx: Ctx, broker: Any) -> dict[str, Any]:
    return ctx.resource(
        "KafkaBroker",
        ctx.url("brokers", broker.id),
        ctx.crn(("broker", broker.id)),
        broker_id=broker.id,
        host=broker.host,
        port=broker.port,
        rack=None,
        configs=ctx.related("brokers", broker.id, "configs"),
        partition_replicas=ctx.related("brokers", broker.id, "partition-replicas"),
    )


async def list_brokers(request: Request) -> Response:
    ctx = await ctx_of(request)
    metadata = await ctx.proxy.admin.metadata(fresh=True)
    data = [broker_json(ctx, metadata.brokers[b]) for b in sorted(metadata.brokers)]
    return v3_json(collection("KafkaBrokerList", ctx.url("brokers"), data))


async def get_broker(request: Request) -> Response:
    ctx = await ctx_of(request)
    metadata = await ctx.proxy.admin.metadata()
    broker = metadata.brokers.get(request.path_params["broker_id"])
    if broker is None:
        raise HttpError(404, f"Broker {request.path_params['broker_id']} cannot be found.")
    return v3_json(broker_json(ctx, broker))


async def broker_replicas(request: Request) -> Response:
    ctx = await ctx_of(request)
    broker_id = request.path_params["broker_id"]
    metadata = await ctx.proxy.admin.metadata(fresh=True)
    if broker_id not in metadata.brokers:
        raise HttpError(404, f"Broker {broker_id} cannot be found.")
    data = [
        replica_json(ctx, name, partition, broker_id)
        for name in sorted(metadata.topics)
        for _, partition in sorted(metadata.topics[name].partitions.items())
        if broker_id in partition.replicas
    ]
    return v3_json(collection("KafkaReplicaList", ctx.url("brokers", broker_id, "partition-replicas"), data))


C = "/v3/clusters/{cluster_id}"
ROUTES = [
    Route(C + "/brokers", list_brokers, methods=["GET"]),
    Route(C + "/brokers/{broker_id:int}", get_broker, methods=["GET"]),
    Route(C + "/brokers/{broker_id:int}/partition-replicas", broker_replicas, methods=["GET"]),
]
