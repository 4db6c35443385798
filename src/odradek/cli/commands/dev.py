"""`odradek dev`: everything in one process on a local data directory (./odradek-data)."""

from __future__ import annotations

import argparse

from odradek.cli.commands.broker import add_broker_flags, properties_from_args

DEV_DEFAULTS = {
    "listeners": "PLAINTEXT://127.0.0.1:9092",
    "log.dirs": "./odradek-data",
    "odradek.metrics.port": "9464",
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("dev", help="run everything in one process (data in ./odradek-data)")
    add_broker_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from odradek.broker.runner import run_broker

    return run_broker(properties_from_args(args, DEV_DEFAULTS))
