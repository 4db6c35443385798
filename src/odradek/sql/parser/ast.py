"""The statements of the ksqlDB language as frozen dataclasses.

Expressions inside statements are sqlglot expression trees (`sqlglot.exp.Expr`, with the
`StructDeref` node of `dialect.py`); the analyzer (`odradek.sql.plan`) resolves and types them.
Every statement keeps its own text (`text`, what ksqlDB echoes as `statementText`) and the position
of its first token. Names are as written: unquoted identifiers are upper-cased by the grammar, as
ksqlDB does, quoted ones keep their case.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from odradek.sql.errors import Position


class SourceKind(enum.Enum):
    STREAM = "STREAM"
    TABLE = "TABLE"


class ColumnConstraint(enum.Enum):
    NONE = ""
    KEY = "KEY"
    PRIMARY_KEY = "PRIMARY KEY"
    HEADERS = "HEADERS"
    HEADER = "HEADER"  # HEADER('name'): one header's bytes


@dataclass(frozen=True)
class TableElement:
    name: str
    type_text: str  # as written; resolved against CREATE TYPE names by the analyzer
    constraint: ColumnConstraint = ColumnConstraint.NONE
    header_key: str | None = None
    position: Position | None = None


@dataclass(frozen=True)
class Statement:
    text: str = field(default="", kw_only=True, compare=False)
    position: Position = field(default=Position(1, 1), kw_only=True, compare=False)


# -- queries --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllColumns:
    """`*` or `alias.*`."""

    source: str | None = None


@dataclass(frozen=True)
class SelectItem:
    expression: exp.Expr
    alias: str | None = None


@dataclass(frozen=True)
class AliasedRelation:
    name: str
    alias: str | None = None
    position: Position | None = None

    @property
    def label(self) -> str:
        return self.alias or self.name


class JoinType(enum.Enum):
    INNER = "INNER"
    LEFT = "LEFT"
    RIGHT = "RIGHT"
    FULL = "FULL"


@dataclass(frozen=True)
class Within:
    """`WITHIN n unit` (symmetric) or `WITHIN (before, after)`, in milliseconds."""

    before_ms: int
    after_ms: int
    grace_ms: int | None = None


@dataclass(frozen=True)
class Join:
    left: Relation
    right: AliasedRelation
    join_type: JoinType
    criteria: exp.Expr
    within: Within | None = None
    position: Position | None = None


Relation = AliasedRelation | Join


class WindowKind(enum.Enum):
    TUMBLING = "TUMBLING"
    HOPPING = "HOPPING"
    SESSION = "SESSION"


@dataclass(frozen=True)
class WindowSpec:
    kind: WindowKind
    size_ms: int  # the gap for SESSION
    advance_ms: int | None = None
    retention_ms: int | None = None
    grace_ms: int | None = None

    def __str__(self) -> str:
        parts = [f"SIZE {self.size_ms} MILLISECONDS"] if self.kind is not WindowKind.SESSION else []
        if self.kind is WindowKind.SESSION:
            parts.append(f"{self.size_ms} MILLISECONDS")
        if self.advance_ms is not None:
            parts.append(f"ADVANCE BY {self.advance_ms} MILLISECONDS")
        if self.retention_ms is not None:
            parts.append(f"RETENTION {self.retention_ms} MILLISECONDS")
        if self.grace_ms is not None:
            parts.append(f"GRACE PERIOD {self.grace_ms} MILLISECONDS")
        return f"{self.kind.value} ({', '.join(parts)})"


class Emit(enum.Enum):
    CHANGES = "CHANGES"
    FINAL = "FINAL"


@dataclass(frozen=True)
class OrderItem:
    expression: exp.Expr
    descending: bool = False
    nulls_first: bool | None = None


@dataclass(frozen=True)
class Query(Statement):
    select: tuple[SelectItem | AllColumns, ...]
    from_: Relation
    window: WindowSpec | None = None
    where: exp.Expr | None = None
    group_by: tuple[exp.Expr, ...] = ()
    partition_by: tuple[exp.Expr, ...] = ()
    having: exp.Expr | None = None
    emit: Emit | None = None
    order_by: tuple[OrderItem, ...] = ()  # pull queries (beyond ksqlDB)
    limit: int | None = None
    offset: int | None = None  # pull queries (beyond ksqlDB)

    @property
    def is_push(self) -> bool:
        return self.emit is not None


# -- DDL ------------------------------------------------------------------------------------------

Properties = dict[str, Any]  # WITH (...) names upper-cased; values str | int | float | bool | None


@dataclass(frozen=True)
class CreateSource(Statement):
    kind: SourceKind
    name: str
    elements: tuple[TableElement, ...]
    properties: Properties
    if_not_exists: bool = False
    or_replace: bool = False
    read_only: bool = False  # CREATE SOURCE STREAM|TABLE


@dataclass(frozen=True)
class CreateAsSelect(Statement):
    kind: SourceKind
    name: str
    query: Query
    properties: Properties
    if_not_exists: bool = False
    or_replace: bool = False


@dataclass(frozen=True)
class InsertInto(Statement):
    target: str
    query: Query
    properties: Properties = field(default_factory=dict)


@dataclass(frozen=True)
class InsertValues(Statement):
    target: str
    columns: tuple[str, ...] | None
    values: tuple[exp.Expr, ...]


@dataclass(frozen=True)
class DropSource(Statement):
    kind: SourceKind
    name: str
    if_exists: bool = False
    delete_topic: bool = False


@dataclass(frozen=True)
class AlterSource(Statement):
    kind: SourceKind
    name: str
    add_columns: tuple[TableElement, ...]


@dataclass(frozen=True)
class CreateType(Statement):
    name: str
    type_text: str
    if_not_exists: bool = False


@dataclass(frozen=True)
class DropType(Statement):
    name: str
    if_exists: bool = False


# -- inspection and administration ----------------------------------------------------------------


class ShowKind(enum.Enum):
    STREAMS = "STREAMS"
    TABLES = "TABLES"
    TOPICS = "TOPICS"
    QUERIES = "QUERIES"
    PROPERTIES = "PROPERTIES"
    TYPES = "TYPES"
    FUNCTIONS = "FUNCTIONS"
    VARIABLES = "VARIABLES"
    CONNECTORS = "CONNECTORS"


@dataclass(frozen=True)
class Show(Statement):
    what: ShowKind
    extended: bool = False
    all_topics: bool = False  # SHOW ALL TOPICS: internal topics too


@dataclass(frozen=True)
class Describe(Statement):
    name: str
    extended: bool = False


@dataclass(frozen=True)
class DescribeSources(Statement):
    """`DESCRIBE STREAMS|TABLES [EXTENDED]`: every source of that kind."""

    kind: SourceKind
    extended: bool = False


@dataclass(frozen=True)
class DescribeFunction(Statement):
    name: str


@dataclass(frozen=True)
class Explain(Statement):
    statement: Statement | None = None
    query_id: str | None = None


@dataclass(frozen=True)
class Print(Statement):
    topic: str
    from_beginning: bool = False
    interval: int = 1
    limit: int | None = None


@dataclass(frozen=True)
class SetProperty(Statement):
    name: str
    value: str


@dataclass(frozen=True)
class UnsetProperty(Statement):
    name: str


@dataclass(frozen=True)
class DefineVariable(Statement):
    name: str
    value: str


@dataclass(frozen=True)
class UndefineVariable(Statement):
    name: str


@dataclass(frozen=True)
class TerminateQuery(Statement):
    query_id: str | None  # None = TERMINATE ALL


@dataclass(frozen=True)
class PauseQuery(Statement):
    query_id: str | None  # None = ALL


@dataclass(frozen=True)
class ResumeQuery(Statement):
    query_id: str | None  # None = ALL


@dataclass(frozen=True)
class AssertTopic(Statement):
    topic: str
    exists: bool = True
    properties: Properties = field(default_factory=dict)  # PARTITIONS, REPLICAS
    timeout_ms: int | None = None


@dataclass(frozen=True)
class AssertSchema(Statement):
    subject: str | None
    schema_id: int | None
    exists: bool = True
    timeout_ms: int | None = None


@dataclass(frozen=True)
class ReloadFunctions(Statement):
    """`RELOAD FUNCTIONS` (odradek): re-import user-defined functions without a restart."""


@dataclass(frozen=True)
class RunScript(Statement):
    path: str
