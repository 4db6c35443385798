"""ListOffsets (2), v1-v10: an offset per partition for a timestamp or a special position.

Timestamps: -2 EARLIEST (log start offset), -1 LATEST (high watermark; last stable offset for
read_committed), -3 MAX_TIMESTAMP (the record with the largest timestamp, KIP-734), -4
EARLIEST_LOCAL (v8+, = earliest: no tiered storage), -5 LATEST_TIERED (v9+, -1: nothing is
tiered); any other value: the first record whose timestamp is >= it (offset -1 if none). Errors:
UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER, FENCED/UNKNOWN_LEADER_EPOCH, INVALID_REQUEST
for a partition listed twice.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import list_offsets as msg
from odradek.security.acl import AclOperation, ResourceType

LATEST = -1
EARLIEST = -2
MAX_TIMESTAMP = -3
EARLIEST_LOCAL = -4
LATEST_TIERED = -5
READ_COMMITTED = 1


def handle(ctx: RequestContext, request: msg.ListOffsetsRequest) -> msg.ListOffsetsResponse:
    ports = ctx.ports
    response = msg.ListOffsetsResponse()
    for topic in request.topics:
        out = msg.ListOffsetsTopicResponse(name=topic.name)
        response.topics.append(out)
        seen: set[int] = set()
        allowed = ports.authorizer.authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, topic.name)
        for part in topic.partitions:
            result = msg.ListOffsetsPartitionResponse(
                partition_index=part.partition_index, timestamp=-1, offset=-1, leader_epoch=-1
            )
            out.partitions.append(result)
            if not allowed:
                result.error_code = ErrorCode.TOPIC_AUTHORIZATION_FAILED
                continue
            if part.partition_index in seen:
                result.error_code = ErrorCode.INVALID_REQUEST
                continue
            seen.add(part.partition_index)
            partition = ports.partitions.leader(topic.name, part.partition_index, part.current_leader_epoch)
            if isinstance(partition, ErrorCode):
                result.error_code = partition
                continue
            log = partition.log
            ts = part.timestamp
            if ts in (EARLIEST, EARLIEST_LOCAL):
                result.offset = log.log_start_offset
                result.leader_epoch = _epoch(log.epoch_for_offset(result.offset))
            elif ts == LATEST:
                committed = request.isolation_level == READ_COMMITTED
                result.offset = partition.last_stable_offset if committed else log.high_watermark
                result.leader_epoch = log.latest_epoch
            elif ts == LATEST_TIERED:
                pass  # nothing is tiered: offset -1
            elif ts == MAX_TIMESTAMP:
                entry = log.max_timestamp_entry()
                if entry is not None:
                    result.offset, result.timestamp, result.leader_epoch = entry
            elif ts < 0:
                result.error_code = ErrorCode.INVALID_REQUEST
            else:
                found = log.offset_for_timestamp(ts)
                if found is not None and found[0] < log.high_watermark:
                    result.offset, result.timestamp, result.leader_epoch = found
    return response


def _epoch(epoch: int | None) -> int:
    return -1 if epoch is None else epoch


SPEC = ApiSpec(
    ApiKey.LIST_OFFSETS,
    1,
    10,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="earliest, latest (LSO at read_committed), by timestamp, max timestamp (KIP-734)",
)
