"""UpdateFeatures (57) request and answer, v0-v2, and ApiVersions' features after it (KIP-584)."""

from __future__ import annotations

from pathlib import Path

from odradek.model.errors import ErrorCode
from odradek.protocol.api_keys import ApiKey
from odradek.protocol.messages import api_versions as av
from odradek.protocol.messages import update_features as uf
from odradek.testing.in_process import InMemoryConnection, InProcessBroker

ELR = "eligible.leader.replicas.version"


def finalized(conn: InMemoryConnection) -> dict[str, int]:
    response = conn.call(ApiKey.API_VERSIONS, 3, av.ApiVersionsRequest("tests", "1"))
    return {f.name: f.max_version_level for f in response.finalized_features}


def update(
    conn: InMemoryConnection, version: int, *updates: uf.FeatureUpdateKey, validate_only: bool = False
) -> uf.UpdateFeaturesResponse:
    request = uf.UpdateFeaturesRequest(feature_updates=list(updates), validate_only=validate_only)
    response: uf.UpdateFeaturesResponse = conn.call(ApiKey.UPDATE_FEATURES, version, request)
    return response


def test_downgrade_and_upgrade_of_eligible_leader_replicas(tmp_path: Path) -> None:
    with InProcessBroker(tmp_path) as b:
        conn = b.connect()
        assert finalized(conn) == {"group.version": 1, ELR: 1}  # Kafka 4.1's default for new clusters

        refused = update(conn, 1, uf.FeatureUpdateKey(ELR, 0, upgrade_type=1))
        assert refused.error_code == ErrorCode.INVALID_UPDATE_VERSION
        assert refused.error_message == (
            f"Invalid update version 0 for feature {ELR}. Can't downgrade the version of this feature "
            "without setting the upgrade type to either safe or unsafe downgrade."
        )
        assert [(r.feature, r.error_code, r.error_message) for r in refused.results] == [
            (ELR, ErrorCode.INVALID_UPDATE_VERSION, refused.error_message)
        ]

        dry = update(conn, 1, uf.FeatureUpdateKey(ELR, 0, upgrade_type=2), validate_only=True)
        assert (dry.error_code, dry.error_message) == (0, None)
        assert [(r.feature, r.error_code) for r in dry.results] == [(ELR, 0)]
        assert finalized(conn) == {"group.version": 1, ELR: 1}  # validate_only changed nothing

        done = update(conn, 2, uf.FeatureUpdateKey(ELR, 0, upgrade_type=3))
        assert (done.error_code, done.error_message, done.results) == (0, None, [])  # v2: no results
        assert finalized(conn) == {"group.version": 1}  # level 0 is left out, as Kafka does

        up = update(conn, 0, uf.FeatureUpdateKey(ELR, 1, allow_downgrade=False))
        assert [(r.feature, r.error_code) for r in up.results] == [(ELR, 0)]
        down = update(conn, 0, uf.FeatureUpdateKey(ELR, 0, allow_downgrade=True))  # v0: a safe downgrade
        assert down.error_code == 0

    with InProcessBroker(tmp_path) as b:  # stored with the cluster's metadata
        assert finalized(b.connect()) == {"group.version": 1}


def test_refusals_change_nothing(tmp_path: Path) -> None:
    with InProcessBroker(tmp_path) as b:
        conn = b.connect()
        both = update(conn, 1, uf.FeatureUpdateKey(ELR, 0, upgrade_type=2), uf.FeatureUpdateKey(ELR, 2))
        assert both.error_code == ErrorCode.INVALID_UPDATE_VERSION
        assert (
            both.error_message
            == f"Invalid update version 2 for feature {ELR}. Local controller 1 only supports versions 0-1"
        )
        unknown = update(conn, 2, uf.FeatureUpdateKey("metadata.version", 27))
        assert unknown.error_code == ErrorCode.INVALID_UPDATE_VERSION
        group = update(conn, 1, uf.FeatureUpdateKey("group.version", 0, upgrade_type=2))
        assert group.error_code == ErrorCode.INVALID_UPDATE_VERSION
        assert finalized(conn) == {"group.version": 1, ELR: 1}
        empty = update(conn, 1)
        assert (empty.error_code, empty.results) == (0, [])
