"""`odradek consume TOPIC`: records to stdout (kafka-console-consumer, kcat -C)."""

from __future__ import annotations

import argparse
from typing import Any

from odradek.cli.client_options import add_client_arguments
from odradek.cli.output import add_output_argument
from odradek.cli.record_format import FIELDS

EPILOG = (
    "--format fields:\n"
    + "".join(f"  %{t}  {meaning}\n" for t, (meaning, _) in FIELDS.items())
    + (
        "  escapes \\n \\t \\r \\0 \\\\, and %% for a literal %\n"
        "--offset: N (absolute), -N (N before the end), beginning, end\n"
        "examples:\n"
        "  odradek consume orders --from-beginning --exit\n"
        "  odradek consume orders --offset -10 --format '%p:%o %k=%s\\n'\n"
        "  odradek consume orders --group billing --output json\n"
    )
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "consume",
        help="print a topic's records to stdout",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("topic")
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        "--from-beginning", action="store_true", help="start at the log start (same as --offset beginning)"
    )
    start.add_argument(
        "--offset", metavar="SPEC", help="N, -N (N before the end), beginning or end (default end)"
    )
    parser.add_argument("--partition", type=int, help="read only this partition")
    parser.add_argument("--count", type=int, metavar="N", help="stop after N records")
    parser.add_argument("--exit", action="store_true", help="stop at the end of every partition (kcat -e)")
    parser.add_argument("--group", metavar="GROUP", help="join this consumer group and commit offsets")
    parser.add_argument(
        "--isolation-level",
        choices=("read_committed", "read_uncommitted"),
        default="read_committed",
        help="skip records of open or aborted transactions (read_committed, the default) or not",
    )
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--format", metavar="FMT", help="kcat-style output format (default '%%s\\n')")
    shape.add_argument("-K", "--key-delimiter", metavar="DELIM", help="print key DELIM value per record")
    add_output_argument(parser, "text (per --format) or json: one JSON object per record")
    add_client_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from odradek.cli.consume_loop import consume_records

    return consume_records(args)
