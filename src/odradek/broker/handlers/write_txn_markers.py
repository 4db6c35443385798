"""WriteTxnMarkers (27), v1-v2: a transaction coordinator on another broker asks this one, the
leader of some of its transaction's partitions, to write their COMMIT/ABORT markers.

Needs CLUSTER_ACTION on the cluster (brokers hold it; with an authorizer, clients do not): refused,
every partition of every marker answers CLUSTER_AUTHORIZATION_FAILED and nothing is written. Else
each marker is written on the partitions this broker leads, as the local coordinator writes its
own (`BrokerTransactionCoordinator.write_markers_here`: producer-epoch checks, a `__consumer_offsets`
partition's marker through the group coordinator), and the request is answered once every marker is
committed (an acks=all write). Per partition: NOT_LEADER_OR_FOLLOWER when this broker does not lead
it (the coordinator sends it again to the new leader), UNKNOWN_TOPIC_OR_PARTITION for a partition
that does not exist, INVALID_PRODUCER_EPOCH for a marker older than the producer's epoch.
"""

from __future__ import annotations

import asyncio

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import write_txn_markers as msg
from odradek.security.acl import AclOperation


async def handle(ctx: RequestContext, request: msg.WriteTxnMarkersRequest) -> msg.WriteTxnMarkersResponse:
    if not ctx.ports.authorizer.authorize_cluster(ctx, AclOperation.CLUSTER_ACTION):
        return _answer(request, [{} for _ in request.markers], ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
    transactions = ctx.ports.transactions
    results = await asyncio.gather(
        *(
            transactions.write_markers_here(
                marker.producer_id,
                marker.producer_epoch,
                marker.transaction_result,
                marker.coordinator_epoch,
                [TopicPartition(t.name, p) for t in marker.topics for p in t.partition_indexes],
            )
            for marker in request.markers
        )
    )
    return _answer(request, results, ErrorCode.UNKNOWN_SERVER_ERROR)


def _answer(
    request: msg.WriteTxnMarkersRequest, errors: list[dict[TopicPartition, ErrorCode]], missing: ErrorCode
) -> msg.WriteTxnMarkersResponse:
    return msg.WriteTxnMarkersResponse(
        markers=[
            msg.WritableTxnMarkerResult(
                producer_id=marker.producer_id,
                topics=[
                    msg.WritableTxnMarkerTopicResult(
                        name=topic.name,
                        partitions=[
                            msg.WritableTxnMarkerPartitionResult(
                                partition_index=p,
                                error_code=found.get(TopicPartition(topic.name, p), missing),
                            )
                            for p in topic.partition_indexes
                        ],
                    )
                    for topic in marker.topics
                ],
            )
            for marker, found in zip(request.markers, errors, strict=True)
        ]
    )


SPEC = ApiSpec(
    ApiKey.WRITE_TXN_MARKERS,
    1,
    2,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="from other brokers' transaction coordinators (CLUSTER_ACTION); answered once committed",
)
