"""Key lookups without parsing: pull queries that differ only in their string literals share a plan.

A dashboard or service asking `SELECT * FROM t WHERE id = 'x';` for ever new keys would parse,
analyze and plan the same statement each time (most of the CPU of a key lookup). Here the
statement's string literals are replaced by placeholders (its *shape*); the first request of a shape
plans it once. When that plan is a plain key lookup — the WHERE is exactly `key = literal` or
`key IN (literals)` on a materialized, unwindowed table with one STRING key, and those are the
statement's only string literals — later requests of the shape reuse it: the keys are the literals of
the request, the rows come from the store, and the projection (compiled once) runs on them. Any other
shape, or text with comments or `${variables}`, goes the normal way. The cache is dropped whenever the
metastore changes (a command was applied).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from odradek.sql.parser import ast
from odradek.sql.plan import expressions as ir
from odradek.sql.plan.logical import FilterNode, SourceNode
from odradek.sql.plan.planner import PlannedQuery
from odradek.sql.schema import Namespace
from odradek.sql.types import BaseType

_STRING = re.compile(r"'((?:[^']|'')*)'")
_QUOTED_IDENTIFIER_WITH_QUOTE = re.compile(r"`[^`]*'[^`]*`|\"[^\"]*'[^\"]*\"")
_PLACEHOLDER = "\u2063odradek-param-{}\u2063"  # an invisible separator: no real key looks like this
MAX_SHAPES = 256


@dataclass(frozen=True, slots=True)
class Lookup:
    """A planned key lookup whose keys are the request's string literals (in text order)."""

    stmt: ast.Query
    planned: PlannedQuery
    query_id: str  # the persistent query whose store holds the table
    compiled: list[Any] = field(default_factory=list, compare=False)
    """Filled on first use by the executor: what each request of the shape runs (projection etc.)."""


def shape_of(text: str) -> tuple[str, list[str]] | None:
    """The text with its string literals replaced by placeholders, and the literals (unescaped)."""
    if "--" in text or "/*" in text or "${" in text or "\u2063" in text:
        return None
    if _QUOTED_IDENTIFIER_WITH_QUOTE.search(text):  # a ' inside `...` is no string delimiter
        return None
    literals: list[str] = []

    def placeholder(m: re.Match[str]) -> str:
        literals.append(m.group(1).replace("''", "'"))
        return "'" + _PLACEHOLDER.format(len(literals) - 1) + "'"

    shape = _STRING.sub(placeholder, text)
    return (shape, literals) if literals and "'" not in _STRING.sub("", text) else None


def as_lookup(stmt: ast.Statement, planned: PlannedQuery | None, count: int) -> Lookup | None:
    """The plan of a shape as a reusable key lookup, or None when it is anything more."""
    if not isinstance(stmt, ast.Query) or planned is None or stmt.emit is not None:
        return None
    if stmt.order_by or stmt.offset or planned.input_order:
        return None
    project = planned.root
    where = getattr(project, "input", None)
    if not isinstance(where, FilterNode) or where.clause != "WHERE":
        return None
    source_node = where.input
    if not isinstance(source_node, SourceNode):
        return None
    source = source_node.source
    keys = source.schema.key
    if (
        source.created_by is None
        or not source.is_table
        or source.is_windowed
        or len(keys) != 1
        or keys[0].type.base is not BaseType.STRING
    ):
        return None
    pred = where.predicate
    if isinstance(pred, ir.Binary) and pred.op == "=":
        items = [pred.right] if _is_key(pred.left, keys[0].name) else []
    elif isinstance(pred, ir.InList) and not pred.negated and _is_key(pred.operand, keys[0].name):
        items = list(pred.items)
    else:
        return None
    expected = [_PLACEHOLDER.format(i) for i in range(count)]
    if [i.value if isinstance(i, ir.Literal) else None for i in items] != expected:
        return None
    return Lookup(stmt, planned, source.created_by)


def _is_key(e: ir.Expr, name: str) -> bool:
    return isinstance(e, ir.ColumnRef) and e.namespace is Namespace.KEY and e.name == name


class LookupCache:
    """Shapes -> key lookups (None: a shape that is not one), valid for one metastore generation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = -1
        self._shapes: dict[tuple[str, str], Lookup | None] = {}

    def get(self, generation: int, key: tuple[str, str]) -> tuple[bool, Lookup | None]:
        with self._lock:
            if generation != self._generation:
                self._shapes.clear()
                self._generation = generation
            if key in self._shapes:
                return True, self._shapes[key]
            return False, None

    def put(self, generation: int, key: tuple[str, str], lookup: Lookup | None) -> None:
        with self._lock:
            if generation == self._generation:
                if len(self._shapes) >= MAX_SHAPES:
                    self._shapes.pop(next(iter(self._shapes)))
                self._shapes[key] = lookup
