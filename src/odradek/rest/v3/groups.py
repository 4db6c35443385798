"""v3 consumer groups (read-only, as Confluent's): groups, their consumers and assignments, lags.

Lags are the group's committed offsets against the partitions' log end offsets (ListOffsets
latest), per partition (``/lags``) and summarized (``/lag-summary``: the largest and the total).
"""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import OffsetSpec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from odradek.http import HttpError
from odradek.rest import errors
from odradek.rest.responses import v3_json
from odradek.rest.v3.common import Ctx, collection, ctx_of, kafka_call_error

STATES = {
    "PREPARING_REBALANCE",
    "COMPLETING_REBALANCE",
    "STABLE",
    "DEAD",
    "EMPTY",
    "ASSIGNING",
    "RECONCILING",
}


def enum_name(value: Any) -> str:
    name = getattr(value, "name", str(value))
    return name if name else "UNKNOWN"


def group_json(ctx: Ctx, g: Any) -> dict[str, Any]:
    gid = g.group_id
    state = enum_name(g.state)
    return ctx.resource(
        "KafkaConsumerGroup",
        ctx.url("consumer-groups", gid),
        ctx.crn(("consumer-group", gid)),
        consumer_group_id=gid,
        is_simple=bool(g.is_simple_consumer_group),
        partition_assignor=g.partition_assignor or "",
        state=state if state in STATES else "UNKNOWN",
        type=enum_name(getattr(g, "type", "CLASSIC")),
        is_mixed_consumer_group=False,
        coordinator=ctx.related("brokers", g.coordinator.id) if g.coordinator is not None else None,
        consumers=ctx.related("consumer-groups", gid, "consumers"),
        lag_summary=ctx.related("consumer-groups", gid, "lag-summary"),
    )


def consumer_json(ctx: Ctx, gid: str, m: Any) -> dict[str, Any]:
    return ctx.resource(
        "KafkaConsumer",
        ctx.url("consumer-groups", gid, "consumers", m.member_id),
        ctx.crn(("consumer-group", gid), ("consumer", m.member_id)),
        consumer_group_id=gid,
        consumer_id=m.member_id,
        instance_id=m.group_instance_id,
        client_id=m.client_id,
        assignments=ctx.related("consumer-groups", gid, "consumers", m.member_id, "assignments"),
    )


def assignment_json(ctx: Ctx, gid: str, member: str, topic: str, partition: int) -> dict[str, Any]:
    return ctx.resource(
        "KafkaConsumerAssignment",
        ctx.url("consumer-groups", gid, "consumers", member, "assignments", topic, "partitions", partition),
        ctx.crn(("consumer-group", gid), ("consumer", member), ("topic", topic), ("partition", partition)),
        consumer_group_id=gid,
        consumer_id=member,
        topic_name=topic,
        partition_id=partition,
        partition=ctx.related("topics", topic, "partitions", partition),
        lag=ctx.related("consumer-groups", gid, "lags", topic, "partitions", partition),
    )


async def describe(ctx: Ctx, gid: str) -> Any:
    try:
        group = await ctx.proxy.admin.describe_group(gid)
    except KafkaException as exc:
        raise kafka_call_error(exc) from None
    if enum_name(group.state) == "DEAD":
        raise HttpError(errors.CONSUMER_GROUP_NOT_FOUND, f"Consumer group {gid} cannot be found.", status=404)
    return group


def member_of(group: Any, member_id: str) -> Any:
    for m in group.members:
        if m.member_id == member_id:
            return m
    raise HttpError(404, f"Consumer {member_id} cannot be found in group {group.group_id}.")


async def list_groups(request: Request) -> Response:
    ctx = await ctx_of(request)
    try:
        listings = await ctx.proxy.admin.list_groups()
        groups = [await ctx.proxy.admin.describe_group(g.group_id) for g in listings]
    except KafkaException as exc:
        raise kafka_call_error(exc) from None
    data = [group_json(ctx, g) for g in sorted(groups, key=lambda g: g.group_id)]
    return v3_json(collection("KafkaConsumerGroupList", ctx.url("consumer-groups"), data))


async def get_group(request: Request) -> Response:
    ctx = await ctx_of(request)
    return v3_json(group_json(ctx, await describe(ctx, request.path_params["consumer_group_id"])))


async def list_consumers(request: Request) -> Response:
    ctx = await ctx_of(request)
    group = await describe(ctx, request.path_params["consumer_group_id"])
    data = [consumer_json(ctx, group.group_id, m) for m in sorted(group.members, key=lambda m: m.member_id)]
    return v3_json(
        collection("KafkaConsumerList", ctx.url("consumer-groups", group.group_id, "consumers"), data)
    )


async def get_consumer(request: Request) -> Response:
    ctx = await ctx_of(request)
    group = await describe(ctx, request.path_params["consumer_group_id"])
    return v3_json(consumer_json(ctx, group.group_id, member_of(group, request.path_params["consumer_id"])))


def assigned(member: Any) -> list[tuple[str, int]]:
    parts = member.assignment.topic_partitions if member.assignment is not None else []
    return sorted((tp.topic, tp.partition) for tp in parts)


async def list_assignments(request: Request) -> Response:
    ctx = await ctx_of(request)
    group = await describe(ctx, request.path_params["consumer_group_id"])
    member = member_of(group, request.path_params["consumer_id"])
    data = [assignment_json(ctx, group.group_id, member.member_id, t, p) for t, p in assigned(member)]
    url = ctx.url("consumer-groups", group.group_id, "consumers", member.member_id, "assignments")
    return v3_json(collection("KafkaConsumerAssignmentList", url, data))


async def get_assignment(request: Request) -> Response:
    ctx = await ctx_of(request)
    p = request.path_params
    group = await describe(ctx, p["consumer_group_id"])
    member = member_of(group, p["consumer_id"])
    if (p["topic_name"], p["partition_id"]) not in assigned(member):
        raise HttpError(404, "This assignment cannot be found.")
    return v3_json(assignment_json(ctx, group.group_id, member.member_id, p["topic_name"], p["partition_id"]))


async def lags(ctx: Ctx, gid: str) -> list[dict[str, Any]]:
    group = await describe(ctx, gid)
    owners: dict[tuple[str, int], Any] = {}
    for m in group.members:
        for tp in assigned(m):
            owners[tp] = m
    try:
        committed = await ctx.proxy.admin.committed_offsets(gid)
        ends = await ctx.proxy.admin.list_offsets(sorted(committed), OffsetSpec.latest())  # type: ignore[no-untyped-call]
    except KafkaException as exc:
        raise kafka_call_error(exc) from None
    out = []
    for (topic, partition), current in sorted(committed.items()):
        end = ends.get((topic, partition), current)
        owner = owners.get((topic, partition))
        out.append(
            ctx.resource(
                "KafkaConsumerLag",
                ctx.url("consumer-groups", gid, "lags", topic, "partitions", partition),
                ctx.crn(("consumer-group", gid), ("lag", topic), ("partition", partition)),
                consumer_group_id=gid,
                topic_name=topic,
                partition_id=partition,
                current_offset=current,
                log_end_offset=end,
                lag=max(end - current, 0),
                consumer_id=owner.member_id if owner is not None else "",
                instance_id=owner.group_instance_id if owner is not None else None,
                client_id=owner.client_id if owner is not None else "",
            )
        )
    return out


async def list_lags(request: Request) -> Response:
    ctx = await ctx_of(request)
    gid = request.path_params["consumer_group_id"]
    return v3_json(
        collection("KafkaConsumerLagList", ctx.url("consumer-groups", gid, "lags"), await lags(ctx, gid))
    )


async def get_lag(request: Request) -> Response:
    ctx = await ctx_of(request)
    p = request.path_params
    for lag in await lags(ctx, p["consumer_group_id"]):
        if lag["topic_name"] == p["topic_name"] and lag["partition_id"] == p["partition_id"]:
            return v3_json(lag)
    raise HttpError(404, "The group has no committed offset for this partition.")


async def lag_summary(request: Request) -> Response:
    ctx = await ctx_of(request)
    gid = request.path_params["consumer_group_id"]
    all_lags = await lags(ctx, gid)
    top = max(all_lags, key=lambda lag: lag["lag"], default=None)
    data = ctx.resource(
        "KafkaConsumerGroupLagSummary",
        ctx.url("consumer-groups", gid, "lag-summary"),
        ctx.crn(("consumer-group", gid), ("lag-summary", "")),
        consumer_group_id=gid,
        max_lag_consumer_id=top["consumer_id"] if top else "",
        max_lag_instance_id=top["instance_id"] if top else None,
        max_lag_client_id=top["client_id"] if top else "",
        max_lag_topic_name=top["topic_name"] if top else "",
        max_lag_partition_id=top["partition_id"] if top else 0,
        max_lag=top["lag"] if top else 0,
        total_lag=sum(lag["lag"] for lag in all_lags),
        max_lag_consumer=ctx.related("consumer-groups", gid, "consumers", top["consumer_id"])
        if top
        else None,
        max_lag_partition=ctx.related("topics", top["topic_name"], "partitions", top["partition_id"])
        if top
        else None,
    )
    return v3_json(data)


G = "/v3/clusters/{cluster_id}/consumer-groups"
GG = G + "/{consumer_group_id}"
ROUTES = [
    Route(G, list_groups, methods=["GET"]),
    Route(GG, get_group, methods=["GET"]),
    Route(GG + "/consumers", list_consumers, methods=["GET"]),
    Route(GG + "/consumers/{consumer_id}", get_consumer, methods=["GET"]),
    Route(GG + "/consumers/{consumer_id}/assignments", list_assignments, methods=["GET"]),
    Route(
        GG + "/consumers/{consumer_id}/assignments/{topic_name}/partitions/{partition_id:int}",
        get_assignment,
        methods=["GET"],
    ),
    Route(GG + "/lags", list_lags, methods=["GET"]),
    Route(GG + "/lags/{topic_name}/partitions/{partition_id:int}", get_lag, methods=["GET"]),
    Route(GG + "/lag-summary", lag_summary, methods=["GET"]),
]
