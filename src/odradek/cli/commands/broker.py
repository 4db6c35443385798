"""`odradek broker`: run one broker (Kafka's kafka-server-start.sh, with Kafka's config names)."""

from __future__ import annotations

import argparse
from pathlib import Path

FLAG_NAMES = {
    "listeners": "listeners",
    "advertised_listeners": "advertised.listeners",
    "log_dirs": "log.dirs",
    "node_id": "node.id",
    "metrics_port": "odradek.metrics.port",
}


def add_broker_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, help="a server.properties file (Kafka's config names)")
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set any broker config, e.g. --override num.partitions=3 (repeatable)",
    )
    parser.add_argument("--listeners", help="e.g. PLAINTEXT://127.0.0.1:9092 (listeners)")
    parser.add_argument("--advertised-listeners", help="what clients are told to connect to")
    parser.add_argument("--log-dirs", help="comma-separated data directories (log.dirs)")
    parser.add_argument("--node-id", type=int, help="this broker's id (node.id)")
    parser.add_argument("--metrics-port", type=int, help="port of the Prometheus /metrics endpoint")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("broker", help="run a Kafka-compatible broker")
    add_broker_flags(parser)
    parser.set_defaults(func=run)


def properties_from_args(args: argparse.Namespace, defaults: dict[str, str] | None = None) -> dict[str, str]:
    from odradek.broker.config import read_properties

    props = dict(defaults or {})
    if args.config is not None:
        props.update(read_properties(args.config))
    for flag, name in FLAG_NAMES.items():
        value = getattr(args, flag)
        if value is not None:
            props[name] = str(value)
    for item in args.override:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--override expects NAME=VALUE, got {item!r}")
        props[name.strip()] = value.strip()
    return props


def run(args: argparse.Namespace) -> int:
    from odradek.process.dataclass_cache import cached_dataclass_methods

    # The code of the methods dataclasses generate comes from the cache the previous run left (its
    # compilation was a third of a start's CPU): for the broker's modules and for those imported at
    # the first request of each API. The cache is rewritten when the broker stops if it learnt any.
    with cached_dataclass_methods("broker"):
        from odradek.broker.runner import run_broker

        return run_broker(properties_from_args(args))


def import_broker() -> None:
    """Import the broker as `run` does, writing the cache (e.g. before a benchmark measures a start)."""
    from odradek.process.dataclass_cache import cached_dataclass_methods

    with cached_dataclass_methods("broker"):
        import odradek.broker.handlers.api_versions
        import odradek.broker.handlers.metadata
        import odradek.broker.runner  # noqa: F401
