"""DescribeCluster (60), v0-v2: cluster id, controller and brokers, as the Java AdminClient asks.

A broker listener answers for endpoint type BROKER (1) only: a request for CONTROLLER endpoints (2)
gets MISMATCHED_ENDPOINT_TYPE, any other type UNSUPPORTED_ENDPOINT_TYPE (INVALID_REQUEST in v0,
which has no such field and cannot send them). Fenced brokers are listed, flagged, only when the
client asks (v2). ``include_cluster_authorized_operations`` gets the CLUSTER operations the principal
may perform (every one without an authorizer). The controller is the single-node broker itself.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.authorization import authorized_operations_field
from odradek.broker.context import RequestContext
from odradek.broker.endpoints import broker_endpoint
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import describe_cluster as msg
from odradek.security.acl import CLUSTER_NAME, ResourceType

ENDPOINT_BROKER = 1
ENDPOINT_CONTROLLER = 2
ENDPOINT_NAMES = {ENDPOINT_BROKER: "BROKER", ENDPOINT_CONTROLLER: "CONTROLLER"}


def handle(ctx: RequestContext, request: msg.DescribeClusterRequest) -> msg.DescribeClusterResponse:
    wanted = request.endpoint_type
    if wanted != ENDPOINT_BROKER:
        if wanted not in ENDPOINT_NAMES:
            code = ErrorCode.UNSUPPORTED_ENDPOINT_TYPE
            message = f"Unsupported endpoint type {wanted}"
        else:
            code = ErrorCode.MISMATCHED_ENDPOINT_TYPE
            message = (
                "The request was sent to an endpoint of type BROKER, "
                f"but we wanted an endpoint of type {ENDPOINT_NAMES[wanted]}"
            )
        return msg.DescribeClusterResponse(
            error_code=code if ctx.api_version >= 1 else ErrorCode.INVALID_REQUEST, error_message=message
        )
    image = ctx.ports.metadata.image
    brokers = [
        msg.DescribeClusterBroker(
            broker_id=b.broker_id, host=host, port=port, rack=b.rack, is_fenced=b.fenced
        )
        for _, b in sorted(image.brokers.items())
        if request.include_fenced_brokers or not b.fenced
        for host, port in [broker_endpoint(ctx, b)]
    ]
    return msg.DescribeClusterResponse(
        endpoint_type=ENDPOINT_BROKER,
        cluster_id=image.cluster_id or "",
        controller_id=image.controller_id,
        brokers=brokers,
        cluster_authorized_operations=authorized_operations_field(
            request.include_cluster_authorized_operations,
            ctx.ports.authorizer.authorized_operations(ctx, ResourceType.CLUSTER, CLUSTER_NAME)
            if request.include_cluster_authorized_operations
            else 0,
        ),
    )


SPEC = ApiSpec(
    ApiKey.DESCRIBE_CLUSTER,
    0,
    2,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="broker endpoints only (MISMATCHED_ENDPOINT_TYPE for controllers); fenced brokers on request",
)
