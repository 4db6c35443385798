"""Pull queries through DuckDB over an Arrow copy of the snapshot (ARCHITECTURE D8).

A query whose every expression has a DuckDB equivalent (columns, literals, arithmetic, comparisons,
AND/OR/NOT, LIKE, IN, BETWEEN, IS NULL, CASE, CAST to scalar types, a set of scalar functions, and
COUNT/SUM/AVG/MIN/MAX/COUNT_DISTINCT) is written as DuckDB SQL over the snapshot, registered as an
Arrow table; anything else returns None and the Python evaluator answers instead. Arrow copies of
materialized tables are cached for `ksql.query.pull.snapshot.max.age.ms` (1000 ms by default), so
repeated scans of a large table pay the copy once per second, not once per query.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from odradek.sql.parser import ast
from odradek.sql.plan import expressions as ir
from odradek.sql.plan.logical import AggregateNode, FilterNode, ProjectNode
from odradek.sql.plan.planner import PlannedQuery
from odradek.sql.pull.snapshot import Row
from odradek.sql.schema import Namespace
from odradek.sql.types import BaseType, SqlType

_FUNCTIONS = {
    "UCASE": "upper", "UPPER": "upper", "LCASE": "lower", "LOWER": "lower", "LEN": "length",
    "LENGTH": "length", "ABS": "abs", "CEIL": "ceil", "FLOOR": "floor", "SQRT": "sqrt", "LN": "ln",
    "EXP": "exp", "TRIM": "trim", "LTRIM": "ltrim", "RTRIM": "rtrim", "COALESCE": "coalesce",
    "IFNULL": "coalesce", "NULLIF": "nullif", "GREATEST": "greatest", "LEAST": "least",
    "REPLACE": "replace", "SIGN": "sign", "POWER": "power",
}  # fmt: skip
_AGGREGATES = {"COUNT": "count", "SUM": "sum", "AVG": "avg", "MIN": "min", "MAX": "max"}
_CASTS = {
    BaseType.BOOLEAN: "BOOLEAN", BaseType.INTEGER: "INTEGER", BaseType.BIGINT: "BIGINT",
    BaseType.DOUBLE: "DOUBLE", BaseType.STRING: "VARCHAR", BaseType.DATE: "DATE", BaseType.TIMESTAMP: "TIMESTAMP",
}  # fmt: skip


class Untranslatable(Exception):
    pass


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(v: Any, t: SqlType) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float):
        return repr(v)
    if t.base is BaseType.DECIMAL:
        return f"CAST('{v}' AS DECIMAL({t.precision}, {t.scale}))"
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    raise Untranslatable(f"literal {v!r}")


class Translator:
    def __init__(self, replace: dict[str, str] | None = None) -> None:
        self.replace = replace or {}

    def sql(self, e: ir.Expr) -> str:
        if isinstance(e, ir.ColumnRef):
            return self.replace.get(e.name, _q(e.name))
        if isinstance(e, ir.Literal):
            return _lit(e.value, e.type)
        if isinstance(e, ir.Binary):
            op = {"=": "=", "<>": "<>", "||": "||", "AND": "AND", "OR": "OR"}.get(e.op, e.op)
            if op == "/" and e.type.is_integral:  # Java's truncating integer division
                return f"CAST(trunc(CAST({self.sql(e.left)} AS DOUBLE) / NULLIF({self.sql(e.right)}, 0)) AS BIGINT)"
            if op == "%" and e.type.is_integral:
                return f"({self.sql(e.left)} % NULLIF({self.sql(e.right)}, 0))"
            if op == "+" and e.type.base is BaseType.STRING:
                op = "||"
            return f"({self.sql(e.left)} {op} {self.sql(e.right)})"
        if isinstance(e, ir.Unary):
            if e.op in ("IS NULL", "IS NOT NULL"):
                return f"({self.sql(e.operand)} {e.op})"
            return f"(NOT {self.sql(e.operand)})" if e.op == "NOT" else f"(-{self.sql(e.operand)})"
        if isinstance(e, ir.Like):
            esc = f" ESCAPE '{e.escape}'" if e.escape else ""
            return f"({self.sql(e.operand)} {'NOT ' if e.negated else ''}LIKE {self.sql(e.pattern)}{esc})"
        if isinstance(e, ir.InList):
            items = ", ".join(self.sql(i) for i in e.items)
            return f"({self.sql(e.operand)} {'NOT ' if e.negated else ''}IN ({items}))"
        if isinstance(e, ir.Between):
            return f"({self.sql(e.operand)} {'NOT ' if e.negated else ''}BETWEEN {self.sql(e.low)} AND {self.sql(e.high)})"
        if isinstance(e, ir.Case):
            whens = " ".join(f"WHEN {self.sql(c)} THEN {self.sql(r)}" for c, r in e.whens)
            default = f" ELSE {self.sql(e.default)}" if e.default is not None else ""
            return f"(CASE {whens}{default} END)"
        if isinstance(e, ir.Cast):
            target = _CASTS.get(e.type.base)
            if target is None:
                raise Untranslatable(f"CAST to {e.type}")
            return f"TRY_CAST({self.sql(e.operand)} AS {target})"
        if isinstance(e, ir.Call):
            name = _FUNCTIONS.get(e.name)
            if name is None or (e.resolved is not None and e.resolved.overload.user_defined):
                if e.name == "ROUND" and len(e.args) <= 2:
                    return f"round({', '.join(self.sql(a) for a in e.args)})"
                raise Untranslatable(e.name)
            return f"{name}({', '.join(self.sql(a) for a in e.args)})"
        if isinstance(e, ir.AggregateCall):
            if e.star:
                return "count(*)"
            if e.name == "COUNT_DISTINCT" and len(e.args) == 1:
                return f"count(DISTINCT {self.sql(e.args[0])})"
            agg = _AGGREGATES.get(e.name)
            if agg is None or len(e.args) != 1 or e.literals:
                raise Untranslatable(e.name)
            return f"{agg}({self.sql(e.args[0])})"
        raise Untranslatable(type(e).__name__)


def translate(planned: PlannedQuery, stmt: ast.Query, parts: dict[str, Any]) -> str | None:
    """DuckDB SQL over a table `snapshot`, or None when some expression has no DuckDB form."""
    try:
        return _translate(planned, stmt, parts)
    except Untranslatable:
        return None


def _translate(planned: PlannedQuery, stmt: ast.Query, parts: dict[str, Any]) -> str:
    project = planned.root
    assert isinstance(project, ProjectNode)
    items = dict(project.items)
    where = parts.get("where")
    aggregate = parts.get("aggregate")
    having = parts.get("having")
    inner = Translator({"ROWTIME": '"ROWTIME"', "WINDOWSTART": '"WINDOWSTART"', "WINDOWEND": '"WINDOWEND"'})
    outer = inner
    group = ""
    if isinstance(aggregate, AggregateNode):
        mapping = {name: inner.sql(call) for name, call in aggregate.aggregates}
        keys = [c.name for c in aggregate.schema.key]
        for k, g in zip(keys, aggregate.group_by, strict=True):
            mapping[k] = inner.sql(g)
        outer = Translator({**inner.replace, **mapping})
        if aggregate.group_by:
            group = " GROUP BY " + ", ".join(inner.sql(g) for g in aggregate.group_by)
    select = ", ".join(f"{outer.sql(items[n])} AS {_q(n)}" for n in planned.select_order)
    sql = f"SELECT {select} FROM snapshot"
    if isinstance(where, FilterNode):
        sql += f" WHERE {inner.sql(where.predicate)}"
    sql += group
    if isinstance(having, FilterNode):
        sql += f" HAVING {outer.sql(having.predicate)}"
    return sql


def arrow_table(schema_columns: list[tuple[str, SqlType, Namespace | None]], rows: list[Row]) -> Any:
    import pyarrow as pa

    columns: dict[str, list[Any]] = {name: [] for name, _, _ in schema_columns}
    key_index = {
        name: i for i, (name, _, ns) in enumerate(c for c in schema_columns if c[2] is Namespace.KEY)
    }
    for k, v, ts, ws, we in rows:
        for name, _, ns in schema_columns:
            if ns is Namespace.KEY:
                columns[name].append(k[key_index[name]] if key_index[name] < len(k) else None)
            elif name == "ROWTIME":
                columns[name].append(ts)
            elif name == "WINDOWSTART":
                columns[name].append(ws)
            elif name == "WINDOWEND":
                columns[name].append(we)
            else:
                columns[name].append(v.get(name))
    arrays = {}
    for name, typ, _ in schema_columns:
        arrow_type = _ARROW.get(typ.base)
        arrays[name] = pa.array(columns[name], type=arrow_type() if arrow_type else None)
    return pa.table(arrays)


def _arrow_types() -> dict[BaseType, Any]:
    import pyarrow as pa

    return {
        BaseType.BOOLEAN: pa.bool_, BaseType.INTEGER: pa.int32, BaseType.BIGINT: pa.int64, BaseType.DOUBLE: pa.float64,
        BaseType.STRING: pa.string, BaseType.DATE: pa.date32, BaseType.TIMESTAMP: lambda: pa.timestamp("ms"),
    }  # fmt: skip


class _LazyArrow(dict[BaseType, Any]):
    def get(self, key: BaseType, default: Any = None) -> Any:
        if not self:
            self.update(_arrow_types())
        return super().get(key, default)


_ARROW = _LazyArrow()


class SnapshotCache:
    """Arrow copies of materialized tables, rebuilt when older than `max_age_ms`."""

    def __init__(self, max_age_ms: int) -> None:
        self.max_age_ms = max_age_ms
        self._entries: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, name: str, build: Any) -> Any:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(name)
            if entry is not None and (now - entry[0]) * 1000 < self.max_age_ms:
                return entry[1]
        table = build()
        with self._lock:
            self._entries[name] = (now, table)
        return table


class Snapshot:
    """An Arrow table registered as `snapshot` in its own DuckDB connection (reused by queries)."""

    def __init__(self, table: Any) -> None:
        import duckdb

        self.table = table
        self.con = duckdb.connect()

    def query(self, sql: str) -> list[list[Any]]:
        cursor = self.con.cursor()  # a cursor per query: connections are not shared across threads
        try:
            cursor.register("snapshot", self.table)  # a zero-copy view of the Arrow table
            return [list(r) for r in cursor.execute(sql).fetchall()]
        finally:
            cursor.close()


def run(sql: str, table: Any, order: list[str]) -> list[list[Any]]:
    return Snapshot(table).query(sql)
