"""AddPartitionsToTxn (24), v0-v5: partitions a transaction will write to.

v0-v3 (clients): one transaction. Partitions of unknown topics get UNKNOWN_TOPIC_OR_PARTITION and
every other one OPERATION_NOT_ATTEMPTED, as in Kafka; otherwise the coordinator's answer applies to
all of them (PRODUCER_FENCED is INVALID_PRODUCER_EPOCH below v2). v4+ (brokers) batch transactions,
each answered on its own: `verify_only` (KIP-890 part 1) only asks, per partition, whether it is in
the transaction (TRANSACTION_ABORTABLE if not); otherwise the partitions are added, on behalf of a
transaction version 2 producer from v5 (KIP-890 part 2).
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.coordinator.transaction.metadata import TV_0, TV_2
from odradek.coordinator.transaction.results import error_for_client
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import add_partitions_to_txn as msg
from odradek.security.acl import AclOperation, ResourceType

BATCHED_SINCE = 4
TV2_SINCE = 5


async def handle(
    ctx: RequestContext, request: msg.AddPartitionsToTxnRequest
) -> msg.AddPartitionsToTxnResponse:
    if ctx.api_version < BATCHED_SINCE:
        results = await _transaction(
            ctx,
            request.v3_and_below_transactional_id,
            request.v3_and_below_producer_id,
            request.v3_and_below_producer_epoch,
            request.v3_and_below_topics,
            verify_only=False,
        )
        return msg.AddPartitionsToTxnResponse(results_by_topic_v3_and_below=results)
    response = msg.AddPartitionsToTxnResponse()
    for txn in request.transactions:
        results = await _transaction(
            ctx, txn.transactional_id, txn.producer_id, txn.producer_epoch, txn.topics, txn.verify_only
        )
        response.results_by_transaction.append(
            msg.AddPartitionsToTxnResult(transactional_id=txn.transactional_id, topic_results=results)
        )
    return response


async def _transaction(
    ctx: RequestContext,
    transactional_id: str,
    producer_id: int,
    producer_epoch: int,
    topics: list[msg.AddPartitionsToTxnTopic],
    verify_only: bool,
) -> list[msg.AddPartitionsToTxnTopicResult]:
    ports, version = ctx.ports, ctx.api_version
    service = ports.transactions.service
    partitions = [TopicPartition(t.name, p) for t in topics for p in t.partitions]
    image = ports.metadata.image  # the cluster's partitions, wherever they are led (not only here)
    unknown = {tp for tp in partitions if not image.has_partition(tp.topic, tp.partition)}
    errors: dict[TopicPartition, ErrorCode]
    authorizer = ports.authorizer
    # v4+ batches come from brokers verifying (verify_only): they need CLUSTER_ACTION; clients
    # need WRITE on the transactional id and on each topic
    if (
        verify_only
        and version >= BATCHED_SINCE
        and not authorizer.authorize_cluster(ctx, AclOperation.CLUSTER_ACTION)
    ):
        denied_all: ErrorCode | None = ErrorCode.CLUSTER_AUTHORIZATION_FAILED
    elif not authorizer.authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactional_id):
        denied_all = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    else:
        denied_all = None
    denied_topics = {
        t.name
        for t in topics
        if not authorizer.authorize(ctx, AclOperation.WRITE, ResourceType.TOPIC, t.name)
    }
    if denied_all is not None:
        errors = dict.fromkeys(partitions, denied_all)
    elif denied_topics:
        errors = {
            tp: ErrorCode.TOPIC_AUTHORIZATION_FAILED
            if tp.topic in denied_topics
            else ErrorCode.OPERATION_NOT_ATTEMPTED
            for tp in partitions
        }
    elif unknown:
        errors = {
            tp: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION if tp in unknown else ErrorCode.OPERATION_NOT_ATTEMPTED
            for tp in partitions
        }
    elif verify_only:
        errors = service.verify_partitions(transactional_id, producer_id, producer_epoch, partitions)
    else:
        tv = TV_2 if version >= TV2_SINCE else TV_0
        error = await service.add_partitions(transactional_id, producer_id, producer_epoch, partitions, tv)
        errors = dict.fromkeys(partitions, error)
    by_topic: dict[str, msg.AddPartitionsToTxnTopicResult] = {}
    for tp in partitions:
        out = by_topic.setdefault(tp.topic, msg.AddPartitionsToTxnTopicResult(name=tp.topic))
        out.results_by_partition.append(
            msg.AddPartitionsToTxnPartitionResult(
                partition_index=tp.partition,
                partition_error_code=error_for_client(ApiKey.ADD_PARTITIONS_TO_TXN, version, errors[tp]),
            )
        )
    return list(by_topic.values())


SPEC = ApiSpec(
    ApiKey.ADD_PARTITIONS_TO_TXN,
    0,
    5,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="v0-v3 clients; v4+ batched broker path with verify_only",
)
