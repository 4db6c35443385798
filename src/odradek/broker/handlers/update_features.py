"""UpdateFeatures (57), v0-v2: `kafka-features.sh upgrade|downgrade` (KIP-584, KIP-778).

Needs ALTER on the CLUSTER. The controller function `metadata.controller.features.update_features`
checks every update and applies all or none; its one answer is the response's top-level error and,
before v2 (whose response has no per-feature results), every feature's result, as Kafka answers.
v0 has no upgrade type: `allow_downgrade` means a safe downgrade. `validate_only` (v1+) checks
without changing anything. The change is committed before the answer.
"""

from __future__ import annotations

from odradek.broker.api import ApiSpec
from odradek.broker.context import RequestContext
from odradek.metadata.controller.features import update_features
from odradek.metadata.controller.result import ApiError
from odradek.model.errors import ErrorCode
from odradek.model.feature_update import FeatureUpdate, UpgradeType
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import update_features as msg
from odradek.security.acl import AclOperation


async def handle(ctx: RequestContext, request: msg.UpdateFeaturesRequest) -> msg.UpdateFeaturesResponse:
    version = ctx.api_version
    updates = [
        FeatureUpdate(
            u.feature,
            u.max_version_level,
            u.upgrade_type
            if version >= 1
            else (UpgradeType.SAFE_DOWNGRADE if u.allow_downgrade else UpgradeType.UPGRADE),
        )
        for u in request.feature_updates
    ]
    if not ctx.ports.authorizer.authorize_cluster(ctx, AclOperation.ALTER):
        outcome = ApiError(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, "Cluster authorization failed.")
    else:
        validate_only = request.validate_only and version >= 1
        outcome = await ctx.ports.metadata.run_controller(
            lambda image: update_features(image, ctx.ports.config.static, updates, validate_only)
        )
    message = outcome.message if outcome.code is not ErrorCode.NO_ERROR else None
    results = (
        [msg.UpdatableFeatureResult(u.feature, outcome.code, message) for u in request.feature_updates]
        if version < 2
        else []
    )
    return msg.UpdateFeaturesResponse(error_code=outcome.code, error_message=message, results=results)


SPEC = ApiSpec(
    ApiKey.UPDATE_FEATURES,
    0,
    2,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    notes=(
        "eligible.leader.replicas.version 0-1 (KIP-966 off/on); upgrade, safe and unsafe downgrade, "
        "validate_only; all or nothing"
    ),
)
