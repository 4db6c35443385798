"""`odradek registry`: run the schema registry, or check a schema (`odradek registry check`).

odradek registry --bootstrap HOST:PORT [--listen HOST:PORT] [-c registry.properties] [--override k=v]
odradek registry check SUBJECT --schema FILE [--type AVRO|JSON|PROTOBUF] [--against-data TOPIC] [--url URL]
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "registry", help="run a Confluent-compatible schema registry (or: registry check SUBJECT ...)"
    )
    parser.add_argument("-c", "--config", type=Path, help="a properties file (Confluent's config names)")
    parser.add_argument("--bootstrap", help="Kafka bootstrap servers (kafkastore.bootstrap.servers)")
    parser.add_argument(
        "--listen", help="HOST:PORT or http://HOST:PORT to serve on (listeners; default :8081)"
    )
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set any registry config (repeatable)",
    )
    parser.set_defaults(func=run)
    actions = parser.add_subparsers(dest="registry_action", metavar="ACTION")
    from odradek.cli.commands.schema import add_check_arguments

    check = actions.add_parser("check", help="check a proposed schema against a subject (and a topic's data)")
    add_check_arguments(check, with_data=True)


def properties(args: argparse.Namespace) -> dict[str, str]:
    from odradek.cli.errors import CliError

    props: dict[str, str] = {}
    if args.config is not None:
        from odradek.broker.config import read_properties  # Java properties syntax, shared with the broker

        props.update(read_properties(args.config))
    if args.bootstrap:
        props["kafkastore.bootstrap.servers"] = args.bootstrap
    if args.listen:
        props["listeners"] = args.listen
    for item in args.override:
        name, sep, value = item.partition("=")
        if not sep:
            raise CliError(f"--override expects NAME=VALUE, got {item!r}")
        props[name.strip()] = value.strip()
    props.setdefault("kafkastore.bootstrap.servers", "127.0.0.1:9092")
    return props


def run(args: argparse.Namespace) -> int:
    if getattr(args, "registry_action", None) == "check":
        from odradek.cli.commands.schema import run_check

        return run_check(args)
    from odradek.cli.errors import CliError
    from odradek.registry.app import run as run_registry

    try:
        return run_registry(properties(args))
    except ValueError as exc:
        raise CliError(str(exc)) from exc
