"""`odradek features describe|upgrade|downgrade|disable`: feature flags (KIP-584), as Kafka's
kafka-features.sh, over `wire_client.py` (confluent-kafka 2.16 has no feature admin calls).

`describe` asks ApiVersions (v3+: the broker's supported features and the cluster's finalized
levels); the others send one UpdateFeatures (v1+: upgrade type UPGRADE, SAFE_DOWNGRADE or, with
`--unsafe`, UNSAFE_DOWNGRADE; `--dry-run` is `validate_only`). Formats: `cli/feature_plan.py`.
"""

from __future__ import annotations

import argparse
from typing import Any

from odradek.cli.wire_options import add_wire_arguments


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("features", help="describe and change feature flags (kafka-features.sh)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    parser.set_defaults(func=run)

    describe = actions.add_parser("describe", help="supported and finalized levels of every feature")
    describe.add_argument(
        "--node-id", type=int, metavar="ID", help="ask this broker (default: the bootstrap one)"
    )
    add_wire_arguments(describe)

    for operation in ("upgrade", "downgrade", "disable"):
        sub = actions.add_parser(operation, help=f"{operation} one or more feature flags")
        if operation == "disable":
            sub.add_argument(
                "--feature", action="append", default=[], metavar="NAME", help="a feature to set to level 0"
            )
        else:
            sub.add_argument(
                "--feature",
                action="append",
                default=[],
                metavar="NAME=LEVEL",
                help=f"a feature to {operation}, e.g. eligible.leader.replicas.version=1 (repeatable)",
            )
            sub.add_argument(
                "--release-version", metavar="VERSION", help="refused: odradek has no metadata.version"
            )
            sub.add_argument("--metadata", metavar="VERSION", help="refused: odradek has no metadata.version")
        if operation != "upgrade":
            sub.add_argument(
                "--unsafe",
                action="store_true",
                help="an unsafe downgrade (may lose metadata the level needs)",
            )
        sub.add_argument("--dry-run", action="store_true", help="validate the change, but do not make it")
        add_wire_arguments(sub)


def run(args: argparse.Namespace) -> int:
    from odradek.cli.errors import CliError
    from odradek.cli.feature_plan import PlanError

    try:
        return _describe(args) if args.action == "describe" else _update(args)
    except PlanError as exc:
        raise CliError(str(exc)) from None


def _describe(args: argparse.Namespace) -> int:
    from odradek import __version__
    from odradek.cli.errors import CliError
    from odradek.cli.feature_plan import describe_rows
    from odradek.cli.output import emit
    from odradek.cli.wire_client import BOOTSTRAP_NODE, CLIENT_ID, Cluster
    from odradek.cli.wire_options import wire_security
    from odradek.model.errors import ErrorCode
    from odradek.protocol.api_keys import ApiKey
    from odradek.protocol.messages import api_versions

    with Cluster.connect(args.bootstrap_server, args.timeout, wire_security(args)) as cluster:
        node = BOOTSTRAP_NODE
        if args.node_id is not None:
            cluster.load_metadata([])
            node = args.node_id
        request = api_versions.ApiVersionsRequest(CLIENT_ID, __version__)
        response = cluster.call(node, ApiKey.API_VERSIONS, request)
    if response.error_code:
        raise CliError(f"ApiVersions: {ErrorCode(response.error_code).name}")
    rows = describe_rows(
        ((f.name, f.min_version, f.max_version) for f in response.supported_features),
        {f.name: f.max_version_level for f in response.finalized_features},
        response.finalized_features_epoch,
    )
    emit("".join(row.line() + "\n" for row in rows))
    return 0


def _update(args: argparse.Namespace) -> int:
    from odradek.cli import feature_plan as plan
    from odradek.cli.errors import CliError
    from odradek.cli.output import emit
    from odradek.cli.wire_client import BOOTSTRAP_NODE, Cluster
    from odradek.cli.wire_options import wire_security
    from odradek.model.feature_update import UpgradeType
    from odradek.protocol.api_keys import ApiKey
    from odradek.protocol.messages import update_features as msg

    operation = args.action
    for flag in ("release_version", "metadata"):
        if getattr(args, flag, None) is not None:
            raise plan.no_metadata_version(f"--{flag.replace('_', '-')}")
    if operation == "upgrade":
        upgrade_type = UpgradeType.UPGRADE
    else:
        upgrade_type = plan.downgrade_type(args.unsafe)
    if operation == "disable":
        levels = [(name, 0) for name in args.feature]
    else:
        levels = [plan.parse_level(text) for text in args.feature]
    updates = plan.plan_updates(levels, upgrade_type, operation)
    request = msg.UpdateFeaturesRequest(
        timeout_ms=int(args.timeout * 1000),
        feature_updates=[
            msg.FeatureUpdateKey(
                u.feature,
                u.level,
                allow_downgrade=u.upgrade_type != UpgradeType.UPGRADE,
                upgrade_type=int(u.upgrade_type),
            )
            for u in updates
        ],
        validate_only=args.dry_run,
    )
    with Cluster.connect(args.bootstrap_server, args.timeout, wire_security(args)) as cluster:
        if args.dry_run and cluster.connection(BOOTSTRAP_NODE).version_for(ApiKey.UPDATE_FEATURES) < 1:
            raise CliError("--dry-run: the broker's UpdateFeatures has no validate_only (v1+)")
        response = cluster.call(BOOTSTRAP_NODE, ApiKey.UPDATE_FEATURES, request)
    errors = plan.update_errors(
        updates,
        response.error_code,
        response.error_message,
        ((r.feature, r.error_code, r.error_message) for r in response.results),
    )
    emit("".join(plan.outcome_line(operation, u, errors[u.feature], args.dry_run) + "\n" for u in updates))
    failed = sum(error is not None for error in errors.values())
    if failed:
        raise CliError(plan.failure_summary(failed, len(updates)))
    return 0
