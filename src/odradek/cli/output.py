"""`--output text|json` for listings and descriptions.

text: aligned columns for humans (a missing value prints as "-"); json: exactly one JSON document
on stdout, with the keys each command documents (stable across versions: keys are only added).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence

FORMATS = ("text", "json")


def add_output_argument(
    parser: argparse.ArgumentParser, help: str = "text (default) or json: one JSON document on stdout"
) -> None:
    parser.add_argument("--output", choices=FORMATS, default="text", help=help)


def cell(value: object) -> str:
    return "-" if value is None else str(value)


def render_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Columns separated by two spaces, each as wide as its widest cell; the last is not padded."""
    table = [list(headers), *([cell(v) for v in row] for row in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in table]
    return "\n".join(lines) + "\n"


def render_json(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def emit(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def emit_output(output: str, document: object, text: str) -> None:
    """What `--output` asks for: `document` as JSON, or the text."""
    emit(render_json(document) if output == "json" else text)
