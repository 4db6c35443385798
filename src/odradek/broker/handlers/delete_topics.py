"""DeleteTopics (20), v1-v6: delete topics by name (v1-v5) or by name or topic id (v6).

`metadata.controller.delete_topics` decides: UNKNOWN_TOPIC_OR_PARTITION for an unknown name,
UNKNOWN_TOPIC_ID for an unknown id, INVALID_REQUEST for a topic named twice or a v6 entry with both
or neither of name and id, TOPIC_DELETION_DISABLED for every topic when ``delete.topic.enable`` is
false (INVALID_REQUEST before v3, whose clients do not know that code, as Kafka does).

Unlike Kafka, internal topics (``__consumer_offsets``, ``__transaction_state``...) cannot be deleted:
they hold the coordinators' state, which the broker rebuilds from them, and a deleted one would be
recreated empty. They get INVALID_TOPIC_EXCEPTION.

Deletion is synchronous: once the RemoveTopicRecord is durable, the broker drops the partitions (every
fetch waiting on them wakes and sees UNKNOWN_TOPIC_OR_PARTITION), renames their directories to
``-delete`` and removes them in a worker thread before answering; the group coordinator drops the
offsets committed on those topics (tombstones in ``__consumer_offsets``, see
`Broker._apply_locked` and `coordinator/group/deleted_topics.py`) before the answer too.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.metadata.controller.result import ControllerResult
from odradek.metadata.controller.topics import DeleteTopicRef, DeleteTopicResult, delete_topics
from odradek.metadata.image import ClusterImage
from odradek.metadata.records import RemoveTopicRecord
from odradek.metadata.static_config import StaticBrokerConfig
from odradek.metadata.topic_names import is_internal
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import ZERO_UUID
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import delete_topics as msg
from odradek.security.acl import AclOperation, ResourceType

FIRST_VERSION_WITH_DELETION_DISABLED = 3


async def handle(ctx: RequestContext, request: msg.DeleteTopicsRequest) -> msg.DeleteTopicsResponse:
    version = ctx.api_version
    if version >= 6:
        refs = [DeleteTopicRef(t.name, t.topic_id) for t in request.topics]
    else:
        refs = [DeleteTopicRef(name) for name in request.topic_names]
    static = ctx.ports.config.static
    authorizer = ctx.ports.authorizer
    denied: list[msg.DeletableTopicResult] = []
    if authorizer.enabled:
        image = ctx.ports.metadata.image
        allowed_refs = []
        for ref in refs:
            topic = (
                image.topic(ref.name)
                if ref.name
                else image.topics_by_id.get(ref.topic_id)
                if ref.topic_id
                else None
            )
            name = ref.name or (topic.name if topic is not None else None)
            if name is None or authorizer.authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, name):
                allowed_refs.append(ref)
            else:
                denied.append(
                    msg.DeletableTopicResult(
                        name=ref.name if ref.name or version < 6 else None,
                        topic_id=ref.topic_id or ZERO_UUID,
                        error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED,
                        error_message="Authorization failed.",
                    )
                )
        refs = allowed_refs
    image = ctx.ports.metadata.image
    kept_refs = []
    for ref in refs:  # controller_mutation_rate (KIP-599): strict from v5
        topic = image.topic(ref.name) if ref.name else image.topics_by_id.get(ref.topic_id)
        partitions = len(topic.partitions) if topic is not None else 0
        if partitions and not ctx.ports.quotas.try_mutation(ctx, partitions, strict=version >= 5):
            denied.append(
                msg.DeletableTopicResult(
                    name=ref.name if ref.name or version < 6 else None,
                    topic_id=ref.topic_id or ZERO_UUID,
                    error_code=ErrorCode.THROTTLING_QUOTA_EXCEEDED,
                    error_message="The throttling quota has been exceeded.",
                )
            )
        else:
            kept_refs.append(ref)
    refs = kept_refs
    ctx.ports.quotas.mutation_throttle_ms(ctx)
    results = await ctx.ports.metadata.run_controller(
        lambda image: delete_unless_internal(image, static, refs)
    )
    return msg.DeleteTopicsResponse(responses=[_result(r, version) for r in results] + denied)


def delete_unless_internal(
    image: ClusterImage, static: StaticBrokerConfig, refs: list[DeleteTopicRef]
) -> ControllerResult[tuple[DeleteTopicResult, ...]]:
    """`delete_topics`, with internal topics refused (and their RemoveTopicRecords dropped)."""
    result = delete_topics(image, static, refs)
    internal_ids = {
        r.topic_id
        for r in result.response
        if r.error_code == ErrorCode.NO_ERROR and r.name is not None and is_internal(r.name)
    }
    if not internal_ids:
        return result
    records = tuple(
        r for r in result.records if not (isinstance(r, RemoveTopicRecord) and r.topic_id in internal_ids)
    )
    responses = tuple(
        DeleteTopicResult(
            r.name,
            r.topic_id,
            ErrorCode.INVALID_TOPIC_EXCEPTION,
            f"Topic {r.name} is an internal topic and may not be deleted.",
        )
        if r.topic_id in internal_ids and r.error_code == ErrorCode.NO_ERROR
        else r
        for r in result.response
    )
    return ControllerResult(records, responses)


def _result(result: DeleteTopicResult, version: int) -> msg.DeletableTopicResult:
    code, message = result.error_code, result.error_message
    if code == ErrorCode.TOPIC_DELETION_DISABLED and version < FIRST_VERSION_WITH_DELETION_DISABLED:
        code = ErrorCode.INVALID_REQUEST
    return msg.DeletableTopicResult(
        name=result.name, topic_id=result.topic_id, error_code=code, error_message=message
    )


SPEC = ApiSpec(
    ApiKey.DELETE_TOPICS,
    1,
    6,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes=(
        "by name or topic id (v6); delete.topic.enable; internal topics refused; "
        "data and committed offsets removed at once"
    ),
)
