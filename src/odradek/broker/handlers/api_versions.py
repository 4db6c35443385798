"""ApiVersions (18): the APIs and version ranges this broker implements, from the dispatch table.

From v3 the client names its software; as in Kafka, a name or version that is not alphanumerics
with inner '.'/'-' gets INVALID_REQUEST and an empty API list.
"""

from __future__ import annotations

import re

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import api_versions as msg

FEATURE_LEVELS: tuple[tuple[str, int, int], ...] = (
    ("group.version", 0, 1),  # 1: the KIP-848 consumer group protocol (ConsumerGroupHeartbeat)
)
"""Feature flags (name, min, max) advertised and finalized at max; added as the features land."""


SOFTWARE_NAME_OR_VERSION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9.\-]*[a-zA-Z0-9])?")


def handle(ctx: RequestContext, request: msg.ApiVersionsRequest) -> msg.ApiVersionsResponse:
    if ctx.api_version >= 3 and not (
        SOFTWARE_NAME_OR_VERSION.fullmatch(request.client_software_name)
        and SOFTWARE_NAME_OR_VERSION.fullmatch(request.client_software_version)
    ):
        return msg.ApiVersionsResponse(error_code=ErrorCode.INVALID_REQUEST)
    response = msg.ApiVersionsResponse(api_keys=ctx.ports.node.api_versions())
    if ctx.api_version >= 3:
        response.supported_features = [
            msg.SupportedFeatureKey(name=name, min_version=lo, max_version=hi)
            for name, lo, hi in FEATURE_LEVELS
        ]
        response.finalized_features_epoch = 0
        response.finalized_features = [
            msg.FinalizedFeatureKey(name=name, min_version_level=hi, max_version_level=hi)
            for name, _lo, hi in FEATURE_LEVELS
        ]
    return response


SPEC = ApiSpec(
    ApiKey.API_VERSIONS,
    0,
    4,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes=(
        "exactly this table; too-new versions answered in v0 with UNSUPPORTED_VERSION; group.version feature"
    ),
)
