"""ListPartitionReassignments (46), v0: reassignments in progress, of every partition (null topics)
or of the partitions asked for (unknown ones left out, as Kafka does). Needs DESCRIBE on the CLUSTER."""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.metadata.controller.reassignment import list_reassignments
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import list_partition_reassignments as msg
from odradek.security.acl import CLUSTER_NAME, AclOperation, ResourceType


async def handle(
    ctx: RequestContext, request: msg.ListPartitionReassignmentsRequest
) -> msg.ListPartitionReassignmentsResponse:
    if not ctx.ports.authorizer.authorize(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME):
        return msg.ListPartitionReassignmentsResponse(
            error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED, error_message="Cluster authorization failed."
        )
    wanted = None if request.topics is None else [(t.name, t.partition_indexes) for t in request.topics]
    by_topic: dict[str, list[msg.OngoingPartitionReassignment]] = {}
    for r in list_reassignments(ctx.ports.metadata.image, wanted):
        by_topic.setdefault(r.topic, []).append(
            msg.OngoingPartitionReassignment(r.partition, list(r.replicas), list(r.adding), list(r.removing))
        )
    return msg.ListPartitionReassignmentsResponse(
        error_message=None,
        topics=[msg.OngoingTopicReassignment(name, parts) for name, parts in by_topic.items()],
    )


SPEC = ApiSpec(
    ApiKey.LIST_PARTITION_REASSIGNMENTS,
    0,
    0,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="ongoing reassignments (replicas, adding, removing)",
)
