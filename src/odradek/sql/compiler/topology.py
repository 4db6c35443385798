"""The SQL compiler: a logical plan -> an `odradek.streams` topology (ARCHITECTURE D8).

Each plan node becomes DSL calls:

| plan node      | on a stream                                              | on a table                          |
|----------------|----------------------------------------------------------|-------------------------------------|
| SOURCE         | `builder.stream(topic)` (+ TIMESTAMP extractor)          | `builder.table(topic)` (a store)    |
| FILTER         | fused into a `RowStage` processor                        | `KTable.filter`                     |
| FLAT_MAP       | fused into the `RowStage`                                | -                                   |
| REPARTITION    | fused into the `RowStage` (a new key; the next grouping or join repartitions) | -               |
| PROJECT        | fused into the `RowStage`                                | `KTable.map_values`                 |
| AGGREGATE      | pre-aggregation `RowStage` (group key, arguments) → `group_by_key` → [`windowed_by`] → `aggregate` with the UDAFs; EMIT FINAL = `EmitStrategy.ON_WINDOW_CLOSE` | `KTable.group_by` → `aggregate(adder, subtractor)` with the UDAFs' undo |
| JOIN           | each side prefixed and keyed by its join expression, then `KStream.join/left_join/outer_join` with `JoinWindows` (stream-stream) or a `KTable` (stream-table) | `KTable.join/left_join/outer_join`, foreign-key with `foreign_key_extractor` |
| SINK           | `to(topic)`                                              | `to_stream().to(topic)` (deletes as tombstones) |

Names of stores and internal topics derive from the query id, so they stay stable when the query is
replayed from the command topic. A persistent table query materializes its final table in the store
`<query id>-TABLE` for pull queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from odradek.sql.compiler.processors import RowFn, RowSource, RowStage, TableRow, table_function_rows
from odradek.sql.compiler.registry_serdes import SchemaRegistry
from odradek.sql.compiler.serdes import StateSerde, WindowedKeySerde, key_serde, source_serdes, value_serde
from odradek.sql.metastore import DataSource
from odradek.sql.parser.ast import JoinType, WindowKind
from odradek.sql.plan import expressions as ir
from odradek.sql.plan.codegen import ExprCompiler, RowContext
from odradek.sql.plan.logical import (
    AggregateNode,
    FilterNode,
    FlatMapNode,
    JoinKind,
    JoinNode,
    PlanNode,
    ProjectNode,
    RepartitionNode,
    SourceNode,
)
from odradek.sql.plan.planner import PlannedQuery
from odradek.sql.schema import LogicalSchema, Namespace
from odradek.streams import (
    EmitStrategy,
    JoinWindows,
    KStream,
    KTable,
    Materialized,
    SessionWindows,
    StreamsBuilder,
    TimeWindows,
    Topology,
)
from odradek.streams.serdes import Serde

DEFAULT_GRACE_MS = 24 * 3_600_000  # ksqlDB's grace period when a window names none


@dataclass
class Handle:
    """A compiled plan node: the DSL object and what its records look like."""

    stream: KStream | None
    table: KTable | None
    schema: LogicalSchema
    key_serde: Serde[Any] | None = None

    @property
    def is_table(self) -> bool:
        return self.table is not None


@dataclass
class CompiledQuery:
    topology: Topology
    store: str | None  # the queryable store of a materialized table result
    output: KStream | None  # transient queries: the stream of result rows
    internal_topics: list[str] = field(default_factory=list)


def _row_fn(
    body: Callable[[ExprCompiler], str], key_names: list[str], header_keys: dict[str, str | None]
) -> RowFn:
    c = ExprCompiler(key_names, header_keys)
    return c.function(body(c))


def _row_source(
    body: Callable[[ExprCompiler], str], key_names: list[str], header_keys: dict[str, str | None]
) -> RowSource:
    """`body` compiled again with some value columns read from named locals: (source, namespace)."""

    def source(value_locals: dict[str, str]) -> tuple[str, dict[str, Any]]:
        c = ExprCompiler(key_names, header_keys, value_locals)
        return body(c), c.namespace

    return source


def _same_row(a: LogicalSchema, b: LogicalSchema) -> bool:
    """Whether two schemas have the same key and header columns (a filter's input and output)."""
    return [c.name for c in a.key] == [c.name for c in b.key] and _headers_of(a) == _headers_of(b)


def _headers_of(schema: LogicalSchema) -> dict[str, str | None]:
    return {c.name: c.header_key for c in schema.headers}


def _uses_metadata(exprs: list[ir.Expr]) -> bool:
    return any(
        isinstance(n, ir.ColumnRef) and n.namespace is None and n.name in ("ROWPARTITION", "ROWOFFSET")
        for e in exprs
        for n in e.walk()
    )


class QueryCompiler:
    def __init__(self, query_id: str, registry: SchemaRegistry | None = None) -> None:
        self.query_id = query_id
        self.registry = registry  # for sources and sinks in AVRO, PROTOBUF, JSON_SR
        self.builder = StreamsBuilder()
        self._n = 0

    def name(self, role: str) -> str:
        self._n += 1
        return f"{self.query_id}-{role}-{self._n}"

    # -- entry points ------------------------------------------------------------------------------------

    def compile_persistent(self, planned: PlannedQuery, sink: DataSource) -> CompiledQuery:
        handle = self.compile(planned.root)
        k_serde, v_serde = source_serdes(sink, self.registry)
        store = None
        if handle.table is not None:
            store = f"{self.query_id}-TABLE"
            table = handle.table.map_values(
                lambda v: v, materialized=Materialized(store, handle.key_serde, StateSerde())
            )
            table.to_stream().to(sink.topic, key_serde=k_serde, value_serde=v_serde)
        else:
            assert handle.stream is not None
            handle.stream.to(sink.topic, key_serde=k_serde, value_serde=v_serde)
        return CompiledQuery(self.builder.build(), store, None)

    def compile_transient(self, planned: PlannedQuery, deliver: Callable[[Any, Any], None]) -> CompiledQuery:
        """A push query: every result row (key, value) goes to `deliver` (from a stream thread)."""
        handle = self.compile(planned.root)
        if handle.table is not None:
            stream = handle.table.to_stream()
        else:
            assert handle.stream is not None
            stream = handle.stream
        stream.foreach(deliver)
        return CompiledQuery(self.builder.build(), None, stream)

    # -- nodes ------------------------------------------------------------------------------------------------

    def compile(self, node: PlanNode) -> Handle:
        if isinstance(node, ProjectNode):
            return self._project(node)
        if isinstance(node, SourceNode):
            return self._source(node)
        if isinstance(node, FilterNode):
            return self._filter(node)
        if isinstance(node, AggregateNode):
            return self._aggregate(node)
        if isinstance(node, JoinNode):
            return self._join(node)
        if isinstance(node, FlatMapNode | RepartitionNode):
            return self._stateless(node, None)
        raise NotImplementedError(type(node).__name__)

    def _source(self, node: SourceNode) -> Handle:
        source = node.source
        k_serde, v_serde = source_serdes(source, self.registry)
        extractor = _timestamp_extractor(source)
        if source.is_table:
            table = self.builder.table(
                source.topic,
                key_serde=k_serde,
                value_serde=v_serde,
                materialized=Materialized(self.name(f"{source.name}-source"), k_serde, v_serde),
                timestamp_extractor=extractor,
            )
            return Handle(None, table, node.schema, k_serde)
        stream = self.builder.stream(
            source.topic, key_serde=k_serde, value_serde=v_serde, timestamp_extractor=extractor
        )
        return Handle(stream, None, node.schema, k_serde)

    def _filter(self, node: FilterNode) -> Handle:
        inner = self.compile(node.input)
        keys = [c.name for c in node.input.schema.key]
        pred = _row_fn(lambda c: f"{c.compile(node.predicate)} is True", keys, _headers_of(node.input.schema))
        if inner.table is not None:
            fn = TableRow(pred, len(keys))
            return Handle(
                None,
                _typed(inner.table.filter(lambda k, v: bool(fn(k, v))), inner.key_serde),
                node.schema,
                inner.key_serde,
            )
        return self._stateless_stream(inner, node.schema, predicate=pred, input_schema=node.input.schema)

    def _project(self, node: ProjectNode) -> Handle:
        child = node.input
        if isinstance(child, FilterNode | FlatMapNode | RepartitionNode) and not child.is_table:
            return self._stateless(child, node)
        inner = self.compile(child)
        project = self._projection(node, child.schema)
        if inner.table is not None:
            fn = TableRow(project, len(child.schema.key))

            def mapper(k: Any, v: Any) -> Any:
                out = fn(k, v)
                return None if out is None else out[1]

            return Handle(
                None,
                _typed(inner.table.map_values(mapper, with_key=True), inner.key_serde),
                node.schema,
                inner.key_serde,
            )
        return self._stateless_stream(inner, node.schema, project=project, input_schema=child.schema)

    def _projection(self, node: ProjectNode, input_schema: LogicalSchema) -> RowFn:
        keys = [c.name for c in input_schema.key]
        return _row_fn(_projection_body(node), keys, _headers_of(input_schema))

    def _stateless(self, node: PlanNode, project_node: ProjectNode | None) -> Handle:
        """A chain FILTER? FLAT_MAP? REPARTITION? (+ PROJECT) on a stream as one RowStage."""
        chain: list[PlanNode] = []
        cur = node
        while isinstance(cur, FilterNode | FlatMapNode | RepartitionNode) and not cur.is_table:
            chain.append(cur)
            cur = cur.inputs()[0]
        inner = self.compile(cur)
        chain.reverse()
        schema_in = cur.schema
        predicate = functions = rekey = None
        exprs: list[ir.Expr] = []
        first_schema = schema_in
        for step in chain:
            keys = [c.name for c in schema_in.key]
            headers = _headers_of(schema_in)
            if isinstance(step, FilterNode):
                if functions is not None or rekey is not None or predicate is not None:
                    inner = self._stateless_stream(
                        inner, schema_in, predicate, functions, rekey, None, first_schema, exprs
                    )
                    predicate = functions = rekey = None
                    first_schema = schema_in
                    exprs = []
                predicate = _row_fn(_predicate_body(step.predicate), keys, headers)
                exprs.append(step.predicate)
            elif isinstance(step, FlatMapNode):
                fns = [
                    (name, _row_fn(_expression_body(call), keys, headers)) for name, call in step.functions
                ]
                functions = table_function_rows(fns)
                exprs.extend(call for _, call in step.functions)
            elif isinstance(step, RepartitionNode):
                rekey = self._rekey(step, schema_in)
                exprs.extend(step.keys)
            schema_in = step.schema
        project = filter_project = filter_project_source = None
        out_schema = schema_in
        if project_node is not None:
            project = self._projection(project_node, schema_in)
            exprs.extend(e for _, e in project_node.items)
            out_schema = project_node.schema
            only = chain[0] if len(chain) == 1 and first_schema is cur.schema else None
            if isinstance(only, FilterNode) and _same_row(cur.schema, schema_in):
                # WHERE and the projection as one generated function (one call per record)
                where, projection = _predicate_body(only.predicate), _projection_body(project_node)
                keys, headers = [c.name for c in schema_in.key], _headers_of(schema_in)

                def filter_project_body(c: ExprCompiler) -> str:
                    return f"{projection(c)} if ({where(c)}) else None"

                filter_project = _row_fn(filter_project_body, keys, headers)
                filter_project_source = _row_source(filter_project_body, keys, headers)
        return self._stateless_stream(
            inner,
            out_schema,
            predicate,
            functions,
            rekey,
            project,
            first_schema,
            exprs,
            filter_project,
            filter_project_source,
        )

    def _rekey(self, node: RepartitionNode, input_schema: LogicalSchema) -> RowFn:
        keys = [c.name for c in input_schema.key]
        key_exprs = [k for k in node.keys if not (isinstance(k, ir.Literal) and k.value is None)]
        input_keys = {c.name for c in input_schema.key}
        moved = [c for c in node.schema.value if c.name in input_keys]
        new_key_names = [c.name for c in node.schema.key]

        def body(c: ExprCompiler) -> str:
            key = "(" + "".join(c.compile(e) + ", " for e in key_exprs) + ")"
            moves = "".join(f"{m.name!r}: k[{keys.index(m.name)}], " for m in moved)
            drops = [n for n in new_key_names if n in [v.name for v in input_schema.value]]
            value = (
                "{**v, " + moves + "}"
                if not drops
                else "{**{_k: _v for _k, _v in v.items() if _k not in "
                + repr(set(drops))
                + "}, "
                + moves
                + "}"
            )
            return f"({key}, {value})"

        return _row_fn(body, keys, _headers_of(input_schema))

    def _stateless_stream(
        self,
        inner: Handle,
        out_schema: LogicalSchema,
        predicate: RowFn | None = None,
        functions: RowFn | None = None,
        rekey: RowFn | None = None,
        project: RowFn | None = None,
        input_schema: LogicalSchema | None = None,
        exprs: list[ir.Expr] | None = None,
        filter_project: RowFn | None = None,
        filter_project_source: RowSource | None = None,
    ) -> Handle:
        assert inner.stream is not None
        arity = len((input_schema or inner.schema).key)
        meta = _uses_metadata(exprs or [])
        stream = inner.stream.process(
            lambda: RowStage(
                arity, predicate, functions, rekey, project, meta, filter_project, filter_project_source
            ),
            name=self.name("Project"),
        )
        ks = inner.key_serde if rekey is None else key_serde(out_schema, _json_formats())
        if rekey is None and inner.key_serde is not None:
            stream.key_serde = inner.key_serde
            stream.repartition_required = inner.stream.repartition_required
        return Handle(stream, None, out_schema, ks)

    # -- aggregation ------------------------------------------------------------------------------------------

    def _aggregate(self, node: AggregateNode) -> Handle:
        child = node.input
        inner = self.compile(child)
        in_keys = [c.name for c in child.schema.key]
        headers = _headers_of(child.schema)
        calls = [call for _, call in node.aggregates]
        udafs = [
            call.resolved.overload.impl([a.type for a in call.args], list(call.literals)) for call in calls
        ]

        def pre_body(c: ExprCompiler) -> str:
            key = "(" + "".join(c.compile(g) + ", " for g in node.group_by) + ")"
            args = []
            for call in calls:
                if not call.args:
                    args.append("None")
                elif len(call.args) == 1:
                    args.append(c.compile(call.args[0]))
                else:
                    args.append("(" + ", ".join(c.compile(a) for a in call.args) + ",)")
            return f"({key}, [{', '.join(args)}])"

        pre = _row_fn(pre_body, in_keys, headers)
        group_key_serde = key_serde(node.schema, _json_formats())
        store = self.name("Aggregate-Materialize")

        def initializer() -> list[Any]:
            return [u.initialize() for u in udafs]

        def aggregator(_k: Any, args: list[Any], agg: list[Any]) -> list[Any]:
            return [u.aggregate(a, s) for u, a, s in zip(udafs, args, agg, strict=True)]

        def merger(_k: Any, a: list[Any], b: list[Any]) -> list[Any]:
            return [u.merge(x, y) for u, x, y in zip(udafs, a, b, strict=True)]

        def subtractor(_k: Any, args: list[Any], agg: list[Any]) -> list[Any]:
            return [u.undo(a, s) for u, a, s in zip(udafs, args, agg, strict=True)]

        if inner.table is not None:
            fn = TableRow(pre, len(in_keys))
            grouped_table = inner.table.group_by(
                fn,
                key_serde=group_key_serde,
                value_serde=StateSerde(),
                name=self.name("GroupBy"),
            )
            table = grouped_table.aggregate(
                initializer,
                aggregator,
                subtractor,
                materialized=Materialized(store, group_key_serde, StateSerde()),
            )
        else:
            assert inner.stream is not None
            arity = len(in_keys)
            rekeyed = inner.stream.process(
                lambda: RowStage(
                    arity,
                    None,
                    None,
                    None,
                    pre,
                    _uses_metadata(list(node.group_by) + [a for c in calls for a in c.args]),
                ),
                name=self.name("Aggregate-Prepare"),
            )
            grouped = rekeyed.group_by_key(
                key_serde=group_key_serde, value_serde=StateSerde(), name=self.name("Aggregate-GroupBy")
            )
            if not node.needs_repartition:
                grouped.repartition_required = False
            spec = node.window_spec
            if spec is None:
                table = grouped.aggregate(
                    initializer, aggregator, materialized=Materialized(store, group_key_serde, StateSerde())
                )
            else:
                grace = spec.grace_ms if spec.grace_ms is not None else DEFAULT_GRACE_MS
                mat = Materialized(store, group_key_serde, StateSerde(), retention_ms=spec.retention_ms)
                if spec.kind is WindowKind.SESSION:
                    windowed: Any = grouped.windowed_by(
                        SessionWindows.with_inactivity_gap(spec.size_ms, grace)
                    )
                elif spec.kind is WindowKind.HOPPING:
                    windowed = grouped.windowed_by(
                        TimeWindows.hopping(spec.size_ms, spec.advance_ms or spec.size_ms, grace)
                    )
                else:
                    windowed = grouped.windowed_by(TimeWindows.tumbling(spec.size_ms, grace))
                if _emit_final(node):
                    windowed = windowed.emit_strategy(EmitStrategy.ON_WINDOW_CLOSE)
                if spec.kind is WindowKind.TUMBLING:
                    table = windowed.aggregate(initializer, aggregator, materialized=mat)
                else:
                    table = windowed.aggregate(initializer, aggregator, merger, materialized=mat)
        names = [n for n, _ in node.aggregates]

        def finish(states: list[Any]) -> dict[str, Any]:
            return {n: u.map(s) for n, u, s in zip(names, udafs, states, strict=True)}

        out = _typed(table.map_values(finish), None)
        ks: Serde[Any] = group_key_serde
        if node.window is not None:
            ks = WindowedKeySerde(group_key_serde, node.window)
        return Handle(None, out, node.schema, ks)

    # -- joins ------------------------------------------------------------------------------------------------

    def _join(self, node: JoinNode) -> Handle:
        left, right = self.compile(node.left), self.compile(node.right)
        lschema, rschema = node.left.schema, node.right.schema
        lprefix = None if isinstance(node.left, JoinNode) else _alias_of(node.left)
        rprefix = _alias_of(node.right)
        joiner = _joiner
        if node.kind is JoinKind.FOREIGN_KEY:
            assert left.table is not None and right.table is not None
            ltab = self._prefix_table(left, lschema, lprefix)
            rtab = self._prefix_table(right, rschema, rprefix)
            fk = _row_fn(lambda c: "(" + c.compile(node.left_key) + ",)", [c.name for c in lschema.key], {})
            fkfn = TableRow(fk, len(lschema.key))
            call = ltab.join if node.join_type is JoinType.INNER else ltab.left_join
            # the FK extractor sees the prefixed value: evaluate the key expression on the original names
            names = {f"{lprefix}_{c.name}": c.name for c in lschema.columns} if lprefix else {}

            def extractor(v: Any) -> Any:
                original = {names.get(k, k): x for k, x in v.items()} if names else v
                return fkfn(None, original)

            table = call(
                rtab,
                joiner,
                foreign_key_extractor=extractor,
                name=self.name("FkJoin"),
                value_serde=StateSerde(),
            )
            return Handle(None, _typed(table, left.key_serde), node.schema, left.key_serde)
        if node.kind is JoinKind.TABLE_TABLE:
            assert left.table is not None and right.table is not None
            ltab = self._prefix_table(left, lschema, lprefix)
            rtab = self._prefix_table(right, rschema, rprefix)
            if node.join_type is JoinType.RIGHT:  # the right table's left join, values in SQL's order
                table = rtab.left_join(ltab, _right_joiner, name=self.name("Join"), value_serde=StateSerde())
                return Handle(None, _typed(table, right.key_serde), node.schema, right.key_serde)
            kind = {JoinType.INNER: "join", JoinType.LEFT: "left_join", JoinType.FULL: "outer_join"}[
                node.join_type
            ]
            table = getattr(ltab, kind)(rtab, joiner, name=self.name("Join"), value_serde=StateSerde())
            return Handle(None, _typed(table, left.key_serde), node.schema, left.key_serde)
        lstream = self._prefix_stream(
            left, lschema, lprefix, node.left_key if node.repartition_left else None
        )
        if node.kind is JoinKind.STREAM_TABLE:
            assert right.table is not None
            # a re-keyed stream side is partitioned by the table's key serde, as the table's topic is
            lstream.key_serde = right.key_serde
            rtab = self._prefix_table(right, rschema, rprefix)
            stream = (lstream.join if node.join_type is JoinType.INNER else lstream.left_join)(
                rtab, joiner, name=self.name("Join")
            )
            stream.key_serde = right.key_serde
            return Handle(stream, None, node.schema, right.key_serde)
        rstream = self._prefix_stream(
            right, rschema, rprefix, node.right_key if node.repartition_right else None
        )
        within = node.within
        assert within is not None
        windows = JoinWindows(
            within.before_ms,
            within.after_ms,
            within.grace_ms if within.grace_ms is not None else DEFAULT_GRACE_MS,
        )
        ks = key_serde(node.schema, _json_formats())
        lstream.key_serde = ks
        rstream.key_serde = ks
        lstream.value_serde = StateSerde()
        rstream.value_serde = StateSerde()
        if node.join_type is JoinType.RIGHT:
            # the right stream's left join; its window mirrors WITHIN (before, after)
            mirrored = JoinWindows(windows.after_ms, windows.before_ms, windows.grace_ms)
            stream = rstream.left_join(
                lstream, _right_joiner, mirrored, name=self.name("Join"), other_value_serde=StateSerde()
            )
        else:
            kind = {JoinType.INNER: "join", JoinType.LEFT: "left_join", JoinType.FULL: "outer_join"}[
                node.join_type
            ]
            stream = getattr(lstream, kind)(
                rstream, joiner, windows, name=self.name("Join"), other_value_serde=StateSerde()
            )
        stream.key_serde = ks
        return Handle(stream, None, node.schema, ks)

    def _prefix_stream(
        self, h: Handle, schema: LogicalSchema, prefix: str | None, rekey: ir.Expr | None
    ) -> KStream:
        assert h.stream is not None
        keys = [c.name for c in schema.key]

        def body(c: ExprCompiler) -> str:
            key = "k" if rekey is None else "(" + c.compile(rekey) + ",)"
            if prefix is None:
                return f"({key}, v)"
            parts = [f"{prefix + '_' + col.name!r}: k[{i}]" for i, col in enumerate(schema.key)]
            parts += [f"{prefix + '_' + col.name!r}: v.get({col.name!r})" for col in schema.value]
            return f"({key}, {{{', '.join(parts)}}})"

        fn = _row_fn(body, keys, _headers_of(schema))
        stream = h.stream.process(
            lambda: RowStage(len(keys), None, None, None, fn, False), name=self.name("PrepareJoin")
        )
        if rekey is None:
            stream.repartition_required = h.stream.repartition_required
            stream.key_serde = h.key_serde
        stream.value_serde = StateSerde()
        return stream

    def _prefix_table(self, h: Handle, schema: LogicalSchema, prefix: str | None) -> KTable:
        assert h.table is not None
        if prefix is None:
            return h.table
        key_cols = [c.name for c in schema.key]
        value_cols = [c.name for c in schema.value]

        def prefixed(k: Any, v: Any) -> Any:
            if v is None:
                return None
            kk = k.key if hasattr(k, "window") else k
            out = {f"{prefix}_{n}": kk[i] for i, n in enumerate(key_cols)}
            for n in value_cols:
                out[f"{prefix}_{n}"] = v.get(n)
            return out

        return _typed(h.table.map_values(prefixed, with_key=True, name=self.name("PrepareJoin")), h.key_serde)


def _projection_body(node: ProjectNode) -> Callable[[ExprCompiler], str]:
    """The projection's (key tuple, value dict) as an expression."""
    key_names = {c.name for c in node.schema.key}
    key_items = [(n, e) for n, e in node.items if n in key_names]
    value_items = [(n, e) for n, e in node.items if (n, e) not in key_items]

    def body(c: ExprCompiler) -> str:
        key = "(" + "".join(c.compile(e) + ", " for _, e in key_items) + ")"
        value = "{" + ", ".join(f"{n!r}: {c.compile(e)}" for n, e in value_items) + "}"
        return f"({key}, {value})"

    return body


def _predicate_body(e: ir.Expr) -> Callable[[ExprCompiler], str]:
    return lambda c: f"{c.compile(e)} is True"


def _expression_body(e: ir.Expr) -> Callable[[ExprCompiler], str]:
    return lambda c: c.compile(e)


def _typed(table: KTable, k_serde: Serde[Any] | None) -> KTable:
    """A derived table's serdes: SQL keys, internal state values (the DSL leaves them unset)."""
    if k_serde is not None:
        table.key_serde = k_serde
    table.value_serde = StateSerde()
    return table


def _joiner(left: Any, right: Any) -> dict[str, Any]:
    out = dict(left) if left else {}
    if right:
        out.update(right)
    return out


def _right_joiner(right: Any, left: Any) -> dict[str, Any]:
    return _joiner(left, right)


def _alias_of(node: PlanNode) -> str:
    while not isinstance(node, SourceNode):
        node = node.inputs()[0]
    return node.alias


def _emit_final(node: AggregateNode) -> bool:
    return node.emit_final


def _json_formats() -> Any:
    from odradek.sql.metastore import SourceFormats

    return SourceFormats(key_format="JSON", value_format="JSON")


def _timestamp_extractor(source: DataSource) -> Callable[[Any, Any, int, int], int] | None:
    column = source.timestamp_column
    if column is None:
        return None
    col = source.schema.find(column)
    assert col is not None
    fmt = source.timestamp_format
    if fmt is not None:
        from odradek.sql.functions.builtins.temporal import parse_timestamp, timestamp_to_millis

        def convert(v: Any) -> int:
            return timestamp_to_millis(parse_timestamp(v, fmt))
    elif col.type.base.value == "TIMESTAMP":
        from odradek.sql.functions.builtins.temporal import timestamp_to_millis as convert  # type: ignore[assignment]
    else:

        def convert(v: Any) -> int:
            return int(v)

    is_key = col.namespace is Namespace.KEY
    index = [c.name for c in source.schema.key].index(column) if is_key else -1

    def extract(key: Any, value: Any, record_ts: int, partition_time: int) -> int:
        raw = (key[index] if key else None) if is_key else (value.get(column) if value else None)
        if raw is None:
            return -1  # ksqlDB skips a record whose timestamp column is null
        try:
            return convert(raw)
        except (ValueError, TypeError):
            return -1

    return extract


__all__ = ["CompiledQuery", "QueryCompiler", "RowContext", "value_serde"]
