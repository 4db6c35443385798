"""ListConfigResources (74), v0-v1: the resources that can carry dynamic configs (KIP-1142).

v0 (ListClientMetricsResources) asks for CLIENT_METRICS only; v1 names resource types, none meaning
all of TOPIC, BROKER, BROKER_LOGGER, CLIENT_METRICS and GROUP; another type answers
UNSUPPORTED_VERSION. Answers: every topic; every live broker's id for BROKER and BROKER_LOGGER; no
CLIENT_METRICS resources (client metrics subscriptions are not supported); no GROUP resources — GROUP
lists the groups *with dynamic group configs* (so that tools can show configs of groups that do not
exist yet) and this broker has no group configs; existing groups are listed by ListGroups.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.metadata.config_types import ConfigResourceType as R
from odradek.metadata.image import ClusterImage
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import list_config_resources as msg
from odradek.security.acl import AclOperation

SUPPORTED = {0: (R.CLIENT_METRICS,), 1: (R.TOPIC, R.BROKER, R.BROKER_LOGGER, R.CLIENT_METRICS, R.GROUP)}


def handle(ctx: RequestContext, request: msg.ListConfigResourcesRequest) -> msg.ListConfigResourcesResponse:
    supported = SUPPORTED[ctx.api_version]
    wanted = supported if ctx.api_version == 0 or not request.resource_types else request.resource_types
    if any(t not in supported for t in wanted):
        return msg.ListConfigResourcesResponse(error_code=ErrorCode.UNSUPPORTED_VERSION)
    if not ctx.ports.authorizer.authorize_cluster(ctx, AclOperation.DESCRIBE_CONFIGS):
        return msg.ListConfigResourcesResponse(error_code=ErrorCode.CLUSTER_AUTHORIZATION_FAILED)
    image = ctx.ports.metadata.image
    return msg.ListConfigResourcesResponse(
        config_resources=[
            msg.ConfigResource(resource_name=name, resource_type=kind)
            for kind in dict.fromkeys(wanted)
            for name in _names(image, R(kind))
        ]
    )


def _names(image: ClusterImage, kind: R) -> list[str]:
    if kind == R.TOPIC:
        return sorted(image.topics_by_name)
    if kind in (R.BROKER, R.BROKER_LOGGER):
        return [str(b.broker_id) for b in image.live_brokers()]
    return []  # CLIENT_METRICS, GROUP: no such configs here


SPEC = ApiSpec(
    ApiKey.LIST_CONFIG_RESOURCES,
    0,
    1,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes="TOPIC, BROKER, BROKER_LOGGER; no CLIENT_METRICS or GROUP configs exist here",
)
