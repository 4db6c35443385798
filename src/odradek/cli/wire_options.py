"""Flags of the commands that speak the Kafka protocol themselves (`wire_client.py`): the bootstrap
server, `--command-config` and the timeout, as for every other command; no `-X` (there is no
librdkafka underneath)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from odradek.cli.client_options import (
    add_bootstrap_argument,
    add_command_config_argument,
    add_timeout_argument,
)

if TYPE_CHECKING:
    from odradek.cli.wire_security import WireSecurity


def add_wire_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection")
    add_bootstrap_argument(group)
    add_command_config_argument(group)
    add_timeout_argument(group, "how long to wait for each answer")


def wire_security(args: argparse.Namespace) -> WireSecurity:
    """The TLS/SASL settings of `--command-config` (PLAINTEXT without one)."""
    from pathlib import Path

    from odradek.broker.config import read_properties
    from odradek.cli.errors import CliError
    from odradek.cli.wire_security import WireSecurity

    path = getattr(args, "command_config", None)
    if not path:
        return WireSecurity()
    try:
        return WireSecurity.from_properties(read_properties(Path(path)))
    except OSError as exc:
        raise CliError(f"--command-config: cannot read {path}: {exc.strerror}") from exc
