"""Flags of the commands that speak the Kafka protocol themselves (`wire_client.py`): the bootstrap
server and the timeout, as for every other command; no `-X` (there is no librdkafka underneath)."""

from __future__ import annotations

import argparse

from odradek.cli.client_options import add_bootstrap_argument, add_timeout_argument


def add_wire_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connection (PLAINTEXT)")
    add_bootstrap_argument(group)
    add_timeout_argument(group, "how long to wait for each answer")
