"""Pure: what `odradek features` sends and prints (kafka-features.sh's formats).

* `describe`: one line per feature the broker supports, sorted by name, tab-separated:
  ``Feature: NAME	SupportedMinVersion: A	SupportedMaxVersion: B	FinalizedVersionLevel: L	Epoch: E``
  (a supported feature the cluster has not finalized, or finalized at 0, prints level 0; the epoch
  is ``-`` when the broker sends none, i.e. a negative one).
* `upgrade|downgrade --feature NAME=LEVEL` (repeatable) and `disable --feature NAME`: one
  UpdateFeatures request; one line per feature, ``NAME was upgraded to LEVEL.`` /
  ``NAME can be upgraded to LEVEL.`` (`--dry-run`) or ``Could not upgrade NAME to LEVEL. ERROR``;
  any failure makes the command fail with ``N out of M operation(s) failed.``.
* `--release-version` / `--metadata` name a `metadata.version`, which odradek does not have:
  refused with a sentence saying so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from odradek.model.feature_update import FeatureUpdate, UpgradeType


class PlanError(ValueError):
    """A command line that names no valid change."""


@dataclass(frozen=True, slots=True)
class FeatureRow:
    """One feature of `describe`: the broker's supported range and the cluster's finalized level."""

    feature: str
    supported_min: int
    supported_max: int
    finalized_level: int
    epoch: int | None

    def line(self) -> str:
        epoch = "-" if self.epoch is None else str(self.epoch)
        return (
            f"Feature: {self.feature}\tSupportedMinVersion: {self.supported_min}\t"
            f"SupportedMaxVersion: {self.supported_max}\tFinalizedVersionLevel: {self.finalized_level}\t"
            f"Epoch: {epoch}"
        )


def describe_rows(
    supported: Iterable[tuple[str, int, int]], finalized: Mapping[str, int], epoch: int
) -> list[FeatureRow]:
    """Rows of `describe` from ApiVersions' supported (name, min, max) and finalized levels."""
    known_epoch = epoch if epoch >= 0 else None
    return [
        FeatureRow(name, low, high, finalized.get(name, 0), known_epoch)
        for name, low, high in sorted(supported)
    ]


def downgrade_type(unsafe: bool) -> UpgradeType:
    return UpgradeType.UNSAFE_DOWNGRADE if unsafe else UpgradeType.SAFE_DOWNGRADE


def parse_level(text: str) -> tuple[str, int]:
    """``NAME=LEVEL`` -> (NAME, LEVEL), LEVEL an int16 as the protocol carries it."""
    name, equals, level = text.partition("=")
    if not equals:
        raise PlanError(f"cannot parse feature=level {text!r}: no equals sign")
    name, level = name.strip(), level.strip()
    if not name:
        raise PlanError(f"cannot parse feature=level {text!r}: no feature name")
    try:
        value = int(level)
    except ValueError:
        raise PlanError(f"cannot parse feature=level {text!r}: {level!r} is not a level") from None
    if not -(2**15) <= value < 2**15:
        raise PlanError(f"cannot parse feature=level {text!r}: {value} is out of range")
    return name, value


def no_metadata_version(flag: str) -> PlanError:
    return PlanError(
        f"{flag}: odradek has no metadata.version (it is not a KRaft cluster); "
        "give each feature with --feature NAME=LEVEL"
    )


def plan_updates(
    features: Iterable[tuple[str, int]], upgrade_type: UpgradeType, operation: str
) -> list[FeatureUpdate]:
    """The updates of one command, each feature once."""
    updates: dict[str, FeatureUpdate] = {}
    for name, level in features:
        if name in updates:
            raise PlanError(f"feature {name} was given more than once")
        updates[name] = FeatureUpdate(name, level, upgrade_type)
    if not updates:
        raise PlanError(f"give at least one feature to {operation} (--feature)")
    return sorted(updates.values(), key=lambda u: u.feature)


def outcome_line(operation: str, update: FeatureUpdate, error: str | None, dry_run: bool) -> str:
    """What `upgrade`, `downgrade` or `disable` prints for one feature."""
    if error is not None:
        attempt = "Can not" if dry_run else "Could not"
        what = (
            f"disable {update.feature}"
            if operation == "disable"
            else (f"{operation} {update.feature} to {update.level}")
        )
        return f"{attempt} {what}. {error}"
    verb = "can be" if dry_run else "was"
    done = "disabled" if operation == "disable" else f"{operation}d to {update.level}"
    return f"{update.feature} {verb} {done}."


def failure_summary(failed: int, total: int) -> str:
    return f"{failed} out of {total} operation(s) failed."


def update_errors(
    updates: Iterable[FeatureUpdate],
    error_code: int,
    error_message: str | None,
    results: Iterable[tuple[str, int, str | None]],
) -> dict[str, str | None]:
    """Each feature's error (None: applied) from an UpdateFeatures answer: its top-level error
    refuses every update (v2 has only that one, all or nothing); v0-1 also answer per feature."""
    from odradek.model.errors import ErrorCode

    def text(code: int, message: str | None) -> str:
        name = ErrorCode(code).name if code in ErrorCode._value2member_map_ else f"error {code}"
        return f"{name}: {message}" if message else name

    per_feature = {name: text(code, message) for name, code, message in results if code}
    top = text(error_code, error_message) if error_code else None
    return {u.feature: top or per_feature.get(u.feature) for u in updates}
