"""The logical plan: what a query computes, step by step, before any streams operator is chosen.

    SourceNode      read a stream or table
    JoinNode        join two inputs on a key (stream-stream WITHIN, stream-table, table-table, foreign key)
    FilterNode      WHERE (and HAVING over an aggregate's output)
    FlatMapNode     table functions (EXPLODE): one row per element
    RepartitionNode PARTITION BY: a new key
    AggregateNode   GROUP BY [WINDOW ...] with aggregates: a table
    ProjectNode     SELECT: the output columns, which of them form the key
    SinkNode        CREATE ... AS SELECT / INSERT INTO: write to a topic
    OutputNode      a transient (push) query: rows to the client

Every node has its output `schema`, whether its output is a table (`is_table`) and, for windowed
outputs, the window. `explain(plan)` prints the tree as EXPLAIN shows it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from odradek.sql.metastore import DataSource, WindowInfo
from odradek.sql.parser.ast import Emit, JoinType, WindowSpec, Within
from odradek.sql.plan import expressions as ir
from odradek.sql.schema import LogicalSchema


@dataclass(frozen=True, eq=False)
class PlanNode:
    schema: LogicalSchema
    is_table: bool
    window: WindowInfo | None

    def inputs(self) -> tuple[PlanNode, ...]:
        return ()

    def label(self) -> str:
        raise NotImplementedError

    def details(self) -> str:
        return ""


@dataclass(frozen=True, eq=False)
class SourceNode(PlanNode):
    source: DataSource
    alias: str

    def label(self) -> str:
        return "SOURCE"

    def details(self) -> str:
        return f"{'table' if self.is_table else 'stream'} {self.source.name} AS {self.alias}, topic {self.source.topic}"


class JoinKind(enum.Enum):
    STREAM_STREAM = "stream-stream"
    STREAM_TABLE = "stream-table"
    TABLE_TABLE = "table-table"
    FOREIGN_KEY = "table-table foreign-key"


@dataclass(frozen=True, eq=False)
class JoinNode(PlanNode):
    left: PlanNode
    right: PlanNode
    join_type: JoinType
    kind: JoinKind
    left_key: ir.Expr  # over the left input's schema
    right_key: ir.Expr  # over the right input's schema
    left_alias_prefix: tuple[str, ...]  # the aliases whose columns come from the left
    right_alias: str
    within: Within | None = None
    repartition_left: bool = False
    repartition_right: bool = False
    # names, in the join's output, of the columns that equal the join key (A_ID, B_ID)
    key_columns: tuple[str, ...] = ()

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.left, self.right)

    def label(self) -> str:
        return "JOIN"

    def details(self) -> str:
        parts = [f"{self.kind.value} {self.join_type.value}", f"ON {self.left_key} = {self.right_key}"]
        if self.within is not None:
            parts.append(f"WITHIN ({self.within.before_ms} ms, {self.within.after_ms} ms)")
            if self.within.grace_ms is not None:
                parts.append(f"GRACE {self.within.grace_ms} ms")
        if self.repartition_left:
            parts.append("repartition left")
        if self.repartition_right:
            parts.append("repartition right")
        return ", ".join(parts)


@dataclass(frozen=True, eq=False)
class FilterNode(PlanNode):
    input: PlanNode
    predicate: ir.Expr
    clause: str = "WHERE"

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        return "FILTER" if self.clause == "WHERE" else "HAVING"

    def details(self) -> str:
        return str(self.predicate)


@dataclass(frozen=True, eq=False)
class FlatMapNode(PlanNode):
    input: PlanNode
    functions: tuple[tuple[str, ir.TableFunctionCall], ...]

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        return "FLAT_MAP"

    def details(self) -> str:
        return ", ".join(f"{n} := {f}" for n, f in self.functions)


@dataclass(frozen=True, eq=False)
class RepartitionNode(PlanNode):
    input: PlanNode
    keys: tuple[ir.Expr, ...]

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        return "REPARTITION"

    def details(self) -> str:
        return "PARTITION BY " + ", ".join(str(k) for k in self.keys)


@dataclass(frozen=True, eq=False)
class AggregateNode(PlanNode):
    input: PlanNode
    group_by: tuple[ir.Expr, ...]
    aggregates: tuple[tuple[str, ir.AggregateCall], ...]
    window_spec: WindowSpec | None = None
    needs_repartition: bool = True
    emit_final: bool = False

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        return "AGGREGATE"

    def details(self) -> str:
        parts = ["GROUP BY " + ", ".join(str(g) for g in self.group_by)]
        if self.window_spec is not None:
            parts.append(f"WINDOW {self.window_spec}")
        parts.append(", ".join(f"{n} := {a}" for n, a in self.aggregates))
        return ", ".join(parts)


@dataclass(frozen=True, eq=False)
class ProjectNode(PlanNode):
    input: PlanNode
    items: tuple[tuple[str, ir.Expr], ...]  # in schema order: key columns first, then value columns

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        return "PROJECT"

    def details(self) -> str:
        return ", ".join(f"{e} AS {n}" if str(e) != f"`{n}`" else n for n, e in self.items)


@dataclass(frozen=True, eq=False)
class SinkNode(PlanNode):
    input: PlanNode
    target: DataSource
    insert: bool = False

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        return "SINK"

    def details(self) -> str:
        return f"{'INSERT INTO' if self.insert else 'CREATE'} {self.target.name}, topic {self.target.topic}, key {self.target.formats.key_format}, value {self.target.formats.value_format}"


@dataclass(frozen=True, eq=False)
class OutputNode(PlanNode):
    input: PlanNode
    emit: Emit | None
    limit: int | None = None
    columns: tuple[str, ...] = field(default=())

    def inputs(self) -> tuple[PlanNode, ...]:
        return (self.input,)

    def label(self) -> str:
        return "OUTPUT"

    def details(self) -> str:
        parts = [f"EMIT {self.emit.value}" if self.emit else "pull"]
        if self.limit is not None:
            parts.append(f"LIMIT {self.limit}")
        return ", ".join(parts)


def explain(node: PlanNode, depth: int = 0) -> str:
    """The plan as an indented tree, root first (ksqlDB's EXPLAIN shape)."""
    pad = "\t\t" * depth
    kind = "table" if node.is_table else "stream"
    window = f" | window {node.window.kind.value}" if node.window else ""
    details = node.details()
    line = f"{pad} > [ {node.label()} ] | {details + ' | ' if details else ''}Schema: {node.schema} | {kind}{window}"
    return "\n".join([line, *(explain(child, depth + 1) for child in node.inputs())])


def sources_of(node: PlanNode) -> list[DataSource]:
    if isinstance(node, SourceNode):
        return [node.source]
    out: list[DataSource] = []
    for child in node.inputs():
        out.extend(sources_of(child))
    return out
