"""Splitting a request's text into statements, and `${name}` variable substitution.

ksqlDB runs the statements of one request in order, and a `DEFINE` changes how the statements after
it read, so the text is split first (on `;` outside quotes and comments) and each statement is
substituted and parsed just before it runs. A statement keeps its offset in the whole text so that
error positions are those of the request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from odradek.sql.errors import KsqlSyntaxError, Position


@dataclass(frozen=True)
class StatementText:
    text: str  # without the trailing ';'
    offset: int  # of its first character in the request


def split_statements(text: str) -> list[StatementText]:
    """Statements separated by `;` outside 'strings', `identifiers`, "identifiers" and comments."""
    out: list[StatementText] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "'`\"":
            i = _skip_quoted(text, i, ch)
            continue
        if text.startswith("--", i):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl + 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if ch == ";":
            _append(out, text, start, i)
            start = i + 1
        i += 1
    _append(out, text, start, n)
    return out


def _append(out: list[StatementText], text: str, start: int, end: int) -> None:
    chunk = text[start:end]
    if _is_blank(chunk):
        return
    lead = len(chunk) - len(chunk.lstrip())
    out.append(StatementText(chunk.strip(), start + lead))


def _is_blank(chunk: str) -> bool:
    """Only whitespace and comments."""
    stripped = re.sub(r"--[^\n]*|/\*.*?\*/", "", chunk, flags=re.S)
    return not stripped.strip()


def _skip_quoted(text: str, i: int, quote: str) -> int:
    j = i + 1
    while j < len(text):
        if text[j] == quote:
            if j + 1 < len(text) and text[j + 1] == quote:  # doubled quote = escaped
                j += 2
                continue
            return j + 1
        j += 1
    return j


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute(text: str, variables: Mapping[str, str], base: str = "") -> str:
    """Replace `${name}` with the variable's value (names are case-insensitive, as in ksqlDB)."""
    if "${" not in text:
        return text
    lowered = {k.lower(): v for k, v in variables.items()}

    def repl(m: re.Match[str]) -> str:
        value = lowered.get(m.group(1).lower())
        if value is None:
            line = (base + text[: m.start()]).count("\n") + 1
            col = m.start() - text.rfind("\n", 0, m.start())
            raise KsqlSyntaxError(
                f"Variable '{m.group(1)}' is not defined (DEFINE {m.group(1)} = '...';)",
                position=Position(line, col),
            )
        return value

    return _VARIABLE.sub(repl, text)
