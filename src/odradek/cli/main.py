"""The `odradek` command: one subcommand module per noun (`cli/commands/*.py`).

Each command module exposes ``register(subparsers)``, which adds its parser and sets
``func=run(args) -> int`` on it. Modules are imported only to register their flags; heavy imports
(the broker, confluent-kafka) happen inside ``run`` so `odradek --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from odradek import __version__

COMMANDS = (
    "broker",
    "dev",
    "cluster",
    "registry",
    "schema",
    "rest-proxy",
    "topic",
    "partitions",
    "produce",
    "consume",
    "group",
    "transactions",
    "producers",
    "acl",
    "user",
    "quota",
    "features",
    "connect",
    "streams",
    "sql-server",
    "sql",
)


def build_parser(commands: Sequence[str] = COMMANDS) -> argparse.ArgumentParser:
    """The parser with `commands` (all by default: `odradek --help` lists every one)."""
    parser = argparse.ArgumentParser(
        prog="odradek", description="A Kafka-compatible event streaming platform."
    )
    parser.add_argument("--version", action="version", version=f"odradek {__version__}")
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="log level (default INFO)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        importlib.import_module(f"odradek.cli.commands.{name.replace('-', '_')}").register(subparsers)
    return parser


def named_command(argv: Sequence[str]) -> str | None:
    """The command an argument list names (its first argument that is one), if any."""
    return next((arg for arg in argv if arg in COMMANDS), None)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else list(argv)
    named = named_command(args_list)
    # Only the named command's module is imported (a broker starts without the other commands'
    # imports); without one, every command is registered for the help.
    parser = build_parser(COMMANDS if named is None else (named,))
    args = parser.parse_args(args_list)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from odradek.cli.logs import configure_logging

    configure_logging(args.log_level)
    from odradek.cli.errors import CliError

    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"odradek: error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
