"""Pull queries over joins of materialized tables: the joined rows of their snapshots.

`SELECT … FROM a JOIN b ON a.k = b.k WHERE …` (primary-key joins, INNER/LEFT/RIGHT/FULL) and
foreign-key joins (`ON a.fk = b.k`, INNER/LEFT) are answered like a query over one table: each
table's rows are read (from its store when this server runs the query that materializes it, else
by scanning its topic), joined here into rows shaped like the join's output (key `KSQL_JOIN_KEY`,
values named `ALIAS_COLUMN`), and the rest of the query (WHERE, GROUP BY, projection, ORDER BY,
LIMIT/OFFSET) runs on them. Multi-way joins (`a JOIN b … JOIN c …`, any mix of the kinds above)
join left to right, as the plan nests them: the joined rows of `a` and `b` are the left side of the
join with `c`. Each table is one consistent snapshot; they are read one after the other, not at one
instant.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from odradek.sql.errors import KsqlAnalysisError
from odradek.sql.parser.ast import JoinType
from odradek.sql.plan.logical import JoinKind, JoinNode, SourceNode
from odradek.sql.pull.snapshot import Row

KeyFn = Callable[[Row], Any]


def check_pullable(node: JoinNode) -> list[SourceNode]:
    """The tables of a join a pull query can answer, left to right (raises with the reason otherwise)."""
    left, right = node.left, node.right
    if isinstance(left, JoinNode):
        tables = check_pullable(left)
    elif isinstance(left, SourceNode):
        tables = [left]
    else:
        tables = []
    if not tables or not isinstance(right, SourceNode):
        raise KsqlAnalysisError(
            "Pull queries join tables only (each side a table, or the join of tables before it); create a table with CREATE TABLE AS SELECT for more."
        )
    if node.kind not in (JoinKind.TABLE_TABLE, JoinKind.FOREIGN_KEY):
        raise KsqlAnalysisError(
            f"Pull queries join tables only, not a {node.kind.value} join; use a push query (EMIT CHANGES)."
        )
    if right.source.is_windowed or any(t.source.is_windowed for t in tables):
        raise KsqlAnalysisError("Pull queries cannot join windowed tables.")
    return [*tables, right]


def _prefixed(node: SourceNode, row: Row | None) -> dict[str, Any]:
    schema = node.source.schema
    if row is None:
        return {f"{node.alias}_{c.name}": None for c in (*schema.key, *schema.value)}
    key, value = row[0], row[1]
    out = {f"{node.alias}_{c.name}": key[i] for i, c in enumerate(schema.key)}
    for c in schema.value:
        out[f"{node.alias}_{c.name}"] = value.get(c.name)
    return out


def _columns(side: SourceNode | JoinNode, row: Row | None) -> dict[str, Any]:
    """One side's columns in the join's output: a table's prefixed with its alias; the rows of a
    join before this one already are."""
    if isinstance(side, SourceNode):
        return _prefixed(side, row)
    if row is None:
        return {c.name: None for c in side.schema.value}
    return row[1]


def join_rows(
    node: JoinNode, left_rows: list[Row], right_rows: list[Row], foreign_key: KeyFn | None
) -> list[Row]:
    """The rows of the join's output for these snapshots of its two sides (the left one the joined
    rows of the joins before it, in a multi-way join)."""
    check_pullable(node)
    left, right = node.left, node.right
    assert isinstance(left, SourceNode | JoinNode) and isinstance(right, SourceNode)
    by_key = {r[0]: r for r in right_rows}
    out: list[Row] = []
    jt = node.join_type

    def emit(key: tuple[Any, ...], lrow: Row | None, rrow: Row | None) -> None:
        ts = max(r[2] for r in (lrow, rrow) if r is not None)
        out.append((key, {**_columns(left, lrow), **_prefixed(right, rrow)}, ts, None, None))

    if node.kind is JoinKind.FOREIGN_KEY:
        assert foreign_key is not None
        for lrow in left_rows:
            fk = foreign_key(lrow)
            rrow = by_key.get((fk,)) if fk is not None else None
            if rrow is not None or jt is JoinType.LEFT:
                emit(lrow[0], lrow, rrow)
        return out
    matched: set[tuple[Any, ...]] = set()
    for lrow in left_rows:
        rrow = by_key.get(lrow[0])
        if rrow is not None:
            matched.add(lrow[0])
            emit(lrow[0], lrow, rrow)
        elif jt in (JoinType.LEFT, JoinType.FULL):
            emit(lrow[0], lrow, None)
    if jt in (JoinType.RIGHT, JoinType.FULL):
        for rrow in right_rows:
            if rrow[0] not in matched:
                emit(rrow[0], None, rrow)
    return out
