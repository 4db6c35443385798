"""Pull queries: a SELECT without EMIT, answered from a snapshot and done.

Beyond ksqlDB (which answers key lookups and, optionally, table scans): any WHERE, ORDER BY,
LIMIT/OFFSET, aggregates with or without GROUP BY, over tables and streams, and joins of two
tables (`joins.py`).

- **Key lookup.** A table materialized on this server, a WHERE whose conjuncts include
  `key = literal` (or `key IN (literals)`): the rows come straight from the store by key (RocksDB
  get), then the rest of the WHERE and the projection run on them.
- **Everything else.** The snapshot's rows (`snapshot.py`) go through the query's compiled WHERE,
  grouping and UDAFs (the same functions persistent queries use), HAVING, projection, ORDER BY and
  OFFSET/LIMIT — or through DuckDB over an Arrow copy of the snapshot when the query translates to
  DuckDB's SQL (`duckdb_engine.py`), which is faster on large tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from odradek.sql import types as t
from odradek.sql.errors import KsqlAnalysisError, KsqlExecutionError
from odradek.sql.metastore import DataSource
from odradek.sql.parser import ast
from odradek.sql.plan import expressions as ir
from odradek.sql.plan.analyzer import ExpressionAnalyzer, PositionMap, Scope, ScopeColumn
from odradek.sql.plan.codegen import ExprCompiler, RowContext
from odradek.sql.plan.logical import (
    AggregateNode,
    FilterNode,
    JoinKind,
    JoinNode,
    PlanNode,
    ProjectNode,
    SourceNode,
)
from odradek.sql.plan.planner import PlannedQuery
from odradek.sql.pull import duckdb_engine, joins, prepared
from odradek.sql.pull.snapshot import Row, scan_topic, store_get, store_rows
from odradek.sql.schema import Namespace
from odradek.sql.types import SqlType
from odradek.streams.errors import InvalidStateStoreException


def execute_pull(
    server: Any, stmt: ast.Query, planned: PlannedQuery
) -> tuple[list[str], list[str], list[list[Any]]]:
    parts = _parts(planned.root)
    source_node = parts["source"]
    if isinstance(source_node, JoinNode):
        rows_of = lambda s: _rows_of(server, s)  # noqa: E731
        return evaluate(planned, stmt, joined_rows(source_node, rows_of), server.engine)
    assert isinstance(source_node, SourceNode)
    source = source_node.source
    store = _store_of(server, source)
    where: FilterNode | None = parts.get("where")  # type: ignore[assignment]
    aggregate: AggregateNode | None = parts.get("aggregate")  # type: ignore[assignment]
    rows: list[Row] | None = None
    if store is not None and where is not None and aggregate is None and not source.is_windowed:
        keys = _key_lookup(where.predicate, source)
        if keys is not None:
            rows = [r for k in keys for r in store_get(store, k)]
            return evaluate(planned, stmt, rows, server.engine)
    sql = None if planned.input_order else duckdb_engine.translate(planned, stmt, parts)
    if sql is not None and server.engine.config.get("ksql.query.pull.duckdb.enabled", "true") == "true":
        return _via_duckdb(server, source, store, planned, stmt, sql)
    rows = (
        list(store_rows(store))
        if store is not None
        else scan_topic(server.cluster.config, source, registry=server.cluster.registry)
    )
    return evaluate(planned, stmt, rows, server.engine)


def _rows_of(server: Any, source: DataSource) -> list[Row]:
    store = _store_of(server, source)
    if store is not None:
        return list(store_rows(store))
    return scan_topic(server.cluster.config, source, registry=server.cluster.registry)


def joined_rows(node: JoinNode, rows_of: Callable[[DataSource], list[Row]]) -> list[Row]:
    """The rows of a join of tables (`rows_of` reads one table's snapshot); a multi-way join joins
    the rows of the joins before it with its right table."""
    joins.check_pullable(node)
    left, right = node.left, node.right
    assert isinstance(right, SourceNode)
    if isinstance(left, JoinNode):
        left_rows = joined_rows(left, rows_of)
    else:
        assert isinstance(left, SourceNode)
        left_rows = rows_of(left.source)
    foreign_key = None
    if node.kind is JoinKind.FOREIGN_KEY:
        keys = [c.name for c in left.schema.key]
        fk = _fn(lambda c: c.compile(node.left_key), keys, {})
        r = RowContext()

        def foreign_key(row: Row) -> Any:
            return fk(row[0], row[1], r)

    return joins.join_rows(node, left_rows, rows_of(right.source), foreign_key)


def _via_duckdb(
    server: Any, source: DataSource, store: Any, planned: PlannedQuery, stmt: ast.Query, sql: str
) -> tuple[list[str], list[str], list[list[Any]]]:
    columns: list[tuple[str, SqlType, Namespace | None]] = [
        (c.name, c.type, c.namespace) for c in source.schema.columns if c.namespace is not Namespace.HEADERS
    ]
    columns.append(("ROWTIME", t.BIGINT, None))
    if source.is_windowed:
        columns += [("WINDOWSTART", t.BIGINT, None), ("WINDOWEND", t.BIGINT, None)]

    def build() -> duckdb_engine.Snapshot:
        rows = (
            list(store_rows(store))
            if store is not None
            else scan_topic(server.cluster.config, source, registry=server.cluster.registry)
        )
        return duckdb_engine.Snapshot(duckdb_engine.arrow_table(columns, rows))

    snapshot = (
        _snapshot_cache(server).get(f"{source.name}@{source.created_by}", build)
        if store is not None
        else build()
    )
    order = list(planned.select_order)
    result = snapshot.query(sql)
    if stmt.order_by:
        result = _order(result, order, planned, stmt, server.engine)
    start = stmt.offset or 0
    end = start + stmt.limit if stmt.limit is not None else None
    return order, [str(_type(planned, n)) for n in order], result[start:end]


def _snapshot_cache(server: Any) -> duckdb_engine.SnapshotCache:
    cache = getattr(server, "_pull_snapshots", None)
    if cache is None:
        cache = duckdb_engine.SnapshotCache(
            int(server.engine.config.get("ksql.query.pull.snapshot.max.age.ms", "1000"))
        )
        server._pull_snapshots = cache
    return cache


STORE_WAIT_S = 15.0


def _store_of(server: Any, source: DataSource, wait: bool = True) -> Any:
    """The store of the persistent query writing `source` on this server, once it runs (or None;
    `wait=False`: None as well while the query is not running, instead of waiting)."""
    if source.created_by is None:
        return None
    running = server.runtime.queries.get(source.created_by)
    if running is None or running.compiled.store is None:
        return None
    if not wait and (running.streams.error is not None or running.streams.state.name != "RUNNING"):
        return None
    try:
        if wait:
            running.streams.wait_until_running(STORE_WAIT_S)
        store = running.streams.store(running.compiled.store)
        if wait:
            store.kind  # noqa: B018 - raises while the query has no active task yet
        return store
    except Exception as e:
        raise KsqlExecutionError(
            f"The table {source.name} is not queryable yet (its query {source.created_by} is starting or rebalancing): {e}"
        ) from e


def _parts(root: PlanNode) -> dict[str, PlanNode]:
    out: dict[str, PlanNode] = {}
    node = root
    assert isinstance(node, ProjectNode)
    node = node.input
    if isinstance(node, FilterNode) and node.clause == "HAVING":
        out["having"] = node
        node = node.input
    if isinstance(node, AggregateNode):
        out["aggregate"] = node
        node = node.input
    if isinstance(node, FilterNode):
        out["where"] = node
        node = node.input
    if isinstance(node, JoinNode):
        joins.check_pullable(node)
        out["source"] = node
        return out
    if not isinstance(node, SourceNode):
        raise KsqlAnalysisError(
            f"Pull queries over {node.label().lower()} steps (joins, table functions, PARTITION BY) are not supported; query a table made by CREATE TABLE AS SELECT instead."
        )
    out["source"] = node
    return out


def _key_lookup(predicate: ir.Expr, source: DataSource) -> list[tuple[Any, ...]] | None:
    """The key tuples a WHERE pins the (single-column) key to, or None."""
    keys = source.schema.key
    if len(keys) != 1:
        return None
    key_name = keys[0].name
    conjuncts = []
    stack = [predicate]
    while stack:
        e = stack.pop()
        if isinstance(e, ir.Binary) and e.op == "AND":
            stack += [e.left, e.right]
        else:
            conjuncts.append(e)
    for c in conjuncts:
        if isinstance(c, ir.Binary) and c.op == "=":
            for a, b in ((c.left, c.right), (c.right, c.left)):
                if (
                    isinstance(a, ir.ColumnRef)
                    and a.namespace is Namespace.KEY
                    and a.name == key_name
                    and isinstance(b, ir.Literal)
                    and b.value is not None
                ):
                    return [(b.value,)]
        if (
            isinstance(c, ir.InList)
            and not c.negated
            and isinstance(c.operand, ir.ColumnRef)
            and c.operand.namespace is Namespace.KEY
        ) and all(isinstance(i, ir.Literal) for i in c.items):
            return [(i.value,) for i in c.items if isinstance(i, ir.Literal)]
    return None


def execute_lookup(
    server: Any, lookup: prepared.Lookup, keys: list[str], wait: bool = True
) -> tuple[list[str], list[str], list[list[Any]]] | None:
    """A prepared key lookup (`prepared.py`) for these keys: store reads and the projection, compiled
    once per lookup.

    `wait=False` (on the event loop): None instead of waiting for a query that is not running."""
    if not lookup.compiled:
        lookup.compiled.append(_compile_lookup(lookup))
    source, order, types, project = lookup.compiled[0]
    store = _store_of(server, source, wait)
    if store is None:
        if not wait:
            return None
        raise KsqlExecutionError(f"The table {source.name} is not materialized on this server")
    try:
        rows = [r for k in keys for r in store_get(store, (k,))]
    except InvalidStateStoreException as e:
        raise KsqlExecutionError(f"The table {source.name} is not queryable yet: {e}") from e
    r = RowContext()
    result = []
    for k, v, ts, ws, we in rows:
        r.ts, r.ws, r.we = ts, ws, we
        result.append(project(k, v, r))
    limit = lookup.stmt.limit
    return order, types, result if limit is None else result[:limit]


def _compile_lookup(lookup: prepared.Lookup) -> tuple[DataSource, list[str], list[str], Any]:
    """What `evaluate` does for a key lookup's rows (no WHERE left, no aggregate, ORDER BY or
    OFFSET: `prepared.as_lookup` refuses those), compiled once."""
    planned = lookup.planned
    source_node = _parts(planned.root)["source"]
    assert isinstance(source_node, SourceNode) and isinstance(planned.root, ProjectNode)
    order = list(planned.select_order)
    items = dict(planned.root.items)
    project = _fn(
        lambda c: "[" + ", ".join(c.compile(items[n]) for n in order) + "]",
        [c.name for c in source_node.schema.key],
        {},
    )
    return source_node.source, order, [str(_type(planned, n)) for n in order], project


def evaluate(
    planned: PlannedQuery, stmt: ast.Query, rows: list[Row], engine: Any, where_done: bool = False
) -> tuple[list[str], list[str], list[list[Any]]]:
    """The rest of the query over `rows` (`where_done`: they are known to match the WHERE)."""
    parts = _parts(planned.root)
    source_node = parts["source"]
    in_keys = [c.name for c in source_node.schema.key]
    headers: dict[str, str | None] = {}
    r = RowContext()
    where = None if where_done else parts.get("where")
    pred = (
        _fn(lambda c: f"{c.compile(where.predicate)} is True", in_keys, headers)
        if isinstance(where, FilterNode)
        else None
    )
    aggregate = parts.get("aggregate")
    project_node = planned.root
    out: list[tuple[tuple[Any, ...], dict[str, Any], int, int | None, int | None]] = []
    if isinstance(aggregate, AggregateNode):
        calls = [call for _, call in aggregate.aggregates]
        udafs = [
            call.resolved.overload.impl([a.type for a in call.args], list(call.literals)) for call in calls
        ]

        def pre_body(c: ExprCompiler) -> str:
            key = "(" + "".join(c.compile(g) + ", " for g in aggregate.group_by) + ")"
            args = []
            for call in calls:
                if not call.args:
                    args.append("None")
                elif len(call.args) == 1:
                    args.append(c.compile(call.args[0]))
                else:
                    args.append("(" + ", ".join(c.compile(a) for a in call.args) + ",)")
            return f"({key}, [{', '.join(args)}])"

        pre = _fn(pre_body, in_keys, headers)
        groups: dict[tuple[Any, ...], list[Any]] = {}
        for k, v, ts, ws, we in rows:
            r.ts, r.ws, r.we = ts, ws, we
            if pred is not None and not pred(k, v, r):
                continue
            gk, args = pre(k, v, r)
            state = groups.get(gk)
            if state is None:
                state = [u.initialize() for u in udafs]
            groups[gk] = [u.aggregate(a, s) for u, a, s in zip(udafs, args, state, strict=True)]
        if not groups and not aggregate.group_by:
            groups[()] = [u.initialize() for u in udafs]
        names = [n for n, _ in aggregate.aggregates]
        for gk, states in groups.items():
            out.append(
                (gk, {n: u.map(s) for n, u, s in zip(names, udafs, states, strict=True)}, 0, None, None)
            )
        having = parts.get("having")
        if isinstance(having, FilterNode):
            hkeys = [c.name for c in aggregate.schema.key]
            hpred = _fn(lambda c: f"{c.compile(having.predicate)} is True", hkeys, headers)
            out = [row for row in out if hpred(row[0], row[1], r)]
        proj_keys = [c.name for c in aggregate.schema.key]
    else:
        out = [row for row in rows if pred is None or _matches(pred, row, r)]
        proj_keys = in_keys
        if planned.input_order:
            out = _sort_rows(out, planned.input_order, in_keys)
    assert isinstance(project_node, ProjectNode)
    order = list(planned.select_order)
    items = dict(project_node.items)

    def proj_body(c: ExprCompiler) -> str:
        return "[" + ", ".join(c.compile(items[n]) for n in order) + "]"

    project = _fn(proj_body, proj_keys, headers)
    result = []
    for k, v, ts, ws, we in out:
        r.ts, r.ws, r.we = ts, ws, we
        result.append(project(k, v, r))
    if stmt.order_by and not planned.input_order:
        result = _order(result, order, planned, stmt, engine)
    start = stmt.offset or 0
    end = start + stmt.limit if stmt.limit is not None else None
    result = result[start:end]
    types = [str(_type(planned, n)) for n in order]
    return order, types, result


def _matches(pred: Any, row: Row, r: RowContext) -> bool:
    k, v, ts, ws, we = row
    r.ts, r.ws, r.we = ts, ws, we
    return bool(pred(k, v, r))


def _type(planned: PlannedQuery, name: str) -> SqlType | str:
    col = planned.schema.find(name)
    return col.type if col is not None else "STRING"


def _sort(rows: list[Any], keyed: list[tuple[Any, bool, bool | None]]) -> list[Any]:
    """Sort by several keys (key function, descending, nulls first): stable sorts, last key first;
    NULLs last ascending and first descending unless NULLS FIRST/LAST says otherwise."""
    for key, desc, nulls_first in reversed(keyed):
        first = nulls_first if nulls_first is not None else desc
        pairs = [(key(row), row) for row in rows]
        present = [kr for kr in pairs if kr[0] is not None]
        missing = [kr[1] for kr in pairs if kr[0] is None]
        present.sort(key=lambda kr: kr[0], reverse=desc)
        ordered = [row for _, row in present]
        rows = missing + ordered if first else ordered + missing
    return rows


def _sort_rows(
    rows: list[Row], order: tuple[tuple[ir.Expr, bool, bool | None], ...], keys: list[str]
) -> list[Row]:
    """ORDER BY over the input rows (source columns that are not selected), before the projection."""
    r = RowContext()
    keyed = []
    for e, desc, nulls_first in order:
        fn = _fn(lambda c, e=e: c.compile(e), keys, {})

        def key(row: Row, fn: Any = fn) -> Any:
            r.ts, r.ws, r.we = row[2], row[3], row[4]
            return fn(row[0], row[1], r)

        keyed.append((key, desc, nulls_first))
    return _sort(rows, keyed)


def _order(
    rows: list[list[Any]], names: list[str], planned: PlannedQuery, stmt: ast.Query, engine: Any
) -> list[list[Any]]:
    """ORDER BY over the output columns (by name or any expression of them); NULLs last ascending."""
    scope = Scope()
    for i, n in enumerate(names):
        t = _type(planned, n)
        if isinstance(t, SqlType):
            scope.add(ScopeColumn(n, t, Namespace.VALUE, None, f"c{i}"))
    analyzer = ExpressionAnalyzer(
        scope, engine.functions, PositionMap(stmt.text, stmt.position), engine.metastore.types
    )
    keyfns = []
    for item in stmt.order_by:
        e = analyzer.analyze(item.expression)
        fn = _fn(lambda c, e=e: c.compile(e), [], {})
        keyfns.append((fn, item.descending, item.nulls_first))
    r = RowContext()

    def keyed(fn: Any) -> Any:
        return lambda row: fn((), {f"c{i}": x for i, x in enumerate(row)}, r)

    return _sort(rows, [(keyed(fn), desc, nulls_first) for fn, desc, nulls_first in keyfns])


def _fn(body: Any, keys: list[str], headers: dict[str, str | None]) -> Any:
    c = ExprCompiler(keys, headers)
    return c.function(body(c))
