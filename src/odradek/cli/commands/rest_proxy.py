"""`odradek rest-proxy`: the REST proxy (Confluent's v2 and v3 APIs) as its own process."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "rest-proxy", help="run the REST proxy (Confluent REST Proxy v2/v3 API) against a Kafka cluster"
    )
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers HOST:PORT")
    parser.add_argument(
        "--schema-registry", metavar="URL", help="schema registry for avro/jsonschema/protobuf"
    )
    parser.add_argument(
        "--listen", default="127.0.0.1:8082", help="HOST:PORT to serve on (default 127.0.0.1:8082)"
    )
    parser.add_argument("-c", "--config", type=Path, help="a properties file of REST proxy configs")
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a REST proxy config, e.g. --override consumer.max.instances=100 (repeatable)",
    )
    parser.set_defaults(func=run)


def properties(args: argparse.Namespace) -> dict[str, str]:
    from odradek.cli.errors import CliError

    props: dict[str, str] = {}
    if args.config is not None:
        from odradek.broker.config import read_properties

        props.update(read_properties(args.config))
    props["bootstrap.servers"] = args.bootstrap
    props["listeners"] = args.listen
    if args.schema_registry:
        props["schema.registry.url"] = args.schema_registry
    for item in args.override:
        name, sep, value = item.partition("=")
        if not sep:
            raise CliError(f"--override expects NAME=VALUE, got {item!r}")
        props[name.strip()] = value.strip()
    return props


def run(args: argparse.Namespace) -> int:
    from odradek.cli.errors import CliError
    from odradek.http import parse_listen, serve
    from odradek.rest.app import NAME, build_app
    from odradek.rest.config import ConfigError, RestConfig

    try:
        config = RestConfig.from_properties(properties(args))
        address = parse_listen(config.text("listeners"), default_port=8082)
    except (ConfigError, ValueError) as exc:
        raise CliError(str(exc)) from None
    return serve(build_app(config), NAME, address)
