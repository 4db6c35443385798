"""ElectLeaders (43), v0-v2: preferred-leader election (v0+) and unclean election (v1+) on request.

Needs ALTER on the CLUSTER (CLUSTER_AUTHORIZATION_FAILED for the whole request otherwise). The
controller function `metadata.controller.leader_election.elect_on_request` decides per partition:
ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE (the preferred replica is not live or not in the
ISR), ELIGIBLE_LEADERS_NOT_AVAILABLE (unclean: no live replica), UNKNOWN_TOPIC_OR_PARTITION. Null
`topic_partitions` means every partition, and the answer lists only those that needed an election.
The change is committed before the answer (on a single node the only replica always leads, so
every election there is ELECTION_NOT_NEEDED).
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.metadata.controller.leader_election import elect_on_request
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import elect_leaders as msg
from odradek.security.acl import CLUSTER_NAME, AclOperation, ResourceType

VALID_TYPES = (0, 1)


async def handle(ctx: RequestContext, request: msg.ElectLeadersRequest) -> msg.ElectLeadersResponse:
    version = ctx.api_version
    asked = request.topic_partitions
    wanted = None if asked is None else [(t.topic, p) for t in asked for p in t.partitions]
    election_type = request.election_type if version >= 1 else 0

    def every(error: ErrorCode, message: str) -> msg.ElectLeadersResponse:
        results = [
            msg.ReplicaElectionResult(
                topic=t.topic,
                partition_result=[msg.PartitionResult(p, error, message) for p in t.partitions],
            )
            for t in asked or []
        ]
        return msg.ElectLeadersResponse(error_code=error, replica_election_results=results)

    if not ctx.ports.authorizer.authorize(ctx, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_NAME):
        return every(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.")
    if election_type not in VALID_TYPES:
        return every(ErrorCode.INVALID_REQUEST, f"unknown election type {election_type}")
    outcomes = await ctx.ports.metadata.run_controller(
        lambda image: elect_on_request(image, election_type, wanted, ctx.ports.config.static)
    )
    by_topic: dict[str, list[msg.PartitionResult]] = {}
    for (topic, partition), outcome in outcomes.items():
        by_topic.setdefault(topic, []).append(
            msg.PartitionResult(
                partition, outcome.code, outcome.message if outcome.code is not ErrorCode.NO_ERROR else None
            )
        )
    return msg.ElectLeadersResponse(
        replica_election_results=[
            msg.ReplicaElectionResult(topic=t, partition_result=r) for t, r in by_topic.items()
        ]
    )


SPEC = ApiSpec(
    ApiKey.ELECT_LEADERS,
    0,
    2,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="preferred (v0+) and unclean (v1+) elections by the controller's rules; null = every partition",
)
