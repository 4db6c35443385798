"""The metastore: what the server knows — streams, tables, custom types and persistent queries.

It is rebuilt on every server by replaying the command topic (`command_topic.py`), so it holds only
what statements create; it never talks to Kafka. `copy()` gives a scratch copy on which a statement is
validated before it is written to the command topic.
"""

from __future__ import annotations

import copy as copy_module
import enum
from dataclasses import dataclass, field, replace

from odradek.sql.errors import KsqlAnalysisError, KsqlExecutionError, KsqlNotFoundError
from odradek.sql.parser.ast import SourceKind, WindowKind
from odradek.sql.schema import LogicalSchema
from odradek.sql.types import SqlType


@dataclass(frozen=True)
class WindowInfo:
    """The window of a windowed source's key (a windowed table from an aggregation)."""

    kind: WindowKind
    size_ms: int | None  # None for SESSION


@dataclass(frozen=True)
class SourceFormats:
    key_format: str = "KAFKA"
    value_format: str = "JSON"
    wrap_single_value: bool | None = None
    key_schema_id: int | None = None
    value_schema_id: int | None = None
    key_delimiter: str = ","
    value_delimiter: str = ","


@dataclass(frozen=True)
class DataSource:
    name: str
    kind: SourceKind
    schema: LogicalSchema
    topic: str
    formats: SourceFormats = SourceFormats()
    timestamp_column: str | None = None
    timestamp_format: str | None = None
    window: WindowInfo | None = None
    partitions: int | None = None
    replicas: int | None = None
    read_only: bool = False  # CREATE SOURCE STREAM|TABLE: no INSERT, no persistent writer
    statement: str = ""
    created_by: str | None = None  # the persistent query writing it (CSAS/CTAS)

    @property
    def is_table(self) -> bool:
        return self.kind is SourceKind.TABLE

    @property
    def is_windowed(self) -> bool:
        return self.window is not None


class QueryState(enum.Enum):
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    ERROR = "ERROR"
    UNRESPONSIVE = "UNRESPONSIVE"


@dataclass
class QueryMetadata:
    """A persistent query: CSAS, CTAS or INSERT INTO."""

    query_id: str
    statement: str
    sink: str
    sources: tuple[str, ...]
    kind: str  # "PERSISTENT"
    state: QueryState = QueryState.RUNNING
    properties: dict[str, str] = field(default_factory=dict)


@dataclass
class MetaStore:
    sources: dict[str, DataSource] = field(default_factory=dict)
    types: dict[str, SqlType] = field(default_factory=dict)
    queries: dict[str, QueryMetadata] = field(default_factory=dict)
    query_counter: int = 0

    def copy(self) -> MetaStore:
        return copy_module.deepcopy(self)

    # -- sources -----------------------------------------------------------------------------------------

    def source(self, name: str) -> DataSource | None:
        return self.sources.get(name)

    def require_source(self, name: str) -> DataSource:
        found = self.sources.get(name)
        if found is None:
            raise KsqlAnalysisError(f"{name} does not exist.")
        return found

    def put_source(self, source: DataSource, *, replace_allowed: bool = False) -> None:
        existing = self.sources.get(source.name)
        if existing is not None and not replace_allowed:
            what = "stream" if existing.kind is SourceKind.STREAM else "table"
            raise KsqlExecutionError(
                f"Cannot add {source.kind.value.lower()} '{source.name}': A {what} with the same name already exists"
            )
        self.sources[source.name] = source

    def drop_source(self, name: str) -> DataSource:
        source = self.sources.get(name)
        if source is None:
            raise KsqlNotFoundError(f"Source {name} does not exist.")
        users = sorted(q.query_id for q in self.queries.values() if name in q.sources or q.sink == name)
        if users:
            raise KsqlExecutionError(
                f"Cannot drop {name}.\nThe following queries read from this source: [{', '.join(q for q in users if name in self.queries[q].sources)}].\n"
                f"The following queries write into this source: [{', '.join(q for q in users if self.queries[q].sink == name)}].\n"
                "You need to terminate them before dropping " + name + "."
            )
        del self.sources[name]
        return source

    def with_created_by(self, name: str, query_id: str | None) -> None:
        self.sources[name] = replace(self.sources[name], created_by=query_id)

    # -- queries -----------------------------------------------------------------------------------------

    def next_query_id(self, prefix: str) -> str:
        self.query_counter += 1
        return f"{prefix}_{self.query_counter - 1}"

    def query(self, query_id: str) -> QueryMetadata:
        found = self.queries.get(query_id)
        if found is None:
            raise KsqlNotFoundError(f"Unknown queryId: {query_id}")
        return found
