"""ApiVersions (18): the APIs and version ranges this broker implements, from the dispatch table.

From v3 the client names its software; as in Kafka, a name or version that is not alphanumerics
with inner '.'/'-' gets INVALID_REQUEST and an empty API list.

Every new connection asks first, so the ordinary answer is encoded once per version (and throttle
time) and its bytes reused: encoding the ~60 API ranges was about a third of the broker's CPU for
accepting a connection and answering its ApiVersions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from odradek.broker.api import ApiSpec, Chunks
from odradek.broker.context import RequestContext
from odradek.metadata.features import FEATURES, finalized_levels
from odradek.metadata.image import ClusterImage
from odradek.model.errors import ErrorCode
from odradek.protocol import codec
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import api_versions as msg

SOFTWARE_NAME_OR_VERSION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9.\-]*[a-zA-Z0-9])?")

# shared by every ordinary answer (never changed), so that `encode` recognises one by identity
_SUPPORTED_FEATURES = [
    msg.SupportedFeatureKey(name=f.name, min_version=f.min_level, max_version=f.max_level)
    for f in FEATURES.values()
]
_finalized: list[tuple[Mapping[str, int], list[msg.FinalizedFeatureKey]]] = []
"""(the image's stored levels, the finalized features answered): the last ones made, so that an
answer's list is the same object while the levels stay the same object."""
_encoded: dict[
    tuple[int, int], tuple[list[msg.ApiVersion], list[msg.FinalizedFeatureKey] | None, Chunks]
] = {}
"""(version, throttle time) -> (the API list and finalized features answered, the answer's body):
the last one encoded."""


def finalized_features(image: ClusterImage) -> list[msg.FinalizedFeatureKey]:
    """The cluster's finalized features above level 0 (Kafka leaves level-0 features out)."""
    stored = image.finalized_features
    if _finalized and _finalized[0][0] is stored:
        return _finalized[0][1]
    answer = [
        msg.FinalizedFeatureKey(name=name, min_version_level=level, max_version_level=level)
        for name, level in finalized_levels(image).items()
    ]
    _finalized[:] = [(stored, answer)]
    return answer


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
        response.finalized_features = finalized_features(ctx.ports.metadata.image)
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
                and _finalized
                and response.finalized_features is _finalized[0][1]
                and response.finalized_features_epoch == 0
            )
        )
    )
    if not ordinary:
        return codec.encode(msg.RESPONSE, version, response)
    key = (version, response.throttle_time_ms)
    features = response.finalized_features if version >= 3 else None
    cached = _encoded.get(key)
    if cached is not None and cached[0] is response.api_keys and cached[1] is features:
        return cached[2]
    body: Chunks = [codec.encode_bytes(msg.RESPONSE, version, response)]
    _encoded[key] = (response.api_keys, features, body)
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
        "exactly this table; too-new versions answered in v0 with UNSUPPORTED_VERSION; "
        "group.version and eligible.leader.replicas.version features"
    ),
)
