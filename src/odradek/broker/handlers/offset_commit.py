"""OffsetCommit (8), v2-v10: store a group's consumed positions in `__consumer_offsets`.

As in Kafka, the broker first drops the partitions that do not exist — UNKNOWN_TOPIC_OR_PARTITION for
an unknown topic or partition, UNKNOWN_TOPIC_ID for an unknown topic id (v10) — and the coordinator
checks the rest (member, generation or member epoch, metadata size:
`odradek.coordinator.group.offset_commit`). When nothing is left, the answer comes without asking the
coordinator. v2-v4 may give a retention time for the offsets; v10 names topics by id.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Collection

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.metadata.image import ClusterImage
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import offset_commit as msg
from odradek.protocol.offset_commit import parse_offset_commit_request, write_offset_commit_response
from odradek.security.acl import AclOperation, ResourceType

FIRST_VERSION_WITH_TOPIC_IDS = 10


def existing_partitions(image: ClusterImage, name: str | None) -> Collection[int]:
    """The partition ids of topic `name` (none when it does not exist)."""
    topic = image.topic(name) if name is not None else None
    return () if topic is None else topic.partitions.keys()


def handle(
    ctx: RequestContext, request: msg.OffsetCommitRequest
) -> msg.OffsetCommitResponse | Awaitable[msg.OffsetCommitResponse]:
    """The answer, or (records not yet committed: more than one replica, or an fsync to wait for)
    an awaitable giving it: no coroutine for a commit that is committed inside its append."""
    image = ctx.ports.metadata.image
    by_id = ctx.api_version >= FIRST_VERSION_WITH_TOPIC_IDS
    refused: list[msg.OffsetCommitResponseTopic] = []
    accepted: list[msg.OffsetCommitRequestTopic] = []
    authorizer = ctx.ports.authorizer
    checked = authorizer.enabled
    if checked and not authorizer.authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.group_id):
        return msg.OffsetCommitResponse(
            topics=[
                _topic(
                    t.name,
                    t.topic_id,
                    [p.partition_index for p in t.partitions],
                    ErrorCode.GROUP_AUTHORIZATION_FAILED,
                )
                for t in request.topics
            ]
        )
    for topic in request.topics:
        if by_id:
            found = image.topics_by_id.get(topic.topic_id)
            name = found.name if found is not None else None
        else:
            name = topic.name
        if (
            checked
            and name is not None
            and not authorizer.authorize(ctx, AclOperation.READ, ResourceType.TOPIC, name)
        ):
            error = ErrorCode.TOPIC_AUTHORIZATION_FAILED
            refused.append(
                _topic(topic.name, topic.topic_id, [p.partition_index for p in topic.partitions], error)
            )
            continue
        found = image.topics_by_name.get(name) if name is not None else None  # `existing_partitions`
        exists = () if found is None else found.partitions
        for p in topic.partitions:
            if p.partition_index not in exists:
                break
        else:  # the usual case: every partition exists, the topic goes as it came (no list built)
            accepted.append(topic)
            continue
        unknown = [p for p in topic.partitions if p.partition_index not in exists]
        error = ErrorCode.UNKNOWN_TOPIC_ID if name is None else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        refused.append(_topic(topic.name, topic.topic_id, [p.partition_index for p in unknown], error))
        known = [p for p in topic.partitions if p.partition_index in exists]
        if known:
            accepted.append(msg.OffsetCommitRequestTopic(topic.name, topic.topic_id, known))
    if not accepted:
        return msg.OffsetCommitResponse(topics=refused)
    request.topics = accepted
    answer = ctx.ports.groups.service.offset_commit_now(coordinator_context(ctx), request)
    if not isinstance(answer, msg.OffsetCommitResponse):
        return _with_refused_later(answer, refused)
    if refused or len(answer.topics) > 1:
        answer.topics = _merge(answer.topics + refused)
    return answer


async def _with_refused_later(
    answer: Awaitable[msg.OffsetCommitResponse], refused: list[msg.OffsetCommitResponseTopic]
) -> msg.OffsetCommitResponse:
    response = await answer
    if refused or len(response.topics) > 1:
        response.topics = _merge(response.topics + refused)
    return response


def _topic(
    name: str, topic_id: uuid.UUID, partitions: list[int], error: ErrorCode
) -> msg.OffsetCommitResponseTopic:
    return msg.OffsetCommitResponseTopic(
        name=name,
        topic_id=topic_id,
        partitions=[msg.OffsetCommitResponsePartition(p, error) for p in partitions],
    )


def _merge(topics: list[msg.OffsetCommitResponseTopic]) -> list[msg.OffsetCommitResponseTopic]:
    """One entry per topic, as Kafka's response builder answers."""
    merged: dict[tuple[str, uuid.UUID], msg.OffsetCommitResponseTopic] = {}
    for topic in topics:
        key = (topic.name, topic.topic_id)
        if key in merged:
            merged[key].partitions.extend(topic.partitions)
        else:
            merged[key] = topic
    return list(merged.values())


SPEC = ApiSpec(
    ApiKey.OFFSET_COMMIT,
    2,
    10,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    decode=parse_offset_commit_request,
    encode=write_offset_commit_response,
    notes="unknown topics/partitions refused by the broker; generation or member epoch checked; v10 ids",
)
