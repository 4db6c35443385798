"""Evaluate one SQL expression over one row, through the parser, analyzer and code generator."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from odradek.sql import types as t
from odradek.sql.errors import Position
from odradek.sql.functions import FunctionRegistry, builtin_registry
from odradek.sql.parser.grammar import StatementParser
from odradek.sql.plan.analyzer import ExpressionAnalyzer, PositionMap, Scope, ScopeColumn
from odradek.sql.plan.codegen import RowContext, compile_expression
from odradek.sql.schema import Namespace

_REGISTRY: list[FunctionRegistry] = []


def parse_expression(text: str) -> exp.Expr:
    parser = StatementParser(text, 0, text)
    node = parser.expression()
    parser.expect_end()
    return node


def evaluate(
    text: str, row: dict[str, tuple[t.SqlType, Any]] | None = None, registry: FunctionRegistry | None = None
) -> Any:
    """The value of `text` with columns {name: (type, value)} in the row's value."""
    if registry is None:
        if not _REGISTRY:
            _REGISTRY.append(builtin_registry())
        registry = _REGISTRY[0]
    scope = Scope()
    for name, (typ, _) in (row or {}).items():
        scope.add(ScopeColumn(name, typ, Namespace.VALUE, None, name))
    analyzer = ExpressionAnalyzer(scope, registry, PositionMap(text, Position(1, 1)))
    e = analyzer.analyze(parse_expression(text))
    fn = compile_expression(e, [])
    return fn((), {n: v for n, (_, v) in (row or {}).items()}, RowContext())


def type_of(text: str, row: dict[str, tuple[t.SqlType, Any]] | None = None) -> t.SqlType:
    if not _REGISTRY:
        _REGISTRY.append(builtin_registry())
    scope = Scope()
    for name, (typ, _) in (row or {}).items():
        scope.add(ScopeColumn(name, typ, Namespace.VALUE, None, name))
    return (
        ExpressionAnalyzer(scope, _REGISTRY[0], PositionMap(text, Position(1, 1)))
        .analyze(parse_expression(text))
        .type
    )
