"""OffsetForLeaderEpoch (23), v2-v4: where an epoch's log ends (KIP-101, KIP-320).

Consumers call it to check their position after a leader change (a position beyond the end of its
epoch means the log was truncated under them); followers to find where to truncate. The answer for
epoch E is the largest epoch <= E this leader has written and the offset where it ends (the start of
the next epoch, or the log end offset for the current one); -1 and -1 when the log knows no epoch
<= E. Per partition, in Kafka's order: UNKNOWN_TOPIC_OR_PARTITION; FENCED_LEADER_EPOCH /
UNKNOWN_LEADER_EPOCH when ``current_leader_epoch`` (if not -1) is older / newer than the partition's;
NOT_LEADER_OR_FOLLOWER unless the request is a debugging one (``replica_id`` -2, v3+).
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import offset_for_leader_epoch as msg
from odradek.replication.partition import Partition
from odradek.security.acl import CLUSTER_NAME, AclOperation, ResourceType

NO_EPOCH = -1
DEBUGGING_REPLICA_ID = -2


def handle(ctx: RequestContext, request: msg.OffsetForLeaderEpochRequest) -> msg.OffsetForLeaderEpochResponse:
    replicas = ctx.ports.partitions
    only_leader = ctx.api_version < 3 or request.replica_id != DEBUGGING_REPLICA_ID
    response = msg.OffsetForLeaderEpochResponse()
    authorizer = ctx.ports.authorizer
    # Kafka: CLUSTER_ACTION (brokers) covers every topic, else DESCRIBE on each (consumers, KIP-320)
    cluster_ok = bool(  # not audited when denied (logIfDenied=false in Kafka)
        authorizer.allowed_names(ctx, AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, [CLUSTER_NAME])
    )
    for topic in request.topics:
        out = msg.OffsetForLeaderTopicResult(topic=topic.topic)
        response.topics.append(out)
        allowed = cluster_ok or authorizer.authorize(
            ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, topic.topic
        )
        for part in topic.partitions:
            if not allowed:
                out.partitions.append(
                    msg.EpochEndOffset(
                        partition=part.partition, error_code=ErrorCode.TOPIC_AUTHORIZATION_FAILED
                    )
                )
                continue
            partition = replicas.get(topic.topic, part.partition)
            out.partitions.append(end_offset(partition, part, only_leader))
    return response


def end_offset(
    partition: Partition | None, requested: msg.OffsetForLeaderPartition, only_leader: bool
) -> msg.EpochEndOffset:
    result = msg.EpochEndOffset(partition=requested.partition)
    if partition is None:
        result.error_code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        return result
    current = requested.current_leader_epoch
    if current not in (NO_EPOCH, partition.leader_epoch):
        fenced = current < partition.leader_epoch
        result.error_code = ErrorCode.FENCED_LEADER_EPOCH if fenced else ErrorCode.UNKNOWN_LEADER_EPOCH
        return result
    if only_leader and not partition.is_leader:
        result.error_code = ErrorCode.NOT_LEADER_OR_FOLLOWER
        return result
    result.leader_epoch, result.end_offset = partition.log.end_offset_for_epoch(requested.leader_epoch)
    return result


SPEC = ApiSpec(
    ApiKey.OFFSET_FOR_LEADER_EPOCH,
    2,
    4,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="from the partition's leader-epoch cache; current_leader_epoch fencing",
)
