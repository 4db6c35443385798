"""ApiVersions (18): the APIs and version ranges this broker implements, from the dispatch table.

From v3 the client names its software; as in Kafka, a name or version that is not alphanumerics
with inner '.'/'-' gets INVALID_REQUEST and an empty API list.

Every new connection asks first, so the ordinary answer is encoded once per version (and throttle
time) and its bytes reused: encoding the ~60 API ranges was about a third of the broker's CPU for
accepting a connection and answering its ApiVersions.
"""

from __future__ import annotations

import re

from odradek.broker.api import ApiSpec, Chunks
from odradek.broker.context import RequestContext
from odradek.model.errors import ErrorCode
from odradek.protocol import codec
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import api_versions as msg

FEATURE_LEVELS: tuple[tuple[str, int, int], ...] = (
    ("group.version", 0, 1),  # 1: the KIP-848 consumer group protocol (ConsumerGroupHeartbeat)
)
"""Feature flags (name, min, max) advertised and finalized at max; added as the features land."""


SOFTWARE_NAME_OR_VERSION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9.\-]*[a-zA-Z0-9])?")

# shared by every ordinary answer (never changed), so that `encode` recognises one by identity
_SUPPORTED_FEATURES = [
    msg.SupportedFeatureKey(name=name, min_version=lo, max_version=hi) for name, lo, hi in FEATURE_LEVELS
]
_FINALIZED_FEATURES = [
    msg.FinalizedFeatureKey(name=name, min_version_level=hi, max_version_level=hi)
    for name, _lo, hi in FEATURE_LEVELS
]
_encoded: dict[tuple[int, int], tuple[list[msg.ApiVersion], Chunks]] = {}
"""(version, throttle time) -> (the API list answered, the answer's body): the last one encoded."""


def handle(ctx: RequestContext, request: msg.ApiVersionsRequest) -> msg.ApiVersionsResponse:
    if ctx.api_version >= 3 and not (
        SOFTWARE_NAME_OR_VERSION.fullmatch(request.client_software_name)
        and SOFTWARE_NAME_OR_VERSION.fullmatch(request.client_software_version)
    ):
        return msg.ApiVersionsResponse(error_code=ErrorCode.INVALID_REQUEST)
    response = msg.ApiVersionsResponse(api_keys=ctx.ports.node.api_versions())
    if ctx.api_version >= 3:
        response.supported_features = _SUPPORTED_FEATURES
        response.finalized_features_epoch = 0
        response.finalized_features = _FINALIZED_FEATURES
    return response


def encode(response: msg.ApiVersionsResponse, version: int) -> Chunks:
    """The answer's body; an ordinary one (the broker's own API list object, the standard features)
    from the bytes encoded for the last such answer in this version and throttle time."""
    ordinary = (
        response.error_code == 0
        and not response.zk_migration_ready
        and (
            version < 3
            or (
                response.supported_features is _SUPPORTED_FEATURES
                and response.finalized_features is _FINALIZED_FEATURES
                and response.finalized_features_epoch == 0
            )
        )
    )
    if not ordinary:
        return codec.encode(msg.RESPONSE, version, response)
    key = (version, response.throttle_time_ms)
    cached = _encoded.get(key)
    if cached is not None and cached[0] is response.api_keys:
        return cached[1]
    body: Chunks = [codec.encode_bytes(msg.RESPONSE, version, response)]
    _encoded[key] = (response.api_keys, body)
    return body


SPEC = ApiSpec(
    ApiKey.API_VERSIONS,
    0,
    4,
    msg.REQUEST,
    msg.RESPONSE,
    handle,
    encode=encode,
    notes=(
        "exactly this table; too-new versions answered in v0 with UNSUPPORTED_VERSION; group.version feature"
    ),
)
