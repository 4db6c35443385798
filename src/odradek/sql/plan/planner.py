"""The query planner: a `Query` AST over the metastore -> a logical plan (`logical.py`).

The rules are ksqlDB's, written from its documented behaviour:

- FROM a stream or table; joins are left-deep. Stream-stream joins need WITHIN; a stream-table join
  is keyed by the table's primary key (the stream side is repartitioned if needed); a table-table join
  on the left table's key is a primary-key join, on another left column a foreign-key join; the right
  side of a table join is always joined on its primary key. Inputs already keyed by the join key must
  have the same number of partitions (co-partitioning); the error says how to fix it.
- WHERE filters rows before aggregation, HAVING after. An aggregate needs GROUP BY, and GROUP BY needs
  an aggregate. Every non-aggregate SELECT expression of an aggregation must be a GROUP BY expression.
- PARTITION BY (streams) makes new key columns; the old key columns move into the value.
- A persistent query must project its key columns (the key of a join is its join expression).
- Unnamed expressions are called KSQL_COL_<position>; struct dereferences take the field's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlglot import exp

from odradek.sql import types as t
from odradek.sql.errors import KsqlAnalysisError, Position
from odradek.sql.functions.registry import FunctionRegistry
from odradek.sql.metastore import DataSource, MetaStore, WindowInfo
from odradek.sql.parser import ast
from odradek.sql.plan import expressions as ir
from odradek.sql.plan.analyzer import ExpressionAnalyzer, PositionMap, Scope, ScopeColumn, identifier_name
from odradek.sql.plan.logical import (
    AggregateNode,
    FilterNode,
    FlatMapNode,
    JoinKind,
    JoinNode,
    OutputNode,
    PlanNode,
    ProjectNode,
    RepartitionNode,
    SourceNode,
)
from odradek.sql.schema import PSEUDO_COLUMNS, WINDOW_COLUMNS, Column, LogicalSchema, Namespace


@dataclass
class PlannedQuery:
    """A planned SELECT: the root (a ProjectNode) and, for output, which columns form the key."""

    root: ProjectNode
    key_names: tuple[str, ...]
    sources: tuple[DataSource, ...]
    select_order: tuple[str, ...] = ()  # the output columns in SELECT order (push/pull rows)
    # pull queries whose ORDER BY names source columns that are not selected: (expression over the
    # input rows, descending, nulls first); None when ORDER BY is over the output columns
    input_order: tuple[tuple[ir.Expr, bool, bool | None], ...] | None = None

    @property
    def schema(self) -> LogicalSchema:
        return self.root.schema

    @property
    def is_table(self) -> bool:
        return self.root.is_table

    @property
    def window(self) -> WindowInfo | None:
        return self.root.window


@dataclass
class _Step:
    node: PlanNode
    scope: Scope
    join_keys: tuple[str, ...] = ()  # for joins: value columns equal to the key


class QueryPlanner:
    def __init__(self, metastore: MetaStore, functions: FunctionRegistry, positions: PositionMap) -> None:
        self.metastore = metastore
        self.functions = functions
        self.positions = positions
        self.pull = False

    def error(
        self, message: str, node: exp.Expr | None = None, position: Position | None = None
    ) -> KsqlAnalysisError:
        return KsqlAnalysisError(message, position=position or self.positions.of(node) or self.positions.base)

    def analyzer(
        self, scope: Scope, *, aggregates: bool = False, table_functions: bool = False
    ) -> ExpressionAnalyzer:
        return ExpressionAnalyzer(
            scope,
            self.functions,
            self.positions,
            self.metastore.types,
            allow_aggregates=aggregates,
            allow_table_functions=table_functions,
        )

    # -- the query ---------------------------------------------------------------------------------------

    def plan(self, query: ast.Query, *, persistent: bool, pull: bool = False) -> PlannedQuery:
        """`pull`: a pull query over a snapshot (aggregates without GROUP BY allowed, any source)."""
        self.pull = pull
        if query.order_by and not pull:
            raise self.error(
                "ORDER BY is only supported in pull queries (without EMIT).", query.order_by[0].expression
            )
        if query.offset is not None and not pull:
            raise self.error(
                "OFFSET is only supported in pull queries (without EMIT).", position=query.position
            )
        step = self.plan_relation(query.from_)
        sources = tuple(_sources(step.node))
        if query.where is not None:
            predicate = self.analyzer(step.scope).analyze_boolean(query.where, "WHERE")
            step = _Step(
                FilterNode(step.node.schema, step.node.is_table, step.node.window, step.node, predicate),
                step.scope,
                step.join_keys,
            )

        if query.partition_by and not query.group_by:
            step = self.plan_partition_by(query, step)
        if query.window is not None:
            for name, typ in WINDOW_COLUMNS.items():
                if not step.scope.lookup(None, name):
                    step.scope.add(ScopeColumn(name, typ, None, None, name))
        items = self.select_items(query, step.scope)
        has_aggregates = any(ir.contains_aggregate(e) for _, e, _ in items)
        having = None
        if query.having is not None:
            if not query.group_by and not pull:
                raise self.error("HAVING requires a GROUP BY clause.", query.having)
            having = self.analyzer(step.scope, aggregates=True).analyze_boolean(query.having, "HAVING")

        functions = [(i, e) for i, (_, e, _) in enumerate(items) if ir.contains_table_function(e)]
        if functions:
            if query.group_by or has_aggregates:
                raise self.error(
                    "Table functions cannot be used with aggregations.", items[functions[0][0]][2]
                )
            step, items = self.plan_flat_map(step, items)

        if query.group_by or has_aggregates:
            if not query.group_by and not pull:
                agg = next(n for _, e, _ in items for n in e.walk() if isinstance(n, ir.AggregateCall))
                raise self.error(
                    f"Use of aggregate function {agg.name} requires a GROUP BY clause.", items[0][2]
                )
            if query.partition_by:
                raise self.error("PARTITION BY cannot be combined with GROUP BY.", query.partition_by[0])
            step, items = self.plan_aggregate(query, step, items, having)
        elif query.window is not None:
            raise self.error("WINDOW clause requires a GROUP BY clause.", position=query.position)

        if query.emit is ast.Emit.FINAL and step.node.window is None:
            raise self.error(
                "EMIT FINAL is only supported for windowed aggregations.", position=query.position
            )
        aggregated = bool(query.group_by or has_aggregates)
        order_scope = step.scope
        planned = self.plan_projection(step, items, persistent, sources)
        if pull and query.order_by:
            planned.input_order = self.input_order(query, order_scope, planned, aggregated)
        return planned

    def input_order(
        self, query: ast.Query, scope: Scope, planned: PlannedQuery, aggregated: bool
    ) -> tuple[tuple[ir.Expr, bool, bool | None], ...] | None:
        """ORDER BY over the selected columns (None), else over the source's columns."""
        output = Scope()
        for n in planned.select_order:
            col = planned.schema.find(n)
            if col is not None:
                output.add(ScopeColumn(n, col.type, Namespace.VALUE, None, n))
        try:
            for item in query.order_by:
                self.analyzer(output).analyze(item.expression)
            return None
        except KsqlAnalysisError as over_output:
            if aggregated:
                raise over_output from None
        analyzer = self.analyzer(scope)
        return tuple((analyzer.analyze(i.expression), i.descending, i.nulls_first) for i in query.order_by)

    # -- FROM --------------------------------------------------------------------------------------------

    def plan_relation(self, relation: ast.Relation) -> _Step:
        if isinstance(relation, ast.AliasedRelation):
            return self.plan_source(relation)
        return self.plan_join(relation)

    def plan_source(self, relation: ast.AliasedRelation) -> _Step:
        source = self.metastore.source(relation.name)
        if source is None:
            raise self.error(f"{relation.name} does not exist.", position=relation.position)
        alias = relation.alias or relation.name
        node = SourceNode(source.schema, source.is_table, source.window, source, alias)
        scope = Scope()
        for c in source.schema.columns:
            scope.add(ScopeColumn(c.name, c.type, c.namespace, alias, c.name))
        _add_pseudo(scope, alias, source.window is not None)
        return _Step(node, scope)

    def plan_join(self, join: ast.Join) -> _Step:
        left = self.plan_relation(join.left)
        right = self.plan_source(join.right)
        if join.right.label in left.scope.qualifiers:
            raise self.error(
                f"Can not join '{join.right.name}' to itself without aliases: give each an alias (FROM s A JOIN s B ...).",
                position=join.position,
            )
        criteria = join.criteria
        if not isinstance(criteria, exp.EQ):
            raise self.error(
                f"Unsupported join expression: {criteria.sql()}. Only an equality between a column of each side is supported.",
                criteria,
            )
        left_key, right_key = (
            self._join_side(criteria.this, left, right),
            self._join_side(criteria.expression, left, right),
        )
        if left_key[0] == right_key[0]:
            raise self.error(
                f"Each side of the join condition must reference one source: {criteria.sql()}", criteria
            )
        if left_key[0] == "right":
            left_key, right_key = right_key, left_key
        lkey, rkey = left_key[1], right_key[1]
        if t.common_type(lkey.type, rkey.type) is None or (
            lkey.type != rkey.type and not (lkey.type.is_numeric and rkey.type.is_numeric)
        ):
            raise self.error(
                f"Invalid comparison expression '{criteria.sql()}' in join. Types of join columns do not match: {lkey.type} and {rkey.type}",
                criteria,
            )

        lnode, rnode = left.node, right.node
        join_type = join.join_type
        kind, repartition_left = self._join_kind(join, left, right, lkey, rkey)
        repartition_right = kind is JoinKind.STREAM_STREAM and not _is_key_ref(rkey, right.node)
        rsource = right.node.source  # type: ignore[attr-defined]
        if kind in (JoinKind.STREAM_STREAM, JoinKind.STREAM_TABLE, JoinKind.TABLE_TABLE) and not (
            repartition_left or repartition_right
        ):
            self._check_copartitioned(left, rsource, join)

        # the output: a KEY column (the join key) and every input column, prefixed with its alias
        key_col = Column("KSQL_JOIN_KEY", lkey.type, Namespace.KEY)
        values: list[Column] = []
        scope = Scope()
        for side in (left, right):
            for sc in side.scope.columns:
                if sc.namespace is None:
                    continue
                internal = sc.ref_name if _is_join(side.node) else f"{sc.qualifier}_{sc.name}"
                if all(v.name != internal for v in values):
                    values.append(Column(internal, sc.type, Namespace.VALUE))
                scope.add(ScopeColumn(sc.name, sc.type, Namespace.VALUE, sc.qualifier, internal))
        _add_pseudo(scope, None, False)
        key_names = []
        if kind is JoinKind.FOREIGN_KEY:
            # a foreign-key join's result is keyed by the left table's primary key
            left_pk = left.node.schema.key[0]
            key_col = Column("KSQL_JOIN_KEY", left_pk.type, Namespace.KEY)
            key_names = list(left.join_keys) or [
                f"{join.left.label}_{left_pk.name}"
                if isinstance(join.left, ast.AliasedRelation)
                else left_pk.name
            ]
        else:
            sides = ((lkey, left), (rkey, right))
            if join_type is ast.JoinType.RIGHT:  # the right side's key names the result's key
                sides = sides[::-1]
            for side_key, side in sides:
                if isinstance(side_key, ir.ColumnRef):
                    key_names.append(
                        side_key.name if _is_join(side.node) else f"{side_key.qualifier}_{side_key.name}"
                    )
            key_names.extend(k for k in left.join_keys if k not in key_names)
        is_table = lnode.is_table and rnode.is_table
        node = JoinNode(
            LogicalSchema((key_col, *values)),
            is_table,
            None,
            lnode,
            rnode,
            join_type,
            kind,
            lkey,
            rkey,
            tuple(left.scope.qualifiers),
            join.right.label,
            join.within,
            repartition_left,
            repartition_right,
            tuple(key_names),
        )
        return _Step(node, scope, tuple(key_names))

    def _join_side(self, node: exp.Expr, left: _Step, right: _Step) -> tuple[str, ir.Expr]:
        errors = []
        for name, step in (("left", left), ("right", right)):
            try:
                return name, self.analyzer(step.scope).analyze(node)
            except KsqlAnalysisError as e:
                errors.append(e)
        raise errors[0]

    def _join_kind(
        self, join: ast.Join, left: _Step, right: _Step, lkey: ir.Expr, rkey: ir.Expr
    ) -> tuple[JoinKind, bool]:
        lt, rt = left.node.is_table, right.node.is_table
        right_is_pk = _is_key_ref(rkey, right.node)
        left_is_key = _is_key_ref(lkey, left.node) or (
            isinstance(lkey, ir.ColumnRef) and lkey.name in left.join_keys
        )
        if not lt and not rt:
            if join.within is None:
                raise self.error(
                    "Stream-Stream joins must have a WITHIN clause specified. None was provided.",
                    position=join.position,
                )
            return JoinKind.STREAM_STREAM, not left_is_key
        if join.within is not None:
            raise self.error(
                "A window definition was provided for a Stream-Table or Table-Table join. WITHIN is only for stream-stream joins.",
                position=join.position,
            )
        if lt and not rt:
            raise self.error(
                f"Invalid join order: table-stream joins are not supported; only stream-table joins. Got {join.left.label if isinstance(join.left, ast.AliasedRelation) else 'a join'} {join.join_type.value} JOIN {join.right.label}.",
                position=join.position,
            )
        if not right_is_pk:
            what = "stream-table" if not lt else "table-table"
            raise self.error(
                f"Invalid join condition: {what} joins require to join on the primary key of the right input table. Got {lkey} = {rkey}.",
                position=join.position,
            )
        if not lt:
            if join.join_type is ast.JoinType.FULL:
                raise self.error(
                    "Full outer joins between a stream and a table are not supported.", position=join.position
                )
            if join.join_type is ast.JoinType.RIGHT:
                raise self.error(
                    "Right outer joins between a stream and a table are not supported (the stream drives the join): use LEFT JOIN.",
                    position=join.position,
                )
            return JoinKind.STREAM_TABLE, not left_is_key
        if left_is_key:
            return JoinKind.TABLE_TABLE, False
        if join.join_type not in (ast.JoinType.INNER, ast.JoinType.LEFT):
            raise self.error(
                "Foreign-key table-table joins support only INNER and LEFT joins.", position=join.position
            )
        return JoinKind.FOREIGN_KEY, False

    def _check_copartitioned(self, left: _Step, right: DataSource, join: ast.Join) -> None:
        lsources = _sources(left.node)
        lsource = lsources[0]
        lparts, rparts = lsource.partitions, right.partitions
        if lparts is None or rparts is None or lparts == rparts:
            return
        # the fix: copy one side into a topic with the other's partition count (a stream if there is one)
        fix, parts = (lsource, rparts) if not lsource.is_table else (right, lparts)
        keys = ", ".join(c.name for c in fix.schema.key)
        partition_by = f" PARTITION BY {keys}" if keys and not fix.is_table else ""
        raise self.error(
            f"Can't join `{lsource.name}` with `{right.name}` since the number of partitions don't match. "
            f"`{lsource.name}` partitions = {lparts}; `{right.name}` partitions = {rparts}. "
            f"Please repartition either one so that the number of partitions match, e.g. "
            f"CREATE {'TABLE' if fix.is_table else 'STREAM'} {fix.name}_{parts} WITH (PARTITIONS={parts}) AS SELECT * FROM {fix.name}{partition_by}; "
            f"then join {fix.name}_{parts} instead of {fix.name}.",
            position=join.position,
        )

    # -- SELECT items -----------------------------------------------------------------------------------------

    def select_items(
        self, query: ast.Query, scope: Scope
    ) -> list[tuple[str | None, ir.Expr, exp.Expr | None]]:
        """(alias or None, expression, the sqlglot node for positions) for every selected column."""
        analyzer = self.analyzer(scope, aggregates=True, table_functions=True)
        items: list[tuple[str | None, ir.Expr, exp.Expr | None]] = []
        for item in query.select:
            if isinstance(item, ast.AllColumns):
                matched = False
                for sc in scope.columns:
                    if sc.namespace is None or (item.source is not None and sc.qualifier != item.source):
                        continue
                    matched = True
                    joined = len(scope.qualifiers) > 1
                    alias = f"{sc.qualifier}_{sc.name}" if joined else sc.name
                    items.append(
                        (
                            alias,
                            ir.ColumnRef(
                                sc.type,
                                sc.ref_name,
                                sc.namespace,
                                sc.qualifier,
                                sc.name if sc.name != sc.ref_name else None,
                            ),
                            None,
                        )
                    )
                if item.source is not None and not matched:
                    raise self.error(
                        f"Source {item.source} is not in the FROM clause.", position=query.position
                    )
                continue
            items.append((item.alias, analyzer.analyze(item.expression), item.expression))
        return items

    # -- table functions --------------------------------------------------------------------------------------

    def plan_flat_map(
        self, step: _Step, items: list[tuple[str | None, ir.Expr, exp.Expr | None]]
    ) -> tuple[_Step, list[tuple[str | None, ir.Expr, exp.Expr | None]]]:
        calls: list[tuple[str, ir.TableFunctionCall]] = []

        def swap(e: ir.Expr) -> ir.Expr | None:
            if isinstance(e, ir.TableFunctionCall):
                name = f"KSQL_SYNTH_{len(calls)}"
                calls.append((name, e))
                return ir.ColumnRef(e.type, name, Namespace.VALUE)
            return None

        new_items = [(alias, rewrite(e, swap), node) for alias, e, node in items]
        columns = [*step.node.schema.columns, *(Column(n, c.type, Namespace.VALUE) for n, c in calls)]
        node = FlatMapNode(LogicalSchema(tuple(columns)), False, step.node.window, step.node, tuple(calls))
        scope = Scope(list(step.scope.columns), set(step.scope.qualifiers))
        for n, c in calls:
            scope.add(ScopeColumn(n, c.type, Namespace.VALUE, None, n))
        return _Step(node, scope, step.join_keys), new_items

    # -- GROUP BY ---------------------------------------------------------------------------------------------

    def plan_aggregate(
        self,
        query: ast.Query,
        step: _Step,
        items: list[tuple[str | None, ir.Expr, exp.Expr | None]],
        having: ir.Expr | None,
    ) -> tuple[_Step, list[tuple[str | None, ir.Expr, exp.Expr | None]]]:
        analyzer = self.analyzer(step.scope)
        group_by = [analyzer.analyze(g) for g in query.group_by]
        key_cols: list[Column] = []
        for i, g in enumerate(group_by):
            name = (
                g.user_name
                if isinstance(g, ir.ColumnRef)
                else g.field_name
                if isinstance(g, ir.Deref)
                else f"KSQL_COL_{i}"
            )
            if any(k.name == name for k in key_cols):
                raise self.error(f"Duplicate GROUP BY expression: {g}", query.group_by[i])
            key_cols.append(Column(name, g.type, Namespace.KEY))

        aggregates: dict[str, tuple[str, ir.AggregateCall]] = {}
        for e in [*(e for _, e, _ in items), *([having] if having is not None else [])]:
            for n in e.walk():
                if isinstance(n, ir.AggregateCall) and str(n) not in aggregates:
                    aggregates[str(n)] = (f"KSQL_AGG_VARIABLE_{len(aggregates)}", n)
        if not aggregates:
            if not query.group_by:
                raise self.error("HAVING needs an aggregate function", query.having)
            raise self.error(
                "GROUP BY requires aggregate functions in either the SELECT or HAVING clause.",
                query.group_by[0],
            )

        source_is_table = step.node.is_table
        if source_is_table and not self.pull:
            for _, call in aggregates.values():
                undo = getattr(
                    call.resolved.overload.impl([a.type for a in call.args], list(call.literals)),
                    "undo",
                    None,
                )
                if undo is None:
                    raise self.error(
                        f"The aggregation function {call.name} cannot be applied to a table source, only to a stream source.",
                        query.group_by[0],
                    )
        window = None
        if query.window is not None:
            if source_is_table:
                raise self.error(
                    "Windowed aggregations are only supported on streams, not tables.",
                    position=query.position,
                )
            window = WindowInfo(
                query.window.kind,
                None if query.window.kind is ast.WindowKind.SESSION else query.window.size_ms,
            )

        value_cols = [Column(name, call.type, Namespace.VALUE) for name, call in aggregates.values()]
        schema = LogicalSchema((*key_cols, *value_cols))
        input_keys = [c.name for c in step.node.schema.key]
        by_key = len(group_by) == len(input_keys) and all(
            isinstance(g, ir.ColumnRef) and g.namespace is Namespace.KEY and g.name == k
            for g, k in zip(group_by, input_keys, strict=True)
        )
        node: PlanNode = AggregateNode(
            schema,
            True,
            window,
            step.node,
            tuple(group_by),
            tuple(aggregates.values()),
            query.window,
            not by_key,
            query.emit is ast.Emit.FINAL,
        )

        group_strs = {str(g): key_cols[i] for i, g in enumerate(group_by)}

        def to_output(e: ir.Expr) -> ir.Expr | None:
            if isinstance(e, ir.AggregateCall):
                name = aggregates[str(e)][0]
                return ir.ColumnRef(e.type, name, Namespace.VALUE, None, None)
            col = group_strs.get(str(e))
            if col is not None:
                return ir.ColumnRef(col.type, col.name, Namespace.KEY, None, None)
            return None

        new_items: list[tuple[str | None, ir.Expr, exp.Expr | None]] = []
        bad: list[tuple[ir.ColumnRef, exp.Expr | None]] = []
        for i, (alias, e, src) in enumerate(items):
            out = rewrite(e, to_output)
            bad += [
                (r, src)
                for r in ir.column_refs(out)
                if r.namespace is not None and r.name not in schema.names()
            ]
            new_items.append((alias or _derived_name(e, key_cols, group_by, i), out, src))
        if bad:
            shown = ", ".join(dict.fromkeys(str(b) for b, _ in bad))
            raise self.error(
                f"Non-aggregate SELECT expression(s) not part of GROUP BY: {shown}",
                bad[0][1],
                position=None if bad[0][1] is not None else query.position,
            )

        scope = Scope()
        for c in schema.columns:
            scope.add(ScopeColumn(c.name, c.type, c.namespace, None, c.name))
        _add_pseudo(scope, None, window is not None)
        if having is not None:
            pred = rewrite(having, to_output)
            leftover = [
                r for r in ir.column_refs(pred) if r.namespace is not None and r.name not in schema.names()
            ]
            if leftover:
                raise self.error(
                    f"Non-aggregate HAVING expression not part of GROUP BY: {leftover[0]}", query.having
                )
            node = FilterNode(node.schema, True, window, node, pred, "HAVING")
        return _Step(node, scope), new_items

    # -- PARTITION BY -----------------------------------------------------------------------------------------

    def plan_partition_by(self, query: ast.Query, step: _Step) -> _Step:
        if step.node.is_table:
            raise self.error("PARTITION BY is only supported on streams, not tables.", query.partition_by[0])
        analyzer = self.analyzer(step.scope)
        keys = [analyzer.analyze(p) for p in query.partition_by]
        names = []
        for i, k in enumerate(keys):
            if isinstance(k, ir.Literal) and k.value is None:
                continue
            names.append(
                k.user_name
                if isinstance(k, ir.ColumnRef)
                else k.field_name
                if isinstance(k, ir.Deref)
                else f"KSQL_COL_{i}"
            )
        key_cols = [
            Column(n, k.type, Namespace.KEY)
            for n, k in zip(
                names, [k for k in keys if not (isinstance(k, ir.Literal) and k.value is None)], strict=True
            )
        ]
        moved = [
            c
            for c in step.node.schema.columns
            if c.name not in names and c.namespace is not Namespace.HEADERS
        ]
        values = [
            Column(c.name, c.type, Namespace.VALUE)
            for c in moved
            if not (c.namespace is Namespace.KEY and _is_join(step.node))
        ]
        schema = LogicalSchema((*key_cols, *values, *step.node.schema.headers))
        node = RepartitionNode(schema, False, None, step.node, tuple(keys))
        scope = Scope()
        by_ref = {c.name: c for c in schema.columns}
        for sc in step.scope.columns:
            if sc.namespace is None:
                scope.add(sc)
                continue
            new = by_ref.get(sc.ref_name) or by_ref.get(sc.name)
            if new is not None:
                scope.add(ScopeColumn(sc.name, new.type, new.namespace, sc.qualifier, new.name))
        return _Step(node, scope)

    # -- SELECT -----------------------------------------------------------------------------------------------

    def plan_projection(
        self,
        step: _Step,
        items: list[tuple[str | None, ir.Expr, exp.Expr | None]],
        persistent: bool,
        sources: tuple[DataSource, ...],
    ) -> PlannedQuery:
        input_node = step.node
        input_keys = [c.name for c in input_node.schema.key]
        is_join = _is_join(input_node)
        named: list[tuple[str, ir.Expr, bool]] = []
        seen: set[str] = set()
        key_found = False
        for i, (alias, expr, node) in enumerate(items):
            e = expr
            name = alias or _derived_name(e, [], [], i)
            if name in seen:
                raise self.error(f"Duplicate column names: {name}", node)
            seen.add(name)
            is_key = isinstance(e, ir.ColumnRef) and (
                (e.namespace is Namespace.KEY and e.name in input_keys)
                or (is_join and e.name in step.join_keys and not key_found)
            )
            if is_key and is_join and isinstance(e, ir.ColumnRef):
                key_found = True
                e = ir.ColumnRef(e.type, "KSQL_JOIN_KEY", Namespace.KEY, None, e.user_name)
            named.append((name, e, is_key))

        if persistent:
            if is_join and not key_found:
                keys = " or ".join(step.join_keys) or "the join expression"
                raise self.error(
                    f"Key missing from projection (ie, SELECT). The query used to build the sink must include the join expression {keys} in its projection (eg, SELECT {step.join_keys[0] if step.join_keys else 'key'}...)."
                )
            if not is_join:
                projected = {e.name for _, e, k in named if k and isinstance(e, ir.ColumnRef)}
                missing = [k for k in input_keys if k not in projected]
                if missing:
                    cols = ", ".join(f"`{m}`" for m in missing)
                    raise self.error(
                        f"Key missing from projection (ie, SELECT). The query used to build the sink must include the key column(s) {cols} in its projection (eg, SELECT {cols}...)."
                    )
                counts: dict[str, int] = {}
                for _, e, k in named:
                    if k and isinstance(e, ir.ColumnRef):
                        counts[e.name] = counts.get(e.name, 0) + 1
                twice = [n for n, c in counts.items() if c > 1]
                if twice:
                    raise self.error(
                        f"The projection contains a key column ({twice[0]}) more than once. Use an expression (e.g. AS_VALUE({twice[0]})) for the copy."
                    )

        key_items = [(n, e) for n, e, k in named if k]
        value_items = [(n, e) for n, e, k in named if not k]
        columns = [Column(n, e.type, Namespace.KEY) for n, e in key_items] + [
            Column(n, e.type, Namespace.VALUE) for n, e in value_items
        ]
        for n, ve in value_items:
            if ve.type.base is t.BaseType.NULL:
                raise self.error(
                    f"Can't infer a type of null. Please explicitly cast it to the required type, e.g. CAST(null AS VARCHAR) AS {n}."
                )
        project = ProjectNode(
            LogicalSchema(tuple(columns)),
            input_node.is_table,
            input_node.window,
            input_node,
            tuple(key_items + value_items),
        )
        return PlannedQuery(project, tuple(n for n, _ in key_items), sources, tuple(n for n, _, _ in named))


def plan_output(planned: PlannedQuery, query: ast.Query) -> OutputNode:
    root = planned.root
    return OutputNode(
        root.schema, root.is_table, root.window, root, query.emit, query.limit, tuple(root.schema.names())
    )


# -- helpers -------------------------------------------------------------------------------------------------


def rewrite(e: ir.Expr, f: Callable[[ir.Expr], ir.Expr | None]) -> ir.Expr:
    """`e` with every subtree for which `f` returns a replacement replaced (outermost first)."""
    swapped = f(e)
    if swapped is not None:
        return swapped
    changes: dict[str, Any] = {}
    for name in e.__dataclass_fields__:
        value = getattr(e, name)
        if isinstance(value, ir.Expr):
            changes[name] = rewrite(value, f)
        elif isinstance(value, tuple) and value and all(isinstance(v, ir.Expr) for v in value):
            changes[name] = tuple(rewrite(v, f) for v in value)
        elif isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
            changes[name] = tuple(
                tuple(rewrite(x, f) if isinstance(x, ir.Expr) else x for x in pair) for pair in value
            )
    return replace(e, **changes) if changes else e


def _derived_name(e: ir.Expr, key_cols: list[Column], group_by: list[ir.Expr], index: int = 0) -> str:
    if isinstance(e, ir.ColumnRef):
        return e.user_name
    if isinstance(e, ir.Deref):
        return e.field_name
    return f"KSQL_COL_{index}"


def _add_pseudo(scope: Scope, alias: str | None, windowed: bool) -> None:
    pseudo = dict(PSEUDO_COLUMNS)
    if windowed:
        pseudo.update(WINDOW_COLUMNS)
    for name, typ in pseudo.items():
        scope.add(ScopeColumn(name, typ, None, alias, name))


def _sources(node: PlanNode) -> list[DataSource]:
    if isinstance(node, SourceNode):
        return [node.source]
    out: list[DataSource] = []
    for child in node.inputs():
        out.extend(_sources(child))
    return out


def _is_join(node: PlanNode) -> bool:
    while isinstance(node, FilterNode | FlatMapNode):
        node = node.input
    return isinstance(node, JoinNode)


def _is_key_ref(e: ir.Expr, node: PlanNode) -> bool:
    keys = node.schema.key
    return (
        isinstance(e, ir.ColumnRef)
        and e.namespace is Namespace.KEY
        and len(keys) == 1
        and keys[0].name == e.name
    )


def select_name(item: ast.SelectItem) -> str | None:
    return item.alias or (
        identifier_name(item.expression) if isinstance(item.expression, exp.Column) else None
    )
