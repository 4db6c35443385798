"""Parsing ksqlDB statements: text -> `ast.Statement`s.

    from odradek.sql.parser import parse
    [stmt] = parse("CREATE STREAM pageviews (id STRING KEY, url STRING) WITH (kafka_topic='pv', value_format='JSON');")

`split_statements` + `parse_statement` parse one statement at a time, which the engine uses so that
a `DEFINE` applies to the statements after it.
"""

from __future__ import annotations

from collections.abc import Mapping

from odradek.sql.parser import ast
from odradek.sql.parser.grammar import StatementParser
from odradek.sql.parser.splitter import StatementText, split_statements, substitute


def parse_statement(
    statement: StatementText, request: str, variables: Mapping[str, str] | None = None
) -> ast.Statement:
    """Parse one statement of `request` (after `${var}` substitution); `text` keeps a trailing ';'."""
    text = substitute(statement.text, variables or {}, request[: statement.offset])
    parser = StatementParser(
        text, statement.offset, request if text == statement.text else _shifted(request, statement, text)
    )
    stmt = parser.statement()
    object.__setattr__(stmt, "text", text + ";")
    object.__setattr__(stmt, "position", parser._pos_of(0))
    return stmt


def _shifted(request: str, statement: StatementText, text: str) -> str:
    """The request with one statement replaced by its substituted text (for positions)."""
    return request[: statement.offset] + text + request[statement.offset + len(statement.text) :]


def parse(text: str, variables: Mapping[str, str] | None = None) -> list[ast.Statement]:
    """Every statement of `text`, in order."""
    return [parse_statement(s, text, variables) for s in split_statements(text)]


def parse_one(text: str, variables: Mapping[str, str] | None = None) -> ast.Statement:
    statements = parse(text, variables)
    if len(statements) != 1:
        raise ValueError(f"expected one statement, got {len(statements)}")
    return statements[0]


__all__ = ["StatementText", "ast", "parse", "parse_one", "parse_statement", "split_statements"]
