"""AlterPartitionReassignments (45), v0-v1: start, change or cancel (null replicas) reassignments.

Needs ALTER on the CLUSTER (CLUSTER_AUTHORIZATION_FAILED for the whole request otherwise). The
controller function `metadata.controller.reassignment.alter_reassignments` decides per partition
(UNKNOWN_TOPIC_OR_PARTITION, INVALID_REPLICA_ASSIGNMENT, NO_REASSIGNMENT_IN_PROGRESS,
INVALID_REPLICATION_FACTOR with v1's `allow_replication_factor_change` false); the change is in the
metadata before the answer, and the move itself goes on in the background (the added replicas catch
up, join the ISR, then the removed ones leave).
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.metadata.controller.reassignment import alter_reassignments
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import alter_partition_reassignments as msg
from odradek.security.acl import CLUSTER_NAME, AclOperation, ResourceType


async def handle(
    ctx: RequestContext, request: msg.AlterPartitionReassignmentsRequest
) -> msg.AlterPartitionReassignmentsResponse:
    allow = request.allow_replication_factor_change if ctx.api_version >= 1 else True

    def every(error: ErrorCode, message: str) -> msg.AlterPartitionReassignmentsResponse:
        return msg.AlterPartitionReassignmentsResponse(
            allow_replication_factor_change=allow,
            error_code=error,
            error_message=message,
            responses=[
                msg.ReassignableTopicResponse(
                    t.name,
                    [
                        msg.ReassignablePartitionResponse(p.partition_index, error, message)
                        for p in t.partitions
                    ],
                )
                for t in request.topics
            ],
        )

    if not ctx.ports.authorizer.authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME):
        return every(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.")
    wanted = [
        (t.name, p.partition_index, None if p.replicas is None else list(p.replicas))
        for t in request.topics
        for p in t.partitions
    ]
    static = ctx.ports.config.static
    outcomes = await ctx.ports.metadata.run_controller(
        lambda image: alter_reassignments(image, static, wanted, allow_replication_factor_change=allow)
    )
    return msg.AlterPartitionReassignmentsResponse(
        allow_replication_factor_change=allow,
        error_message=None,
        responses=[
            msg.ReassignableTopicResponse(
                t.name,
                [
                    msg.ReassignablePartitionResponse(
                        p.partition_index,
                        outcomes[(t.name, p.partition_index)].code,
                        outcomes[(t.name, p.partition_index)].message,
                    )
                    for p in t.partitions
                ],
            )
            for t in request.topics
        ],
    )


SPEC = ApiSpec(
    ApiKey.ALTER_PARTITION_REASSIGNMENTS,
    0,
    1,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="add, remove, reorder replicas; cancel with null replicas; done once the added ones are in sync",
)
