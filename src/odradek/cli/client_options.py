"""Flags every Kafka-client command shares: `-b/--bootstrap-server`, `--command-config FILE`,
`-X key=value`, `--timeout`.

A command's librdkafka configuration is built in this order, later entries winning: the CLI's
base settings, the command's own flags (`--acks`, `--group`...), the `--command-config` file (Kafka
client properties: security settings, translated by `command_config.py`), then `-X` properties; so
`-X` can override anything, as with kcat.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
BOOTSTRAP_ENV = "ODRADEK_BOOTSTRAP"
COMMAND_CONFIG_ENV = "ODRADEK_COMMAND_CONFIG"
DEFAULT_TIMEOUT_S = 30.0
CLIENT_ID = "odradek-cli"

Config = dict[str, str | int | float | bool]


def parse_property(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key.strip(), value


def add_property_argument(
    container: argparse._ActionsContainer, flag: str, *, help: str | None = None, dest: str | None = None
) -> None:
    """A repeatable `flag KEY=VALUE` option, collected as a list of (key, value) pairs."""
    container.add_argument(
        flag, dest=dest, metavar="KEY=VALUE", type=parse_property, action="append", default=[], help=help
    )


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    add_bootstrap_argument(group)
    add_command_config_argument(group)
    add_property_argument(
        group,
        "-X",
        dest="properties",
        help="any librdkafka property, e.g. -X security.protocol=SSL (repeatable; wins over other flags)",
    )
    add_timeout_argument(group, "how long to wait for the cluster's answers")


def add_bootstrap_argument(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "-b",
        "--bootstrap-server",
        metavar="HOST:PORT",
        default=os.environ.get(BOOTSTRAP_ENV, DEFAULT_BOOTSTRAP),
        help=f"broker to bootstrap from (default ${BOOTSTRAP_ENV} or {DEFAULT_BOOTSTRAP})",
    )


def add_command_config_argument(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--command-config",
        metavar="FILE",
        default=os.environ.get(COMMAND_CONFIG_ENV),
        help=f"Kafka client properties (security.protocol, sasl.*, ssl.*), as Kafka's tools take "
        f"(default ${COMMAND_CONFIG_ENV})",
    )


def add_timeout_argument(group: argparse._ArgumentGroup, what: str) -> None:
    group.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"{what} (default {DEFAULT_TIMEOUT_S:g})",
    )


def client_config(
    bootstrap: str,
    properties: list[tuple[str, str]],
    *,
    flags: Mapping[str, str | int | float | bool] | None = None,
    verbose: bool = False,
    command_config: str | None = None,
) -> Config:
    """The librdkafka configuration; librdkafka's own log lines are off unless `verbose`
    (failures surface as the CLI's one-line errors instead)."""
    config: Config = {
        "bootstrap.servers": bootstrap,
        "client.id": CLIENT_ID,
        "log_level": 7 if verbose else 0,
    }
    config.update(flags or {})
    if command_config:
        from pathlib import Path

        from odradek.cli.command_config import CommandConfigError, read_command_config
        from odradek.cli.errors import CliError

        try:
            config.update(read_command_config(Path(command_config)))
        except CommandConfigError as exc:
            raise CliError(f"--command-config: {exc}") from exc
    config.update(dict(properties))
    return config
