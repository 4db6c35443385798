"""`odradek produce TOPIC`: records from stdin, one per line by default (kafka-console-producer, kcat -P)."""

from __future__ import annotations

import argparse
from typing import Any

from odradek.cli.client_options import add_client_arguments, add_property_argument
from odradek.cli.record_format import FIELDS
from odradek.cli.record_input import INPUT_FIELDS

EPILOG = (
    "input --format fields:\n"
    + "".join(f"  %{t}  {FIELDS[t][0]}\n" for t in INPUT_FIELDS)
    + (
        "  escapes \\n \\t \\r \\0 \\\\, and %% for a literal %; the format must end with a terminator.\n"
        "examples:\n"
        "  odradek produce orders -K :                  # key:value per line\n"
        "  odradek produce orders --format '%k\\t%h\\t%s\\n'  # key, headers k=v,k2=v2, value\n"
    )
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "produce",
        help="write records read from stdin to a topic",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("topic")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("-K", "--key-delimiter", metavar="DELIM", help="split each line into key DELIM value")
    shape.add_argument(
        "--format", metavar="FMT", help="parse input records with a kcat-style format (see below)"
    )
    add_property_argument(parser, "--header", help="header on every record")
    parser.add_argument("--partition", type=int, help="send every record to this partition")
    parser.add_argument(
        "--acks", choices=("0", "1", "all"), default="all", help="acknowledgements (default all)"
    )
    parser.add_argument(
        "--compression",
        choices=("none", "gzip", "snappy", "lz4", "zstd"),
        default="none",
        help="batch compression",
    )
    parser.add_argument(
        "--null-value-marker", metavar="TEXT", help="a value equal to TEXT is sent as null (tombstone)"
    )
    parser.add_argument(
        "--idempotent", action="store_true", help="idempotent producer (no duplicates on retry)"
    )
    parser.add_argument(
        "--progress", action="store_true", help="progress lines on stderr even when it is not a TTY"
    )
    add_client_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from odradek.cli.produce_loop import produce_stream

    return produce_stream(args)
