"""DescribeLogDirs (35), v1-v5: each log directory with the partitions it holds and their sizes.

Every directory of ``log.dirs`` is listed (as an absolute path), with the size in bytes of each of
its partitions that the request names (all of them when ``topics`` is null); topics with none of the
named partitions in a directory are left out of it. ``offset_lag`` is 0 (this broker leads every
partition it hosts) and there are no future replicas (AlterReplicaLogDirs is not supported). v4+
adds the file system's total and usable bytes; v5's ``is_cordoned`` is always false. A directory
whose disk failed (offline) is answered with KAFKA_STORAGE_ERROR and no partitions, as Kafka does.
"""

from __future__ import annotations

from collections.abc import Iterable

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import describe_log_dirs as msg
from odradek.security.acl import AclOperation
from odradek.storage.log_manager import LogDirDescription


def handle(ctx: RequestContext, request: msg.DescribeLogDirsRequest) -> msg.DescribeLogDirsResponse:
    if not ctx.ports.authorizer.authorize_cluster(ctx, AclOperation.DESCRIBE):
        return msg.DescribeLogDirsResponse(error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
    wanted = (
        None
        if request.topics is None
        else {TopicPartition(t.topic, p) for t in request.topics for p in t.partitions}
    )
    return msg.DescribeLogDirsResponse(results=describe(ctx.ports.log_dirs.describe_dirs(), wanted))


def describe(
    dirs: Iterable[LogDirDescription], wanted: set[TopicPartition] | None
) -> list[msg.DescribeLogDirsResult]:
    """The response's directories; `wanted` None means every partition."""
    results = []
    for d in dirs:
        by_topic: dict[str, list[msg.DescribeLogDirsPartition]] = {}
        for tp, size in sorted(d.partition_sizes.items()):
            if wanted is None or tp in wanted:
                by_topic.setdefault(tp.topic, []).append(
                    msg.DescribeLogDirsPartition(partition_index=tp.partition, partition_size=size)
                )
        results.append(
            msg.DescribeLogDirsResult(
                error_code=ErrorCode.KAFKA_STORAGE_ERROR if d.offline else ErrorCode.NO_ERROR,
                log_dir=str(d.path.absolute()),
                topics=[msg.DescribeLogDirsTopic(name, parts) for name, parts in by_topic.items()],
                total_bytes=d.total_bytes,
                usable_bytes=d.usable_bytes,
            )
        )
    return results


SPEC = ApiSpec(
    ApiKey.DESCRIBE_LOG_DIRS,
    1,
    5,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="every log.dirs entry with partition sizes and disk space; no future replicas",
)
