"""ApiVersions (18): the APIs and version ranges this broker implements, from the dispatch table."""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import api_versions as msg

FEATURE_LEVELS: tuple[tuple[str, int, int], ...] = ()
"""Feature flags (name, min, max) advertised and finalized at max; added as the features land."""


def handle(ctx: RequestContext, request: msg.ApiVersionsRequest) -> msg.ApiVersionsResponse:
    response = msg.ApiVersionsResponse(api_keys=ctx.broker.dispatcher.api_versions())
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


SPEC = ApiSpec(ApiKey.API_VERSIONS, 0, 4, msg.REQUEST, msg.RESPONSE, handle)
