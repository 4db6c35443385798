"""TxnOffsetCommit (28), v0-v4: a transactional producer commits a group's offsets in its transaction.

In Kafka's order: partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION; with
`transaction.partition.verification.enable` (KIP-890 part 1) the transaction coordinator must have the
group's `__consumer_offsets` partition in the producer's transaction (AddOffsetsToTxn) — else
INVALID_TXN_STATE (TRANSACTION_ABORTABLE from v4), INVALID_PRODUCER_EPOCH for a fenced producer,
COORDINATOR_NOT_AVAILABLE (retriable) while it cannot tell; then the group coordinator checks the
member and writes the offsets as pending in a transactional batch of the producer
(`odradek.coordinator.group.txn_offset_commit`). They become visible to OffsetFetch when the COMMIT
marker reaches the offsets partition, and vanish on ABORT. v5 (transaction version 2) is not served.

The verification is Kafka's for a coordinator's transactional write (CoordinatorRuntime's
scheduleTransactionalWriteOperation): unless the producer's transaction at its epoch has started on
the offsets partition already (then nothing is asked: the offsets join it), the partition's
verification state for the producer is taken (`Partition.start_producer_verification`, with no
sequence) before the coordinator is asked, and the runtime appends the offsets only if the partition
still holds its guard (`Partition.coordinator_verification_error`). A marker of the transaction
appended there while the coordinator answers (the transaction ended) voids the answer:
INVALID_TXN_STATE, nothing written, so the offsets cannot open a transaction nobody will end.
"""

from __future__ import annotations

from collections.abc import Callable

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.broker.group_coordinator import coordinator_context
from odradek.broker.transaction_coordinator import RETRIABLE_VERIFICATION_ERRORS
from odradek.coordinator.group.txn_offset_commit import failed_response
from odradek.coordinator.transaction.results import error_for_client
from odradek.metadata.topic_names import GROUP_METADATA_TOPIC_NAME
from odradek.model.errors import ErrorCode
from odradek.model.ids import NO_SEQUENCE
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
    error, verified = await _verify(ctx, checked)
    if error is not ErrorCode.NO_ERROR:
        response = failed_response(checked, error)
    else:
        response = await ports.groups.service.txn_offset_commit(coordinator_context(ctx), checked, verified)
    response.topics += refused
    return response


async def _verify(
    ctx: RequestContext, request: msg.TxnOffsetCommitRequest
) -> tuple[ErrorCode, Callable[[], ErrorCode] | None]:
    """Is the group's offsets partition in the producer's transaction? (Asked of the transaction
    coordinator, on this broker or another.) Also returns the check the append must pass (None when
    verification is off)."""
    ports = ctx.ports
    if not ports.transactions.verification_enabled():
        return ErrorCode.NO_ERROR, None
    index = ports.groups.service.partition_for(request.group_id)
    partition = ports.partitions.leader(GROUP_METADATA_TOPIC_NAME, index)
    if isinstance(partition, ErrorCode):  # not this broker's group: the client finds its coordinator
        return ErrorCode.NOT_COORDINATOR, None
    producer_id, producer_epoch = request.producer_id, request.producer_epoch
    guard = None
    if not partition.transaction_ongoing(producer_id, producer_epoch):
        guard = partition.start_producer_verification(
            producer_id, producer_epoch, NO_SEQUENCE, ports.clock.now_ms()
        )
        errors = await ports.transactions.verify(
            request.transactional_id, producer_id, producer_epoch, [partition.tp]
        )
        error = errors.get(partition.tp, ErrorCode.NO_ERROR)
        if error in RETRIABLE_VERIFICATION_ERRORS:
            return ErrorCode.COORDINATOR_NOT_AVAILABLE, None
        if error is ErrorCode.PRODUCER_FENCED:
            return ErrorCode.INVALID_PRODUCER_EPOCH, None
        if error is not ErrorCode.NO_ERROR:
            return error_for_client(ApiKey.TXN_OFFSET_COMMIT, ctx.api_version, error), None

    def still_verified() -> ErrorCode:
        if not partition.is_leader:  # leadership moved while the coordinator answered
            return ErrorCode.NOT_COORDINATOR
        return partition.coordinator_verification_error(producer_id, producer_epoch, guard)

    return ErrorCode.NO_ERROR, still_verified


SPEC = ApiSpec(
    ApiKey.TXN_OFFSET_COMMIT,
    0,
    4,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="offsets pending until the transaction's marker; v5 (transaction version 2) not served",
)
