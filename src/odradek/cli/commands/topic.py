"""`odradek topic create|list|describe|delete|alter-config|add-partitions` (kafka-topics.sh's vocabulary)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from odradek.cli.client_options import add_client_arguments, add_property_argument
from odradek.cli.output import add_output_argument


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("topic", help="create, list, describe, alter and delete topics")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    parser.set_defaults(func=run)

    create = actions.add_parser("create", help="create a topic")
    create.add_argument("name")
    create.add_argument("--partitions", type=int, default=-1, help="partition count (default: the broker's)")
    create.add_argument(
        "--replication-factor", type=int, default=-1, help="replicas per partition (default: the broker's)"
    )
    add_property_argument(create, "--config", help="topic config (repeatable)")
    create.add_argument("--if-not-exists", action="store_true", help="succeed if the topic already exists")
    create.add_argument(
        "--validate-only", action="store_true", help="let the broker check the request, create nothing"
    )

    listing = actions.add_parser("list", help="list topics")
    listing.add_argument(
        "--internal", action="store_true", help="include internal topics (__consumer_offsets...)"
    )
    add_output_argument(listing)

    describe = actions.add_parser("describe", help="partitions, replicas, offsets and configs of topics")
    describe.add_argument("names", nargs="+", metavar="NAME")
    add_output_argument(describe)

    delete = actions.add_parser("delete", help="delete topics")
    delete.add_argument("names", nargs="+", metavar="NAME")
    delete.add_argument("--if-exists", action="store_true", help="succeed for topics that do not exist")

    alter = actions.add_parser("alter-config", help="set or delete topic configs (incremental)")
    alter.add_argument("name")
    add_property_argument(alter, "--set")
    alter.add_argument(
        "--delete", metavar="KEY", action="append", default=[], help="revert a config to its default"
    )

    partitions = actions.add_parser("add-partitions", help="raise a topic's partition count")
    partitions.add_argument("name")
    partitions.add_argument("--total", type=int, required=True, help="the new partition count")

    for sub in (create, listing, describe, delete, alter, partitions):
        add_client_arguments(sub)


def run(args: argparse.Namespace) -> int:
    return ACTIONS[args.action](args)


def _create(args: argparse.Namespace) -> int:
    from confluent_kafka.admin import NewTopic

    from odradek.cli.clients import Admin
    from odradek.cli.errors import cli_error, error_name

    admin = Admin(args)
    topic = NewTopic(args.name, args.partitions, args.replication_factor, config=dict(args.config))
    futures = admin.client.create_topics(
        [topic], validate_only=args.validate_only, operation_timeout=admin.timeout, **admin.options
    )
    outcome = admin.gather(futures)[args.name]
    if isinstance(outcome, Exception):
        if args.if_not_exists and error_name(outcome) == "TOPIC_ALREADY_EXISTS":
            print(f"Topic {args.name} already exists.")
            return 0
        raise cli_error(outcome, f"topic {args.name}")
    print(
        f"Topic {args.name} can be created (validate only)."
        if args.validate_only
        else f"Created topic {args.name}."
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    from odradek.cli import topic_view
    from odradek.cli.clients import Admin
    from odradek.cli.output import emit_output
    from odradek.cli.topic_admin import describe_topics

    admin = Admin(args)
    metadata = admin.list_topics()
    described = describe_topics(admin, sorted(metadata.topics), skip_missing=True)
    listings = [
        topic_view.TopicListing(d.name, len(d.partitions), d.is_internal)
        for d in described.values()
        if args.internal or not d.is_internal
    ]
    emit_output(args.output, topic_view.list_doc(listings), topic_view.render_list_text(listings))
    return 0


def _describe(args: argparse.Namespace) -> int:
    from odradek.cli import topic_view
    from odradek.cli.clients import Admin
    from odradek.cli.output import emit_output
    from odradek.cli.topic_admin import eligible_leader_replicas, topic_views
    from odradek.cli.wire_options import wire_security

    names = list(dict.fromkeys(args.names))
    admin = Admin(args)
    elr = eligible_leader_replicas(args.bootstrap_server, admin.timeout, wire_security(args), names)
    views = topic_views(admin, names, elr)
    emit_output(args.output, topic_view.describe_doc(views), topic_view.render_describe_text(views))
    return 0


def _delete(args: argparse.Namespace) -> int:
    from odradek.cli.clients import Admin
    from odradek.cli.errors import CliError, cli_error, error_name

    admin = Admin(args)
    names = list(dict.fromkeys(args.names))
    outcomes = admin.gather(
        admin.client.delete_topics(names, operation_timeout=admin.timeout, **admin.options)
    )
    failures = []
    for name in names:
        outcome = outcomes[name]
        if not isinstance(outcome, Exception):
            print(f"Deleted topic {name}.")
        elif args.if_exists and error_name(outcome) == "UNKNOWN_TOPIC_OR_PART":
            print(f"Topic {name} does not exist.")
        else:
            failures.append(str(cli_error(outcome, f"topic {name}")))
    if failures:
        raise CliError("; ".join(failures))
    return 0


def _alter_config(args: argparse.Namespace) -> int:
    from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

    from odradek.cli.clients import Admin
    from odradek.cli.errors import CliError

    if not args.set and not args.delete:
        raise CliError("nothing to alter: give --set KEY=VALUE and/or --delete KEY", exit_code=2)
    entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in args.set]
    entries += [ConfigEntry(k, None, incremental_operation=AlterConfigOpType.DELETE) for k in args.delete]
    resource = ConfigResource(ResourceType.TOPIC, args.name, incremental_configs=entries)
    admin = Admin(args)
    admin.results(
        admin.client.incremental_alter_configs([resource], **admin.options), lambda _: f"topic {args.name}"
    )
    changes = [f"set {k}={v}" for k, v in args.set] + [f"deleted {k}" for k in args.delete]
    print(f"Altered configs of topic {args.name}: {', '.join(changes)}.")
    return 0


def _add_partitions(args: argparse.Namespace) -> int:
    from confluent_kafka.admin import NewPartitions

    from odradek.cli.clients import Admin

    admin = Admin(args)
    futures = admin.client.create_partitions(
        [NewPartitions(args.name, args.total)], operation_timeout=admin.timeout, **admin.options
    )
    admin.results(futures, lambda name: f"topic {name}")
    print(f"Topic {args.name} now has {args.total} partitions.")
    return 0


ACTIONS: dict[str, Callable[[argparse.Namespace], int]] = {
    "create": _create,
    "list": _list,
    "describe": _describe,
    "delete": _delete,
    "alter-config": _alter_config,
    "add-partitions": _add_partitions,
}
