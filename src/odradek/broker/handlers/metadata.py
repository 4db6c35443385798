"""Metadata (3), v0-v13: brokers, cluster id, controller, topics with their partitions.

A null topic list (v1+; an empty one in v0) means every topic. Unknown topics are created when
``auto.create.topics.enable`` is true and the request allows it (v4+; always in v0-v3), with
``num.partitions`` and ``default.replication.factor``; the answer then already describes the new
topic, since creation here is synchronous. Illegal names get INVALID_TOPIC_EXCEPTION, unknown
topics UNKNOWN_TOPIC_OR_PARTITION, unknown ids (v10+) UNKNOWN_TOPIC_ID. Internal topics are never
auto-created by Metadata. A partition whose log directory failed is answered with
KAFKA_STORAGE_ERROR and this broker among its offline replicas.

Authorization (Kafka's): a topic the principal may not DESCRIBE is left out of an all-topics answer
and answered TOPIC_AUTHORIZATION_FAILED when named (UNKNOWN_TOPIC_ID when asked by id, so its
existence does not leak); auto-creation needs CREATE on the cluster or on the topic
(TOPIC_AUTHORIZATION_FAILED otherwise). Authorized operations (v8+), when asked for, are the
principal's (`broker/authorization.py`).

Answers for all topics are frequent (every client refreshes them) and, with 20,000 partitions, large:
each topic's part is encoded once per topic image, API version and authorized-operations flag and
kept (`_TopicParts`; images are immutable, so an unchanged topic keeps its bytes), and the sorted
topic list once per image; only the brokers and the top-level fields are encoded per request. Not
cached: topics whose authorized operations were asked for while an authorizer is on (they depend on
the principal) and answers while a log directory is offline.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from odradek.broker.api import ApiSpec
from odradek.broker.authorization import authorized_operations_field
from odradek.broker.context import RequestContext
from odradek.broker.endpoints import broker_endpoint
from odradek.metadata.image import ClusterImage, TopicImage
from odradek.metadata.topic_names import is_internal, topic_name_error
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import ZERO_UUID
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.codec import Encoded, encode_struct
from odradek.protocol.messages import metadata as msg
from odradek.protocol.schema import nested_struct
from odradek.security.acl import CLUSTER_NAME, AclOperation, ResourceType

if TYPE_CHECKING:
    from odradek.broker.ports import BrokerPorts


def handle(
    ctx: RequestContext, request: msg.MetadataRequest
) -> msg.MetadataResponse | Awaitable[msg.MetadataResponse]:
    ports = ctx.ports
    version = ctx.api_version
    allow_create = request.allow_auto_topic_creation if version >= 4 else True
    wanted = _wanted_names(ports.metadata.image, request, version)
    refused: set[str] = set()
    if wanted is not None and allow_create and ports.config.bool_value("auto.create.topics.enable"):
        missing = [
            name
            for name in dict.fromkeys(wanted)
            if name is not None
            and ports.metadata.image.topic(name) is None
            and topic_name_error(name) is None
            and not is_internal(name)
        ]
        authorizer = ports.authorizer
        if missing and authorizer.enabled:
            missing = authorizer.allowed_names(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, missing)
            if not authorizer.authorize_cluster(ctx, AclOperation.CREATE):
                creatable = set(
                    authorizer.allowed_names(ctx, AclOperation.CREATE, ResourceType.TOPIC, missing)
                )
                refused = {name for name in missing if name not in creatable}
                missing = [name for name in missing if name in creatable]
        if missing:
            return _create_then_describe(ctx, request, missing, refused)
    return describe(ctx, request, refused)


async def _create_then_describe(
    ctx: RequestContext, request: msg.MetadataRequest, missing: list[str], refused: set[str]
) -> msg.MetadataResponse:
    from odradek.metadata.controller.topics import CreatableTopic  # (auto-creation is rare)

    await ctx.ports.metadata.create_topics([CreatableTopic(name) for name in missing])
    return describe(ctx, request, refused)


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


def describe(ctx: RequestContext, request: msg.MetadataRequest, refused: set[str]) -> msg.MetadataResponse:
    ports, version = ctx.ports, ctx.api_version
    image = ports.metadata.image
    authorizer = ports.authorizer
    response = msg.MetadataResponse(
        brokers=[
            msg.MetadataResponseBroker(node_id=b.broker_id, host=host, port=port, rack=b.rack)
            for b in image.live_brokers()
            for host, port in [broker_endpoint(ctx, b)]
        ],
        cluster_id=image.cluster_id,
        controller_id=image.controller_id,
        cluster_authorized_operations=authorized_operations_field(
            request.include_cluster_authorized_operations,
            authorizer.authorized_operations(ctx, ResourceType.CLUSTER, CLUSTER_NAME)
            if request.include_cluster_authorized_operations
            else 0,
        ),
    )
    topics = cast(list[Any], response.topics)  # MetadataResponseTopic or its cached bytes
    describe_topic = _TOPIC_PARTS.describer(ctx, image, request)
    if request.topics is None or (version == 0 and not request.topics):
        if authorizer.enabled:
            names = authorizer.allowed_names(
                ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, _TOPIC_PARTS.sorted_names(image)
            )
            topics.extend(describe_topic(image.topics_by_name[name]) for name in names)
        else:
            topics.extend(describe_topic(topic) for topic in _TOPIC_PARTS.sorted_topics(image))
        return response
    described = set(
        authorizer.allowed_names(
            ctx,
            AclOperation.DESCRIBE,
            ResourceType.TOPIC,
            [n for n in _wanted_names(image, request, version) or [] if n is not None],
        )
    )
    for wanted in request.topics:
        if wanted.name is None:
            found = image.topics_by_id.get(wanted.topic_id)
            if found is None or found.name not in described:
                topics.append(
                    msg.MetadataResponseTopic(
                        error_code=ErrorCode.UNKNOWN_TOPIC_ID, name=None, topic_id=wanted.topic_id
                    )
                )
                continue
            topics.append(describe_topic(found))
            continue
        if wanted.name not in described or wanted.name in refused:
            topics.append(
                msg.MetadataResponseTopic(
                    error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED, name=wanted.name, topic_id=ZERO_UUID
                )
            )
            continue
        named = image.topic(wanted.name)
        if named is not None:
            topics.append(describe_topic(named))
            continue
        error = (
            ErrorCode.INVALID_TOPIC_EXCEPTION
            if topic_name_error(wanted.name) is not None
            else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        )
        topics.append(msg.MetadataResponseTopic(error_code=error, name=wanted.name, topic_id=ZERO_UUID))
    return response


def _topic(
    ctx: RequestContext,
    image: ClusterImage,
    topic: TopicImage,
    request: msg.MetadataRequest,
    offline: Callable[[int], bool],
) -> msg.MetadataResponseTopic:
    partitions = []
    for index, p in sorted(topic.partitions.items()):
        offline_replicas: list[int] = list(image.offline_replicas(p))
        leader = image.live_leader(p)
        error = ErrorCode.NO_ERROR if leader >= 0 else ErrorCode.LEADER_NOT_AVAILABLE
        if offline(index):
            error = ErrorCode.KAFKA_STORAGE_ERROR
            offline_replicas.append(leader)
        partitions.append(
            msg.MetadataResponsePartition(
                error_code=error,
                partition_index=index,
                leader_id=leader,
                leader_epoch=p.leader_epoch,
                replica_nodes=list(p.replicas),
                isr_nodes=list(p.isr),
                offline_replicas=offline_replicas,
            )
        )
    return msg.MetadataResponseTopic(
        name=topic.name,
        topic_id=topic.topic_id,
        is_internal=topic.is_internal,
        partitions=partitions,
        topic_authorized_operations=authorized_operations_field(
            request.include_topic_authorized_operations,
            ctx.ports.authorizer.authorized_operations(ctx, ResourceType.TOPIC, topic.name)
            if request.include_topic_authorized_operations
            else 0,
        ),
    )


def _online(_: int) -> bool:
    return False


class _TopicParts:
    """Encoded topic parts, by topic id, API version and authorized-operations flag, each valid for
    one topic image and one set of brokers (it says who is live)."""

    def __init__(self) -> None:
        self._parts: dict[tuple[uuid.UUID, int, bool], tuple[TopicImage, object, Encoded]] = {}
        self._sorted: tuple[object, list[str], list[TopicImage]] = (None, [], [])

    def sorted_topics(self, image: ClusterImage) -> list[TopicImage]:
        by_name = image.topics_by_name
        if self._sorted[0] is not by_name:
            names = sorted(by_name)
            self._sorted = (by_name, names, [by_name[name] for name in names])
        return self._sorted[2]

    def sorted_names(self, image: ClusterImage) -> list[str]:
        self.sorted_topics(image)
        return self._sorted[1]

    def describer(
        self, ctx: RequestContext, image: ClusterImage, request: msg.MetadataRequest
    ) -> Callable[[TopicImage], Any]:
        ports, version = ctx.ports, ctx.api_version
        with_ops = request.include_topic_authorized_operations
        if ports.log_dirs.offline_dirs or (with_ops and ports.authorizer.enabled):
            # rare: which partitions are offline, or the principal's operations; not cached
            return self._uncached(ctx, ports, image, request)
        struct = _TOPIC_STRUCT
        flexible = msg.RESPONSE.is_flexible(version)
        brokers = image.brokers
        parts = self._parts
        if len(parts) > 4 * len(image.topics_by_id) + 64:  # forget deleted and changed topics
            parts.clear()

        def cached(topic: TopicImage) -> Encoded:
            key = (topic.topic_id, version, with_ops)
            hit = parts.get(key)
            if hit is not None and hit[0] is topic and hit[1] is brokers:
                return hit[2]
            encoded = Encoded(
                encode_struct(struct, version, flexible, _topic(ctx, image, topic, request, _online))
            )
            parts[key] = (topic, brokers, encoded)
            return encoded

        return cached

    @staticmethod
    def _uncached(
        ctx: RequestContext, ports: BrokerPorts, image: ClusterImage, request: msg.MetadataRequest
    ) -> Callable[[TopicImage], Any]:
        def uncached(topic: TopicImage) -> msg.MetadataResponseTopic:
            def offline(index: int) -> bool:
                hosted = ports.partitions.get(topic.name, index)
                return hosted is not None and hosted.log.offline

            return _topic(ctx, image, topic, request, offline if ports.log_dirs.offline_dirs else _online)

        return uncached


_TOPIC_STRUCT = nested_struct(msg.RESPONSE.root, "topics")
_TOPIC_PARTS = _TopicParts()


SPEC = ApiSpec(
    ApiKey.METADATA,
    0,
    13,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="auto topic creation (auto.create.topics.enable); topic ids; authorized operations",
)
