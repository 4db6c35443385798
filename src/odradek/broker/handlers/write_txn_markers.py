"""WriteTxnMarkers (27), v1-v2: served only to refuse clients.

In Kafka this is how a transaction coordinator asks partition leaders on other brokers to write
COMMIT/ABORT markers, and it needs CLUSTER_ACTION on the cluster. On a single node the coordinator
writes its markers itself (`broker/transaction_coordinator.py`), so every request here comes from a
client, and is answered as Kafka answers an unauthorized one: CLUSTER_AUTHORIZATION_FAILED for every
partition of every marker. Nothing is written.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import write_txn_markers as msg


def handle(ctx: RequestContext, request: msg.WriteTxnMarkersRequest) -> msg.WriteTxnMarkersResponse:
    return msg.WriteTxnMarkersResponse(
        markers=[
            msg.WritableTxnMarkerResult(
                producer_id=marker.producer_id,
                topics=[
                    msg.WritableTxnMarkerTopicResult(
                        name=topic.name,
                        partitions=[
                            msg.WritableTxnMarkerPartitionResult(
                                partition_index=p, error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED
                            )
                            for p in topic.partition_indexes
                        ],
                    )
                    for topic in marker.topics
                ],
            )
            for marker in request.markers
        ]
    )


SPEC = ApiSpec(
    ApiKey.WRITE_TXN_MARKERS,
    1,
    2,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="broker-to-broker only: clients get CLUSTER_AUTHORIZATION_FAILED",
)
