"""`cli/feature_plan.py`: kafka-features.sh's lines and how an UpdateFeatures answer reads."""

from __future__ import annotations

import pytest

from odradek.cli.feature_plan import (
    PlanError,
    describe_rows,
    downgrade_type,
    outcome_line,
    parse_level,
    update_errors,
)
from odradek.model.errors import ErrorCode
from odradek.model.feature_update import FeatureUpdate, UpgradeType

ELR = "eligible.leader.replicas.version"


def test_describe_sorts_by_name_and_prints_unfinalized_features_at_0_and_no_epoch_as_dash() -> None:
    rows = describe_rows([("z.version", 0, 2), (ELR, 0, 1)], {"z.version": 2}, -1)
    assert [row.line() for row in rows] == [
        f"Feature: {ELR}\tSupportedMinVersion: 0\tSupportedMaxVersion: 1\tFinalizedVersionLevel: 0\tEpoch: -",
        "Feature: z.version\tSupportedMinVersion: 0\tSupportedMaxVersion: 2\t"
        "FinalizedVersionLevel: 2\tEpoch: -",
    ]
    assert describe_rows([(ELR, 0, 1)], {ELR: 1}, 7)[0].line().endswith("FinalizedVersionLevel: 1\tEpoch: 7")


@pytest.mark.parametrize(
    ("text", "parsed"), [(f"{ELR}=1", (ELR, 1)), (f" {ELR} = 0 ", (ELR, 0)), ("a=32767", ("a", 32767))]
)
def test_parse_level(text: str, parsed: tuple[str, int]) -> None:
    assert parse_level(text) == parsed


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (ELR, "no equals sign"),
        ("=1", "no feature name"),
        ("a=one", "'one' is not a level"),
        ("a=32768", "out of range"),
    ],
)
def test_parse_level_refuses(text: str, reason: str) -> None:
    with pytest.raises(PlanError, match=reason):
        parse_level(text)


def test_outcome_lines() -> None:
    down = FeatureUpdate(ELR, 0, UpgradeType.SAFE_DOWNGRADE)
    assert outcome_line("downgrade", down, None, dry_run=False) == f"{ELR} was downgraded to 0."
    assert outcome_line("downgrade", down, None, dry_run=True) == f"{ELR} can be downgraded to 0."
    assert outcome_line("disable", down, "X: y", dry_run=False) == f"Could not disable {ELR}. X: y"
    assert outcome_line("upgrade", down, "X", dry_run=True) == f"Can not upgrade {ELR} to 0. X"


def test_update_errors_v0_1_per_feature_and_v2_top_level() -> None:
    updates = [FeatureUpdate("a", 1, UpgradeType.UPGRADE), FeatureUpdate("b", 1, UpgradeType.UPGRADE)]
    bad = int(ErrorCode.INVALID_UPDATE_VERSION)
    # v0-1: one result per feature
    assert update_errors(updates, 0, None, [("a", 0, None), ("b", bad, "no")]) == {
        "a": None,
        "b": "INVALID_UPDATE_VERSION: no",
    }
    # v2: no results, the top-level error refuses everything; without it everything applied
    assert update_errors(updates, bad, None, []) == {
        "a": "INVALID_UPDATE_VERSION",
        "b": "INVALID_UPDATE_VERSION",
    }
    assert update_errors(updates, 0, None, []) == {"a": None, "b": None}
    assert update_errors(updates[:1], 30000, "odd", []) == {"a": "error 30000: odd"}


def test_unsafe_is_the_unsafe_downgrade_type() -> None:
    assert (downgrade_type(False), downgrade_type(True)) == (
        UpgradeType.SAFE_DOWNGRADE,
        UpgradeType.UNSAFE_DOWNGRADE,
    )
