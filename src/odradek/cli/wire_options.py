"""Flags of the commands that speak the Kafka protocol themselves (`wire_client.py`): the bootstrap
server and the timeout, as for every other command; no `-X` (there is no librdkafka underneath)."""

from __future__ import annotations

import argparse
import os

from odradek.cli.client_options import BOOTSTRAP_ENV, DEFAULT_BOOTSTRAP, DEFAULT_TIMEOUT_S


def add_wire_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection (PLAINTEXT)")
    group.add_argument(
        "-b",
        "--bootstrap-server",
        metavar="HOST:PORT",
        default=os.environ.get(BOOTSTRAP_ENV, DEFAULT_BOOTSTRAP),
        help=f"broker to bootstrap from (default ${BOOTSTRAP_ENV} or {DEFAULT_BOOTSTRAP})",
    )
    group.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        help=f"how long to wait for each answer (default {DEFAULT_TIMEOUT_S:g})",
    )
