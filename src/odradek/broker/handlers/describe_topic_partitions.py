"""DescribeTopicPartitions (75), v0: topics with their partitions, paginated (KIP-966).

The Java AdminClient (3.8+) describes topics with it. Topics are answered in name order: the
requested ones, or every topic when the list is empty. A page holds at most
min(``response_partition_limit``, 2000) partitions (2000 is Kafka's default
``max.request.partition.size.limit``); when a page fills up, ``next_cursor`` names the first topic
and partition of the next one, which the client sends back as ``cursor`` (topics before the cursor's
topic are skipped and that topic starts at the cursor's partition). A cursor naming a topic missing
from a non-empty topic list is INVALID_REQUEST. Requested topics that do not exist get
UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION for illegal names); with an empty list only
existing topics are listed. Partitions carry the leader, epochs, replicas, ISR, ELR and offline
replicas; ``topic_authorized_operations`` is every TOPIC operation (no authorizer).

Each partition's encoded answer is kept per topic image (`_PartitionParts`, as the Metadata handler
keeps whole topics): a page of 2000 partitions is put together from cached bytes, so describing
20,000 partitions costs about what reading them does.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left
from collections.abc import Callable
from typing import Any, cast

from odradek.broker.api import ApiSpec
from odradek.broker.authorized_operations import TOPIC_OPERATIONS, bit_field
from odradek.broker.context import RequestContext
from odradek.metadata.image import ClusterImage, PartitionRegistration, TopicImage
from odradek.metadata.topic_names import is_internal, topic_name_error
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import ZERO_UUID
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.codec import Encoded, encode_struct
from odradek.protocol.messages import describe_topic_partitions as msg
from odradek.protocol.schema import nested_struct
from odradek.security.acl import AclOperation, ResourceType

MAX_PARTITIONS_PER_RESPONSE = 2000


def handle(
    ctx: RequestContext, request: msg.DescribeTopicPartitionsRequest
) -> msg.DescribeTopicPartitionsResponse:
    """DESCRIBE on each topic: left out of an all-topics answer, TOPIC_AUTHORIZATION_FAILED when named."""
    authorizer = ctx.ports.authorizer
    response = describe(ctx.ports.metadata.image, request)
    if authorizer.enabled:
        named = bool(request.topics)
        kept = []
        for topic in response.topics:
            if topic.name is None or authorizer.authorize(
                ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, topic.name
            ):
                topic.topic_authorized_operations = authorizer.authorized_operations(
                    ctx, ResourceType.TOPIC, topic.name or ""
                )
                kept.append(topic)
            elif named:
                kept.append(
                    msg.DescribeTopicPartitionsResponseTopic(
                        error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED, name=topic.name
                    )
                )
        response.topics = kept
    return response


def describe(
    image: ClusterImage, request: msg.DescribeTopicPartitionsRequest
) -> msg.DescribeTopicPartitionsResponse:
    cursor = request.cursor
    start_topic = cursor.topic_name if cursor is not None else ""
    every_topic = not request.topics
    candidates = image.topics_by_name if every_topic else {t.name for t in request.topics}
    if every_topic:
        ordered = _PARTS.sorted_names(image)
        names = ordered[bisect_left(ordered, start_topic) :]
    else:
        names = sorted(name for name in candidates if name >= start_topic)
    if cursor is not None and not every_topic and cursor.topic_name not in names:
        return msg.DescribeTopicPartitionsResponse(
            topics=[
                msg.DescribeTopicPartitionsResponseTopic(error_code=ErrorCode.INVALID_REQUEST, name=t.name)
                for t in request.topics
            ]
        )
    remaining = min(request.response_partition_limit, MAX_PARTITIONS_PER_RESPONSE)
    response = msg.DescribeTopicPartitionsResponse()
    parts = _PARTS.of(image)
    for name in names:
        if remaining <= 0:
            response.next_cursor = msg.Cursor(topic_name=name, partition_index=0)
            break
        topic = image.topic(name)
        if topic is None:
            if not every_topic:
                response.topics.append(_missing(name))
            continue
        first = cursor.partition_index if cursor is not None and name == cursor.topic_name else 0
        encoded = parts(topic)  # partition i at [i]: a topic's partitions are 0..n-1
        first = max(first, 0)
        page = encoded[first : first + remaining]
        response.topics.append(_topic(topic, page))
        if first + len(page) < len(encoded):
            response.next_cursor = msg.Cursor(topic_name=name, partition_index=first + len(page))
            break
        remaining -= len(page)
    return response


def _missing(name: str) -> msg.DescribeTopicPartitionsResponseTopic:
    invalid = topic_name_error(name) is not None
    return msg.DescribeTopicPartitionsResponseTopic(
        error_code=ErrorCode.INVALID_TOPIC_EXCEPTION if invalid else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
        name=name,
        topic_id=ZERO_UUID,
        is_internal=is_internal(name),
    )


def _partition(
    image: ClusterImage, index: int, p: PartitionRegistration
) -> msg.DescribeTopicPartitionsResponsePartition:
    leader = image.live_leader(p)
    return msg.DescribeTopicPartitionsResponsePartition(
        error_code=ErrorCode.NO_ERROR if leader >= 0 else ErrorCode.LEADER_NOT_AVAILABLE,
        partition_index=index,
        leader_id=leader,
        leader_epoch=p.leader_epoch,
        replica_nodes=list(p.replicas),
        isr_nodes=list(p.isr),
        eligible_leader_replicas=list(p.elr),
        last_known_elr=list(p.last_known_elr),
        offline_replicas=list(image.offline_replicas(p)),
    )


def _topic(topic: TopicImage, partitions: list[Encoded]) -> msg.DescribeTopicPartitionsResponseTopic:
    return msg.DescribeTopicPartitionsResponseTopic(
        name=topic.name,
        topic_id=topic.topic_id,
        is_internal=topic.is_internal,
        partitions=cast(list[Any], partitions),
        topic_authorized_operations=bit_field(TOPIC_OPERATIONS),
    )


class _PartitionParts:
    """Each topic's encoded partitions, valid for one topic image and one set of brokers."""

    def __init__(self) -> None:
        self._parts: dict[uuid.UUID, tuple[TopicImage, object, list[Encoded]]] = {}
        self._sorted: tuple[object, list[str]] = (None, [])

    def sorted_names(self, image: ClusterImage) -> list[str]:
        by_name = image.topics_by_name
        if self._sorted[0] is not by_name:
            self._sorted = (by_name, sorted(by_name))
        return self._sorted[1]

    def of(self, image: ClusterImage) -> Callable[[TopicImage], list[Encoded]]:
        parts, brokers = self._parts, image.brokers
        if len(parts) > 2 * len(image.topics_by_id) + 64:  # forget deleted and changed topics
            parts.clear()

        def encoded(topic: TopicImage) -> list[Encoded]:
            hit = parts.get(topic.topic_id)
            if hit is not None and hit[0] is topic and hit[1] is brokers:
                return hit[2]
            made = [
                Encoded(encode_struct(_PARTITION_STRUCT, 0, True, _partition(image, i, topic.partitions[i])))
                for i in range(len(topic.partitions))
            ]
            parts[topic.topic_id] = (topic, brokers, made)
            return made

        return encoded


_PARTITION_STRUCT = nested_struct(msg.RESPONSE.root, "topics", "partitions")
_PARTS = _PartitionParts()


SPEC = ApiSpec(
    ApiKey.DESCRIBE_TOPIC_PARTITIONS,
    0,
    0,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="paginated with cursors (at most 2000 partitions per response); ELR fields",
)
