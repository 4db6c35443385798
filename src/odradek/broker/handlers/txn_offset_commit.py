"""TxnOffsetCommit (28), v0-v4: a transactional producer commits a group's offsets in its transaction.

In Kafka's order: partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION; with
`transaction.partition.verification.enable` (KIP-890 part 1) the transaction coordinator must have the
group's `__consumer_offsets` partition in the producer's transaction (AddOffsetsToTxn) — else
INVALID_TXN_STATE (TRANSACTION_ABORTABLE from v4), INVALID_PRODUCER_EPOCH for a fenced producer,
COORDINATOR_NOT_AVAILABLE (retriable) while it cannot tell; then the group coordinator checks the
member and writes the offsets as pending in a transactional batch of the producer
(`odradek.coordinator.group.txn_offset_commit`). They become visible to OffsetFetch when the COMMIT
marker reaches the offsets partition, and vanish on ABORT. v5 (transaction version 2) is not served.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.broker.transaction_coordinator import RETRIABLE_VERIFICATION_ERRORS
from odradek.coordinator.group.txn_offset_commit import failed_response
from odradek.coordinator.transaction.results import error_for_client
from odradek.metadata.topic_names import GROUP_METADATA_TOPIC_NAME
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import txn_offset_commit as msg
from odradek.security.acl import AclOperation, ResourceType


async def handle(ctx: RequestContext, request: msg.TxnOffsetCommitRequest) -> msg.TxnOffsetCommitResponse:
    ports = ctx.ports
    image = ports.metadata.image
    refused: list[msg.TxnOffsetCommitResponseTopic] = []
    accepted: list[msg.TxnOffsetCommitRequestTopic] = []
    authorizer = ports.authorizer
    if not authorizer.authorize(
        ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactional_id
    ):
        return failed_response(request, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    if not authorizer.authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.group_id):
        return failed_response(request, ErrorCode.GROUP_AUTHORIZATION_FAILED)
    for topic in request.topics:
        if not authorizer.authorize(ctx, AclOperation.READ, ResourceType.TOPIC, topic.name):
            refused.append(
                msg.TxnOffsetCommitResponseTopic(
                    name=topic.name,
                    partitions=[
                        msg.TxnOffsetCommitResponsePartition(
                            partition_index=p.partition_index, error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED
                        )
                        for p in topic.partitions
                    ],
                )
            )
            continue
        found = image.topic(topic.name)
        known = [p for p in topic.partitions if found is not None and p.partition_index in found.partitions]
        unknown = [p for p in topic.partitions if p not in known]
        if known:
            accepted.append(msg.TxnOffsetCommitRequestTopic(name=topic.name, partitions=known))
        if unknown:
            refused.append(
                msg.TxnOffsetCommitResponseTopic(
                    name=topic.name,
                    partitions=[
                        msg.TxnOffsetCommitResponsePartition(
                            partition_index=p.partition_index, error_code=ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                        )
                        for p in unknown
                    ],
                )
            )
    if not accepted:
        return msg.TxnOffsetCommitResponse(topics=refused)
    checked = msg.TxnOffsetCommitRequest(
        transactional_id=request.transactional_id,
        group_id=request.group_id,
        producer_id=request.producer_id,
        producer_epoch=request.producer_epoch,
        generation_id=request.generation_id,
        member_id=request.member_id,
        group_instance_id=request.group_instance_id,
        topics=accepted,
    )
    error = await _verify(ctx, checked)
    if error is not ErrorCode.NO_ERROR:
        response = failed_response(checked, error)
    else:
        response = await ports.groups.service.txn_offset_commit(coordinator_context(ctx), checked)
    response.topics += refused
    return response


async def _verify(ctx: RequestContext, request: msg.TxnOffsetCommitRequest) -> ErrorCode:
    """Is the group's offsets partition in the producer's transaction? (Asked of the transaction
    coordinator, on this broker or another.)"""
    ports = ctx.ports
    if not ports.transactions.verification_enabled():
        return ErrorCode.NO_ERROR
    offsets = TopicPartition(GROUP_METADATA_TOPIC_NAME, ports.groups.service.partition_for(request.group_id))
    errors = await ports.transactions.verify(
        request.transactional_id, request.producer_id, request.producer_epoch, [offsets]
    )
    error = errors.get(offsets, ErrorCode.NO_ERROR)
    if error in RETRIABLE_VERIFICATION_ERRORS:
        return ErrorCode.COORDINATOR_NOT_AVAILABLE
    if error is ErrorCode.PRODUCER_FENCED:
        return ErrorCode.INVALID_PRODUCER_EPOCH
    return error_for_client(ApiKey.TXN_OFFSET_COMMIT, ctx.api_version, error)


SPEC = ApiSpec(
    ApiKey.TXN_OFFSET_COMMIT,
    0,
    4,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="offsets pending until the transaction's marker; v5 (transaction version 2) not served",
)
