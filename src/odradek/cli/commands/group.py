"""`odradek group list|describe|delete|reset-offsets` (kafka-consumer-groups.sh's vocabulary)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from odradek.cli.client_options import add_client_arguments
from odradek.cli.output import add_output_argument


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "group", help="list, describe, delete consumer groups and reset their offsets"
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    parser.set_defaults(func=run)

    listing = actions.add_parser("list", help="list consumer groups")
    listing.add_argument(
        "--state", action="append", default=[], help="only groups in this state (repeatable)"
    )
    add_output_argument(listing)

    describe = actions.add_parser("describe", help="state, members, committed offsets and lag of groups")
    describe.add_argument("groups", nargs="+", metavar="GROUP")
    add_output_argument(describe)

    delete = actions.add_parser("delete", help="delete consumer groups (they must be empty)")
    delete.add_argument("groups", nargs="+", metavar="GROUP")

    reset = actions.add_parser(
        "reset-offsets",
        help="plan, then apply with --execute, new committed offsets for an inactive group",
        description="Prints the plan; changes nothing unless --execute is given.",
    )
    reset.add_argument("--group", required=True)
    scope = reset.add_mutually_exclusive_group(required=True)
    scope.add_argument(
        "--topic", action="append", metavar="TOPIC[:P,P]", help="topic, or some of its partitions"
    )
    scope.add_argument(
        "--all-topics", action="store_true", help="every topic the group has committed offsets for"
    )
    strategy = reset.add_mutually_exclusive_group(required=True)
    strategy.add_argument("--to-earliest", action="store_true")
    strategy.add_argument("--to-latest", action="store_true")
    strategy.add_argument(
        "--to-datetime", metavar="ISO8601", help="e.g. 2024-05-01T12:00:00Z (no zone: local time)"
    )
    strategy.add_argument(
        "--shift-by", type=int, metavar="N", help="move the committed offset by N (may be negative)"
    )
    strategy.add_argument("--to-offset", type=int, metavar="N")
    mode = reset.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="only print the plan (the default)")
    mode.add_argument("--execute", action="store_true", help="apply the plan")
    add_output_argument(reset)

    for sub in (listing, describe, delete, reset):
        add_client_arguments(sub)


def run(args: argparse.Namespace) -> int:
    return ACTIONS[args.action](args)


def _list(args: argparse.Namespace) -> int:
    from confluent_kafka import ConsumerGroupState

    from odradek.cli import group_view
    from odradek.cli.clients import Admin
    from odradek.cli.errors import CliError
    from odradek.cli.group_admin import state_name, type_name
    from odradek.cli.output import emit_output

    try:
        states = {ConsumerGroupState[group_view.parse_state(s)] for s in args.state}
    except ValueError as exc:
        raise CliError(str(exc), exit_code=2) from exc
    admin = Admin(args)
    options = {"states": states} if states else {}
    result = admin.result(admin.client.list_consumer_groups(**options, **admin.options))
    listings = sorted(
        (
            group_view.GroupListing(g.group_id, state_name(g), type_name(g), g.is_simple_consumer_group)
            for g in result.valid
        ),
        key=lambda g: g.group,
    )
    if result.errors:
        raise CliError(f"listing groups: {result.errors[0]}")
    emit_output(args.output, group_view.list_doc(listings), group_view.render_list_text(listings))
    return 0


def _describe(args: argparse.Namespace) -> int:
    from odradek.cli import group_view
    from odradek.cli.clients import Admin
    from odradek.cli.group_admin import group_views
    from odradek.cli.output import emit_output

    views = group_views(Admin(args), list(dict.fromkeys(args.groups)))
    emit_output(args.output, group_view.describe_doc(views), group_view.render_describe_text(views))
    return 0


def _delete(args: argparse.Namespace) -> int:
    from odradek.cli.clients import Admin
    from odradek.cli.errors import CliError, cli_error

    admin = Admin(args)
    groups = list(dict.fromkeys(args.groups))
    outcomes = admin.gather(admin.client.delete_consumer_groups(groups, **admin.options))
    failures = []
    for group in groups:
        if isinstance(outcomes[group], Exception):
            failures.append(str(cli_error(outcomes[group], f"group {group}")))
        else:
            print(f"Deleted group {group}.")
    if failures:
        raise CliError("; ".join(failures))
    return 0


def _strategy(args: argparse.Namespace) -> Any:
    from odradek.cli import reset_plan as rp

    if args.to_earliest:
        return rp.ToEarliest()
    if args.to_latest:
        return rp.ToLatest()
    if args.to_datetime is not None:
        return rp.ToDatetime(rp.parse_datetime_ms(args.to_datetime))
    if args.shift_by is not None:
        return rp.ShiftBy(args.shift_by)
    return rp.ToOffset(args.to_offset)


def _reset_offsets(args: argparse.Namespace) -> int:
    import sys

    from odradek.cli import reset_plan as rp
    from odradek.cli.clients import Admin
    from odradek.cli.errors import CliError
    from odradek.cli.group_admin import committed_offsets, describe_groups, partition_states, state_name
    from odradek.cli.group_admin import topic_partitions as resolve_partitions
    from odradek.cli.output import emit_output

    group = args.group
    try:
        strategy = _strategy(args)
        topics = [rp.parse_topic_partitions(t) for t in args.topic or ()]
    except rp.ResetError as exc:
        raise CliError(str(exc), exit_code=2) from exc
    admin = Admin(args)
    try:
        rp.check_resettable(group, state_name(describe_groups(admin, [group])[group]))
        committed = committed_offsets(admin, group)
        partitions = sorted(committed) if args.all_topics else resolve_partitions(admin, topics)
        if not partitions:
            raise CliError(f"group {group} has no committed offsets: name the topics with --topic")
        plan = rp.plan_reset(strategy, partition_states(admin, strategy, partitions, committed))
    except rp.ResetError as exc:
        raise CliError(str(exc)) from exc
    if args.execute:
        _apply(admin, group, plan)
    emit_output(
        args.output, rp.plan_doc(group, plan, executed=args.execute), rp.render_plan_text(group, plan)
    )
    if not args.execute:
        print("Dry run: nothing changed (add --execute to apply).", file=sys.stderr)
    return 0


def _apply(admin: Any, group: str, plan: list[Any]) -> None:
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

    from odradek.cli.errors import CliError, kafka_error_message

    offsets = [
        TopicPartition(p.topic_partition.topic, p.topic_partition.partition, p.new_offset) for p in plan
    ]
    futures = admin.client.alter_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, offsets)], **admin.options
    )
    result = admin.results(futures, lambda g: f"group {g}")[group]
    for tp in result.topic_partitions or ():
        if tp.error is not None:
            raise CliError(kafka_error_message(tp.error, f"group {group} {tp.topic}-{tp.partition}"))


ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "list": _list,
    "describe": _describe,
    "delete": _delete,
    "reset-offsets": _reset_offsets,
}
