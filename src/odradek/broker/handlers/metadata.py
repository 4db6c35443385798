"""Metadata (3), v0-v13: brokers, cluster id, controller, topics with their partitions.

A null topic list (v1+; an empty one in v0) means every topic. Unknown topics are created when
``auto.create.topics.enable`` is true and the request allows it (v4+; always in v0-v3), with
``num.partitions`` and ``default.replication.factor``; the answer then already describes the new
topic, since creation here is synchronous. Illegal names get INVALID_TOPIC_EXCEPTION, unknown
topics UNKNOWN_TOPIC_OR_PARTITION, unknown ids (v10+) UNKNOWN_TOPIC_ID. Internal topics are never
auto-created by Metadata. Authorized operations (v8+), when asked for, are everything the cluster or
topic supports: no authorizer is configured.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from odradek.broker.api import ApiSpec
from odradek.broker.authorized_operations import CLUSTER_OPERATIONS, TOPIC_OPERATIONS, authorized_operations
from odradek.broker.context import RequestContext
from odradek.metadata.controller.topics import CreatableTopic
from odradek.metadata.image import ClusterImage, TopicImage
from odradek.metadata.topic_names import is_internal, topic_name_error
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import ZERO_UUID
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import metadata as msg

if TYPE_CHECKING:
    from odradek.broker.ports import BrokerPorts


def handle(
    ctx: RequestContext, request: msg.MetadataRequest
) -> msg.MetadataResponse | Awaitable[msg.MetadataResponse]:
    ports = ctx.ports
    version = ctx.api_version
    allow_create = request.allow_auto_topic_creation if version >= 4 else True
    wanted = _wanted_names(ports.metadata.image, request, version)
    if wanted is not None and allow_create and ports.config.bool_value("auto.create.topics.enable"):
        missing = [
            name
            for name in dict.fromkeys(wanted)
            if name is not None
            and ports.metadata.image.topic(name) is None
            and topic_name_error(name) is None
            and not is_internal(name)
        ]
        if missing:
            return _create_then_describe(ctx, request, missing)
    return describe(ports, request, version)


async def _create_then_describe(
    ctx: RequestContext, request: msg.MetadataRequest, missing: list[str]
) -> msg.MetadataResponse:
    await ctx.ports.metadata.create_topics([CreatableTopic(name) for name in missing])
    return describe(ctx.ports, request, ctx.api_version)


def _wanted_names(image: ClusterImage, request: msg.MetadataRequest, version: int) -> list[str | None] | None:
    """Requested names (None for an unknown id), or None for "all topics"."""
    if request.topics is None or (version == 0 and not request.topics):
        return None
    names: list[str | None] = []
    for topic in request.topics:
        if topic.name is not None:
            names.append(topic.name)
        else:
            found = image.topics_by_id.get(topic.topic_id)
            names.append(found.name if found is not None else None)
    return names


def describe(ports: BrokerPorts, request: msg.MetadataRequest, version: int) -> msg.MetadataResponse:
    image = ports.metadata.image
    response = msg.MetadataResponse(
        brokers=[
            msg.MetadataResponseBroker(node_id=b.broker_id, host=b.host, port=b.port, rack=b.rack)
            for b in image.live_brokers()
        ],
        cluster_id=image.cluster_id,
        controller_id=image.controller_id,
        cluster_authorized_operations=authorized_operations(
            request.include_cluster_authorized_operations, CLUSTER_OPERATIONS
        ),
    )
    if request.topics is None or (version == 0 and not request.topics):
        for topic in sorted(image.topics_by_name.values(), key=lambda t: t.name):
            response.topics.append(_topic(image, topic, request))
        return response
    for wanted in request.topics:
        if wanted.name is None:
            found = image.topics_by_id.get(wanted.topic_id)
            if found is None:
                response.topics.append(
                    msg.MetadataResponseTopic(
                        error_code=ErrorCode.UNKNOWN_TOPIC_ID, name=None, topic_id=wanted.topic_id
                    )
                )
                continue
            response.topics.append(_topic(image, found, request))
            continue
        named = image.topic(wanted.name)
        if named is not None:
            response.topics.append(_topic(image, named, request))
            continue
        error = (
            ErrorCode.INVALID_TOPIC_EXCEPTION
            if topic_name_error(wanted.name) is not None
            else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        )
        response.topics.append(
            msg.MetadataResponseTopic(error_code=error, name=wanted.name, topic_id=ZERO_UUID)
        )
    return response


def _topic(image: ClusterImage, topic: TopicImage, request: msg.MetadataRequest) -> msg.MetadataResponseTopic:
    partitions = []
    for index, p in sorted(topic.partitions.items()):
        offline = image.offline_replicas(p)
        leader = image.live_leader(p)
        partitions.append(
            msg.MetadataResponsePartition(
                error_code=ErrorCode.NO_ERROR if leader >= 0 else ErrorCode.LEADER_NOT_AVAILABLE,
                partition_index=index,
                leader_id=leader,
                leader_epoch=p.leader_epoch,
                replica_nodes=list(p.replicas),
                isr_nodes=list(p.isr),
                offline_replicas=list(offline),
            )
        )
    return msg.MetadataResponseTopic(
        name=topic.name,
        topic_id=topic.topic_id,
        is_internal=topic.is_internal,
        partitions=partitions,
        topic_authorized_operations=authorized_operations(
            request.include_topic_authorized_operations, TOPIC_OPERATIONS
        ),
    )


SPEC = ApiSpec(
    ApiKey.METADATA,
    0,
    13,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="auto topic creation (auto.create.topics.enable); topic ids; authorized operations",
)
