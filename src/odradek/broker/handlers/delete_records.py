"""DeleteRecords (21), v0-v2: advance partitions' log start offsets (Kafka's "low watermark").

Per partition, in Kafka's order: an internal topic (INVALID_TOPIC_EXCEPTION), an unknown partition
(UNKNOWN_TOPIC_OR_PARTITION), not the leader (NOT_LEADER_OR_FOLLOWER), a topic whose
``cleanup.policy`` lacks ``delete`` (POLICY_VIOLATION), then the offset: -1 means the high watermark;
other negative offsets and offsets above the high watermark are OFFSET_OUT_OF_RANGE. An offset at or
below the current log start offset changes nothing. Whole segments below the new start are deleted
(their files removed in a worker thread before the answer); reads below it get
OFFSET_OUT_OF_RANGE. The answer carries the new log start offset, or -1 on error. With one replica
the new start is final at once, so ``timeout_ms`` never expires.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.metadata.topic_names import is_internal
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import delete_records as msg
from odradek.replication.partition import Partition
from odradek.security.acl import AclOperation, ResourceType
from odradek.storage.errors import StorageError
from odradek.storage.log_manager import remove_paths

HIGH_WATERMARK = -1


async def handle(ctx: RequestContext, request: msg.DeleteRecordsRequest) -> msg.DeleteRecordsResponse:
    ports = ctx.ports
    now = ports.clock.now_ms()
    doomed: list[Path] = []
    response = msg.DeleteRecordsResponse()
    for topic in request.topics:
        out = msg.DeleteRecordsTopicResult(name=topic.name)
        response.topics.append(out)
        if not ports.authorizer.authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, topic.name):
            out.partitions = [
                msg.DeleteRecordsPartitionResult(p.partition_index, -1, ErrorCode.TOPIC_AUTHORIZATION_FAILED)
                for p in topic.partitions
            ]
            continue
        for part in topic.partitions:
            partition = ports.partitions.get(topic.name, part.partition_index)
            code, low_watermark = delete_before(partition, topic.name, part.offset, now, doomed)
            out.partitions.append(
                msg.DeleteRecordsPartitionResult(
                    partition_index=part.partition_index, low_watermark=low_watermark, error_code=code
                )
            )
    if doomed:
        await asyncio.to_thread(remove_paths, doomed)
    return response


def delete_before(
    partition: Partition | None, topic: str, offset: int, now_ms: int, doomed: list[Path]
) -> tuple[ErrorCode, int]:
    """(error, new log start offset or -1) for one partition; appends the files to remove to `doomed`."""
    if is_internal(topic):
        return ErrorCode.INVALID_TOPIC_EXCEPTION, -1
    if partition is None:
        return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1
    if not partition.is_leader:
        return ErrorCode.NOT_LEADER_OR_FOLLOWER, -1
    log = partition.log
    if not log.config.delete_enabled:
        return ErrorCode.POLICY_VIOLATION, -1
    target = log.high_watermark if offset == HIGH_WATERMARK else offset
    if target < 0:
        return ErrorCode.OFFSET_OUT_OF_RANGE, -1
    try:
        doomed += log.delete_records_before(target, now_ms)
    except StorageError as exc:
        return exc.error_code, -1
    return ErrorCode.NO_ERROR, log.log_start_offset


SPEC = ApiSpec(
    ApiKey.DELETE_RECORDS,
    0,
    2,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="-1 = high watermark; whole segments below the new log start offset are deleted",
)
