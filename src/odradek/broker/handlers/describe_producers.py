"""DescribeProducers (61), v0: the active idempotent/transactional producers of partitions.

Per partition, from its producer state (storage/producer_state.py): producer id and epoch, the last
sequence written, the last write time, the coordinator epoch of the last marker and the first offset
of the open transaction (-1 if none). UNKNOWN_TOPIC_OR_PARTITION for a partition this broker does
not host; NOT_LEADER_OR_FOLLOWER if it is not its leader.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import describe_producers as msg
from odradek.security.acl import AclOperation, ResourceType


def handle(ctx: RequestContext, request: msg.DescribeProducersRequest) -> msg.DescribeProducersResponse:
    response = msg.DescribeProducersResponse()
    for topic in request.topics:
        out = msg.TopicResponse(name=topic.name)
        response.topics.append(out)
        allowed = ctx.ports.authorizer.authorize(ctx, AclOperation.READ, ResourceType.TOPIC, topic.name)
        for index in topic.partition_indexes:
            result = msg.PartitionResponse(partition_index=index)
            out.partitions.append(result)
            if not allowed:
                result.error_code = ErrorCode.TOPIC_AUTHORIZATION_FAILED
                continue
            partition = ctx.ports.partitions.leader(topic.name, index)
            if isinstance(partition, ErrorCode):
                result.error_code = partition
                continue
            result.active_producers = [
                msg.ProducerState(
                    producer_id=entry.producer_id,
                    producer_epoch=entry.producer_epoch,
                    last_sequence=entry.last_seq,
                    last_timestamp=entry.last_timestamp,
                    coordinator_epoch=entry.coordinator_epoch,
                    current_txn_start_offset=entry.current_txn_first_offset,
                )
                for entry in sorted(partition.log.producer_state, key=lambda e: e.producer_id)
            ]
    return response


SPEC = ApiSpec(
    ApiKey.DESCRIBE_PRODUCERS,
    0,
    0,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="active producers per partition: epoch, last sequence, open transaction",
)
