"""The SQL engine's pure core: statements in, entities, commands and effects out.

`Engine.execute(statement, session)` runs one parsed statement:

- statements that change what servers run (CREATE/DROP/ALTER, CREATE ... AS SELECT, INSERT INTO ...
  SELECT, TERMINATE, PAUSE, RESUME, CREATE/DROP TYPE) are validated by applying them to a scratch
  copy of the metastore and come back as a `Command` for the command topic;
- `apply(command, sequence)` carries a command out on the real metastore (on every server, also on
  replay) and returns its status message and the `Effects` (topics to create or delete, persistent
  queries to start, stop, pause or resume) that the I/O shell performs;
- everything else (SHOW, DESCRIBE, EXPLAIN, SET, DEFINE, ...) is answered at once;
- queries (SELECT) and PRINT belong to `/query`: `plan_query` plans them for the shell.

The engine does no I/O. What it must know about Kafka (partitions of a topic, the topic list,
schemas in the registry) it asks a `KafkaView`, and it writes the answers into the command
(`resolved`) so that replays ask nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from odradek.sql import types as t
from odradek.sql.engine.commands import Command, CommandId
from odradek.sql.engine.upgrades import check_replace_query, check_replace_source
from odradek.sql.errors import (
    QUERY_ENDPOINT,
    KsqlAnalysisError,
    KsqlError,
    KsqlExecutionError,
    KsqlNotFoundError,
)
from odradek.sql.functions.registry import FunctionRegistry
from odradek.sql.metastore import DataSource, MetaStore, QueryMetadata, QueryState
from odradek.sql.parser import ast, parse_statement, split_statements
from odradek.sql.plan.analyzer import ExpressionAnalyzer, PositionMap, Scope
from odradek.sql.plan.ddl import (
    SCHEMA_REGISTRY_FORMATS,
    columns_from_elements,
    sink_source,
    source_from_create,
)
from odradek.sql.plan.planner import PlannedQuery, QueryPlanner
from odradek.sql.schema import Column, LogicalSchema, Namespace

Entity = dict[str, Any]


class KafkaView(Protocol):
    """What the engine may ask the cluster (the shell implements it; tests fake it)."""

    def partitions(self, topic: str) -> int | None: ...

    def topics(self) -> list[tuple[str, int, int]]:  # name, partitions, replication factor
        ...

    def infer_schema(
        self, topic: str, value_format: str, key: bool, schema_id: int | None
    ) -> list[Column] | None: ...


class NoKafka:
    """A KafkaView that knows nothing (topics are assumed to exist with the declared partitions)."""

    def __init__(self, partitions: dict[str, int] | None = None) -> None:
        self.known = dict(partitions or {})

    def partitions(self, topic: str) -> int | None:
        return self.known.get(topic)

    def topics(self) -> list[tuple[str, int, int]]:
        return [(n, p, 1) for n, p in sorted(self.known.items())]

    def infer_schema(
        self, topic: str, value_format: str, key: bool, schema_id: int | None
    ) -> list[Column] | None:
        return None


@dataclass
class Session:
    """Request-scoped state: properties (SET) and variables (DEFINE)."""

    properties: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replicas: int = 1
    config: dict[str, str] = field(default_factory=dict)


@dataclass
class Effects:
    create_topics: list[TopicSpec] = field(default_factory=list)
    delete_topics: list[str] = field(default_factory=list)
    start_queries: list[str] = field(default_factory=list)
    stop_queries: list[str] = field(default_factory=list)
    pause_queries: list[str] = field(default_factory=list)
    resume_queries: list[str] = field(default_factory=list)


@dataclass
class PersistentQueryPlan:
    """Everything the shell needs to run a persistent query."""

    query_id: str
    statement: str
    planned: PlannedQuery
    sink: DataSource
    insert: bool
    properties: dict[str, Any]


@dataclass
class Outcome:
    """The result of `execute`: an entity now, or a command to write (then `apply`)."""

    entity: Entity | None = None
    command: Command | None = None
    # INSERT INTO ... VALUES: (target, key columns, value columns, ROWTIME) for the shell to produce
    insert: tuple[DataSource, dict[str, Any], dict[str, Any], int | None] | None = None
    # CREATE ... AS SELECT: the source the command creates (the shell checks its registry schemas)
    sink: DataSource | None = None


DISTRIBUTED = (
    ast.CreateSource,
    ast.CreateAsSelect,
    ast.InsertInto,
    ast.DropSource,
    ast.AlterSource,
    ast.CreateType,
    ast.DropType,
    ast.TerminateQuery,
    ast.PauseQuery,
    ast.ResumeQuery,
)

DEFAULT_CONFIG: dict[str, str] = {
    "ksql.service.id": "default_",
    "ksql.persistence.default.format.key": "KAFKA",
    "ksql.persistence.default.format.value": "JSON",
    "ksql.query.pull.table.scan.enabled": "true",
    "ksql.streams.auto.offset.reset": "latest",
    "ksql.sink.partitions": "1",
    "ksql.sink.replicas": "1",
    "processing.guarantee": "exactly_once_v2",
}


class Engine:
    def __init__(
        self,
        functions: FunctionRegistry,
        config: dict[str, str] | None = None,
        metastore: MetaStore | None = None,
    ) -> None:
        self.functions = functions
        self.config = {**DEFAULT_CONFIG, **(config or {})}
        self.metastore = metastore or MetaStore()
        self.plans: dict[str, PersistentQueryPlan] = {}
        self.topology_describer: Callable[[PersistentQueryPlan], str] | None = None

    # -- entry points ------------------------------------------------------------------------------------

    def parse(self, text: str, session: Session) -> list[ast.Statement]:
        """Every statement of a request, substituting variables as DEFINEs go by (parse only)."""
        out = []
        for st in split_statements(text):
            stmt = parse_statement(st, text, session.variables)
            if isinstance(stmt, ast.DefineVariable):
                session.variables[stmt.name] = stmt.value
            out.append(stmt)
        return out

    def execute(self, stmt: ast.Statement, session: Session, kafka: KafkaView | None = None) -> Outcome:
        kafka = kafka or NoKafka()
        if isinstance(stmt, ast.Query | ast.Print):
            raise KsqlError(
                "The following statement types should be issued to the websocket endpoint '/query':\n\t* PRINT\n\t* SELECT",
                error_code=QUERY_ENDPOINT,
            )
        if isinstance(stmt, DISTRIBUTED):
            command, scratch = self._prepare(stmt, session, kafka)
            sink = scratch.metastore.source(stmt.name) if isinstance(stmt, ast.CreateAsSelect) else None
            return Outcome(command=command, sink=sink)
        if isinstance(stmt, ast.InsertValues):
            return Outcome(insert=self.insert_values_row(stmt))
        from odradek.sql.engine.local import LOCAL

        handler = LOCAL.get(type(stmt))
        if handler is None:
            raise KsqlAnalysisError(f"Unsupported statement: {stmt.text}", position=stmt.position)
        return Outcome(entity=handler(self, stmt, session, kafka))

    def prepare(self, stmt: ast.Statement, session: Session, kafka: KafkaView) -> Command:
        """Validate a distributed statement (on a scratch metastore) and make its command."""
        return self._prepare(stmt, session, kafka)[0]

    def _prepare(self, stmt: ast.Statement, session: Session, kafka: KafkaView) -> tuple[Command, Engine]:
        resolved = self._resolve(stmt, kafka)
        command_id, query_id = self._command_id(stmt)
        command = Command(command_id, stmt.text, dict(session.properties), {}, query_id, resolved)
        scratch = Engine(self.functions, self.config, self.metastore.copy())
        scratch.plans = dict(self.plans)
        scratch.apply(command, -1, stmt)
        return command, scratch

    def _resolve(self, stmt: ast.Statement, kafka: KafkaView) -> dict[str, Any]:
        partitions: dict[str, int | None] = {}
        resolved: dict[str, Any] = {"partitions": partitions}
        if isinstance(stmt, ast.CreateSource):
            topic = str(stmt.properties.get("KAFKA_TOPIC", ""))
            partitions[topic] = kafka.partitions(topic) if topic else None
            inferred = self._infer(stmt, topic, kafka)
            if inferred is not None:
                resolved["inferred"] = [[c.name, str(c.type), c.namespace.value] for c in inferred]
        elif isinstance(stmt, ast.CreateAsSelect):
            sink_topic = str(stmt.properties.get("KAFKA_TOPIC", stmt.name))
            partitions[sink_topic] = kafka.partitions(sink_topic)
        return resolved

    def _infer(self, stmt: ast.CreateSource, topic: str, kafka: KafkaView) -> list[Column] | None:
        """Columns from the schema registry: the value's when no value column is declared, the
        key's when no key column is declared (and the key format has schemas)."""
        props = stmt.properties
        config = self.config
        value_fmt = str(
            props.get("FORMAT", props.get("VALUE_FORMAT", config["ksql.persistence.default.format.value"]))
        ).upper()
        key_fmt = str(
            props.get("FORMAT", props.get("KEY_FORMAT", config["ksql.persistence.default.format.key"]))
        ).upper()
        declared = {e.constraint for e in stmt.elements}
        has_key = bool(declared & {ast.ColumnConstraint.KEY, ast.ColumnConstraint.PRIMARY_KEY})
        has_value = ast.ColumnConstraint.NONE in declared
        inferred: list[Column] = []
        if not has_value and value_fmt in SCHEMA_REGISTRY_FORMATS and topic:
            inferred += kafka.infer_schema(topic, value_fmt, False, props.get("VALUE_SCHEMA_ID")) or []
        if not has_key and key_fmt in SCHEMA_REGISTRY_FORMATS and topic:
            try:
                inferred += kafka.infer_schema(topic, key_fmt, True, props.get("KEY_SCHEMA_ID")) or []
            except KsqlError:
                if props.get("KEY_SCHEMA_ID") is not None:
                    raise  # a named key schema must exist; otherwise a stream may have no key
        return inferred or None

    def _command_id(self, stmt: ast.Statement) -> tuple[CommandId, str | None]:
        if isinstance(stmt, ast.CreateSource):
            return CommandId(stmt.kind.value.lower(), stmt.name, "create"), None
        if isinstance(stmt, ast.CreateAsSelect):
            prefix = "CSAS" if stmt.kind is ast.SourceKind.STREAM else "CTAS"
            existing = self.metastore.source(stmt.name)
            if stmt.or_replace and existing is not None and existing.created_by:
                return CommandId(stmt.kind.value.lower(), stmt.name, "create"), existing.created_by
            return CommandId(
                stmt.kind.value.lower(), stmt.name, "create"
            ), f"{prefix}_{stmt.name}_{self.metastore.query_counter}"
        if isinstance(stmt, ast.InsertInto):
            return CommandId("insert", stmt.target, "execute"), f"INSERTQUERY_{self.metastore.query_counter}"
        if isinstance(stmt, ast.DropSource):
            return CommandId(stmt.kind.value.lower(), stmt.name, "drop"), None
        if isinstance(stmt, ast.AlterSource):
            return CommandId(stmt.kind.value.lower(), stmt.name, "alter"), None
        if isinstance(stmt, ast.CreateType):
            return CommandId("type", stmt.name, "create"), None
        if isinstance(stmt, ast.DropType):
            return CommandId("type", stmt.name, "drop"), None
        if isinstance(stmt, ast.TerminateQuery):
            return CommandId("terminate", stmt.query_id or "ALL", "execute"), None
        if isinstance(stmt, ast.PauseQuery):
            return CommandId("pause", stmt.query_id or "ALL", "execute"), None
        if isinstance(stmt, ast.ResumeQuery):
            return CommandId("resume", stmt.query_id or "ALL", "execute"), None
        raise KsqlAnalysisError(f"not a distributed statement: {stmt.text}")

    # -- applying commands -----------------------------------------------------------------------------------

    def apply(
        self, command: Command, sequence: int, stmt: ast.Statement | None = None
    ) -> tuple[str, str | None, Effects]:
        """Carry out a command: (status message, query id, effects)."""
        if stmt is None:
            stmt = parse_statement(split_statements(command.statement)[0], command.statement)
        effects = Effects()
        if command.query_id is not None:
            n = command.query_id.rsplit("_", 1)[-1]
            if n.isdigit():
                self.metastore.query_counter = max(self.metastore.query_counter, int(n) + 1)
        handler = _APPLY[type(stmt)]
        try:
            message, query_id = handler(self, stmt, command, effects)
        except KsqlError as e:
            if e.position is None:
                e.with_position(stmt.position)
            raise
        return message, query_id, effects

    def _apply_create_source(
        self, stmt: ast.CreateSource, command: Command, effects: Effects
    ) -> tuple[str, str | None]:
        existing = self.metastore.source(stmt.name)
        what = "Stream" if stmt.kind is ast.SourceKind.STREAM else "Table"
        if existing is not None and stmt.if_not_exists:
            return (
                f"Cannot add {what.lower()} {stmt.name}: A {existing.kind.value.lower()} with the same name already exists.",
                None,
            )
        inferred = command.resolved.get("inferred")
        inferred_cols = None
        if inferred is not None:
            inferred_cols = [
                Column(n, t.parse_type(ty, self.metastore.types), Namespace(ns)) for n, ty, ns in inferred
            ]
        source = source_from_create(stmt, self.metastore, self.config, inferred_cols)
        topic_partitions = command.resolved.get("partitions", {}).get(source.topic)
        if topic_partitions is None:
            if source.partitions is None:
                raise KsqlExecutionError(
                    f"Topic '{source.topic}' does not exist. If you want to create a new topic for the "
                    f"{what.lower()} please re-run the statement providing the required 'PARTITIONS' configuration "
                    "in the WITH clause (and optionally 'REPLICAS'). For example: "
                    f"CREATE {what.upper()} {stmt.name} (...) WITH (KAFKA_TOPIC='{source.topic}', PARTITIONS=2, REPLICAS=1, FORMAT='JSON');",
                    position=stmt.position,
                )
            effects.create_topics.append(
                TopicSpec(source.topic, source.partitions, source.replicas or 1, _topic_config(source))
            )
        else:
            if source.partitions is not None and source.partitions != topic_partitions:
                raise KsqlExecutionError(
                    f"A Kafka topic with the name '{source.topic}' already exists, with different partition/replica "
                    f"configuration than required. KSQL expects {source.partitions} partitions (topic has {topic_partitions}).",
                    position=stmt.position,
                )
            source = replace(source, partitions=topic_partitions)
        if existing is not None:
            if not stmt.or_replace:
                self.metastore.put_source(source)
            if existing.created_by:
                raise KsqlExecutionError(
                    f"Cannot replace {stmt.name}: it is written by the persistent query {existing.created_by}; use CREATE OR REPLACE ... AS SELECT.",
                    position=stmt.position,
                )
            check_replace_source(existing, source)
            self.metastore.put_source(source, replace_allowed=True)
            return f"{what} {stmt.name} replaced", None
        self.metastore.put_source(source)
        return f"{what} created", None

    def plan_persistent(self, query: ast.Query, statement: ast.Statement) -> PlannedQuery:
        planner = QueryPlanner(
            self.metastore, self.functions, PositionMap(statement.text, statement.position)
        )
        return planner.plan(query, persistent=True)

    def _apply_create_as(
        self, stmt: ast.CreateAsSelect, command: Command, effects: Effects
    ) -> tuple[str, str | None]:
        existing = self.metastore.source(stmt.name)
        if existing is not None and stmt.if_not_exists:
            return (
                f"Cannot add {stmt.kind.value.lower()} {stmt.name}: A {existing.kind.value.lower()} with the same name already exists.",
                None,
            )
        planned = self.plan_persistent(stmt.query, stmt)
        kind_wanted = ast.SourceKind.TABLE if planned.is_table else ast.SourceKind.STREAM
        if kind_wanted is not stmt.kind:
            result = "TABLE" if planned.is_table else "STREAM"
            use = "CREATE TABLE AS SELECT" if planned.is_table else "CREATE STREAM AS SELECT"
            raise KsqlAnalysisError(
                f"Invalid result type. Your SELECT query produces a {result}. Please use {use} statement instead.",
                position=stmt.position,
            )
        if stmt.query.limit is not None:
            raise KsqlAnalysisError(
                "LIMIT is not supported in persistent queries (CREATE ... AS SELECT).", position=stmt.position
            )
        inherited = planned.sources[0]
        sink = sink_source(
            stmt.name,
            stmt.kind,
            planned.schema,
            stmt.properties,
            inherited,
            planned.window,
            self.config,
            stmt.text,
            stmt.position,
        )
        topic_partitions = command.resolved.get("partitions", {}).get(sink.topic)
        if sink.partitions is None:
            sink = replace(
                sink, partitions=topic_partitions or int(self.config.get("ksql.sink.partitions", "1"))
            )
        query_id = (
            command.query_id
            or f"{'CSAS' if stmt.kind is ast.SourceKind.STREAM else 'CTAS'}_{stmt.name}_{self.metastore.query_counter}"
        )
        if existing is not None:
            if not stmt.or_replace:
                self.metastore.put_source(sink)
            old_plan = self.plans.get(existing.created_by or "")
            check_replace_query(existing, sink, old_plan.planned if old_plan else None, planned)
            if existing.created_by:
                effects.stop_queries.append(existing.created_by)
            query_id = existing.created_by or query_id
        elif topic_partitions is None:
            effects.create_topics.append(
                TopicSpec(
                    sink.topic,
                    sink.partitions or 1,
                    sink.replicas or int(self.config.get("ksql.sink.replicas", "1")),
                    _topic_config(sink),
                )
            )
        sink = replace(sink, created_by=query_id)
        self.metastore.put_source(sink, replace_allowed=True)
        self._register_query(query_id, stmt.text, sink, planned, False, command.streams_properties)
        effects.start_queries.append(query_id)
        return f"Created query with ID {query_id}", query_id

    def _apply_insert(
        self, stmt: ast.InsertInto, command: Command, effects: Effects
    ) -> tuple[str, str | None]:
        target = self.metastore.source(stmt.target)
        if target is None:
            raise KsqlAnalysisError(f"{stmt.target} does not exist.", position=stmt.position)
        if target.read_only:
            raise KsqlAnalysisError(
                f"Cannot insert into read-only {target.kind.value.lower()}: {target.name}",
                position=stmt.position,
            )
        if target.is_table:
            raise KsqlAnalysisError(
                f"INSERT INTO can only be used to insert into a stream. {target.name} is a table.",
                position=stmt.position,
            )
        planned = self.plan_persistent(stmt.query, stmt)
        if planned.is_table:
            raise KsqlAnalysisError(
                "INSERT INTO can only read from streams; the query produces a table.", position=stmt.position
            )
        if [(c.name, c.type, c.namespace) for c in planned.schema.columns] != [
            (c.name, c.type, c.namespace)
            for c in target.schema.columns
            if c.namespace is not Namespace.HEADERS
        ]:
            raise KsqlAnalysisError(
                f"Incompatible schema between results and sink.\nResult schema is {planned.schema}\nSink schema is {target.schema}",
                position=stmt.position,
            )
        query_id = command.query_id or f"INSERTQUERY_{self.metastore.query_counter}"
        self._register_query(query_id, stmt.text, target, planned, True, command.streams_properties)
        effects.start_queries.append(query_id)
        return f"Created query with ID {query_id}", query_id

    def _register_query(
        self,
        query_id: str,
        text: str,
        sink: DataSource,
        planned: PlannedQuery,
        insert: bool,
        props: dict[str, Any],
    ) -> None:
        if query_id in self.metastore.queries and not any(
            p.query_id == query_id for p in self.plans.values() if p.sink.name == sink.name
        ):
            raise KsqlExecutionError(f"Query id {query_id} is already in use")
        self.metastore.queries[query_id] = QueryMetadata(
            query_id,
            text,
            sink.name,
            tuple(s.name for s in planned.sources),
            "PERSISTENT",
            properties={k: str(v) for k, v in props.items()},
        )
        self.plans[query_id] = PersistentQueryPlan(query_id, text, planned, sink, insert, dict(props))

    def _apply_drop(self, stmt: ast.DropSource, command: Command, effects: Effects) -> tuple[str, str | None]:
        source = self.metastore.source(stmt.name)
        if source is None:
            if stmt.if_exists:
                return f"Source `{stmt.name}` does not exist.", None
            raise KsqlNotFoundError(f"Source {stmt.name} does not exist.", position=stmt.position)
        if source.kind is not stmt.kind:
            raise KsqlExecutionError(
                f"Incompatible data source type is {source.kind.value}, but statement was DROP {stmt.kind.value}",
                position=stmt.position,
            )
        if source.created_by and source.created_by in self.metastore.queries:
            # ksqlDB terminates the query writing the source when it is dropped
            others = [q.query_id for q in self.metastore.queries.values() if source.name in q.sources]
            if not others:
                self._terminate(source.created_by, effects)
        try:
            self.metastore.drop_source(stmt.name)
        except KsqlError as e:
            raise KsqlExecutionError(e.message, position=stmt.position) from None
        if stmt.delete_topic:
            if source.read_only:
                raise KsqlExecutionError(
                    "Cannot delete the topic of a read-only source", position=stmt.position
                )
            effects.delete_topics.append(source.topic)
        return f"Source `{stmt.name}` (topic: {source.topic}) was dropped.", None

    def _apply_alter(
        self, stmt: ast.AlterSource, command: Command, effects: Effects
    ) -> tuple[str, str | None]:
        source = self.metastore.source(stmt.name)
        if source is None:
            raise KsqlNotFoundError(f"Source {stmt.name} does not exist.", position=stmt.position)
        if source.created_by:
            raise KsqlExecutionError(
                f"ALTER command is not supported for CREATE ... AS statements: {stmt.name}",
                position=stmt.position,
            )
        added = columns_from_elements(stmt, self.metastore)
        for c in added:
            if source.schema.find(c.name) is not None:
                raise KsqlExecutionError(
                    f"Cannot add column `{c.name}` to schema. A column with the same name already exists.",
                    position=stmt.position,
                )
        schema = LogicalSchema((*source.schema.columns, *added))
        self.metastore.put_source(replace(source, schema=schema), replace_allowed=True)
        return f"{source.kind.value.capitalize()} {stmt.name} altered.", None

    def _apply_create_type(
        self, stmt: ast.CreateType, command: Command, effects: Effects
    ) -> tuple[str, str | None]:
        if stmt.name in self.metastore.types:
            if stmt.if_not_exists:
                return f"Type {stmt.name} already exists.", None
            raise KsqlExecutionError(
                f"Cannot register custom type '{stmt.name}' since it is already registered with type: {self.metastore.types[stmt.name]}",
                position=stmt.position,
            )
        if t.simple_type(stmt.name) is not None or stmt.name in ("ARRAY", "MAP", "STRUCT", "DECIMAL"):
            raise KsqlAnalysisError(
                f"Cannot register custom type '{stmt.name}': it is a built-in type name",
                position=stmt.position,
            )
        try:
            typ = t.parse_type(stmt.type_text, self.metastore.types)
        except ValueError as e:
            raise KsqlAnalysisError(f"Unknown type: {stmt.type_text} ({e})", position=stmt.position) from None
        self.metastore.types[stmt.name] = typ
        return f"Registered custom type with name '{stmt.name}' and SQL type {typ}", None

    def _apply_drop_type(
        self, stmt: ast.DropType, command: Command, effects: Effects
    ) -> tuple[str, str | None]:
        if stmt.name not in self.metastore.types:
            if stmt.if_exists:
                return f"Type {stmt.name} does not exist.", None
            raise KsqlNotFoundError(f"Type {stmt.name} does not exist.", position=stmt.position)
        del self.metastore.types[stmt.name]
        return f"Dropped type '{stmt.name}'", None

    def _terminate(self, query_id: str, effects: Effects) -> None:
        meta = self.metastore.queries.pop(query_id)
        self.plans.pop(query_id, None)
        sink = self.metastore.source(meta.sink)
        if sink is not None and sink.created_by == query_id:
            self.metastore.with_created_by(sink.name, None)
        effects.stop_queries.append(query_id)

    def _apply_terminate(
        self, stmt: ast.TerminateQuery, command: Command, effects: Effects
    ) -> tuple[str, str | None]:
        ids = list(self.metastore.queries) if stmt.query_id is None else [self.query_id(stmt.query_id, stmt)]
        for qid in ids:
            self._terminate(qid, effects)
        return "Query terminated.", None

    def query_id(self, query_id: str, stmt: ast.Statement) -> str:
        for qid in self.metastore.queries:
            if qid.upper() == query_id.upper():
                return qid
        raise KsqlNotFoundError(f"Unknown queryId: {query_id}", position=stmt.position)

    def _apply_pause(
        self, stmt: ast.PauseQuery, command: Command, effects: Effects
    ) -> tuple[str, str | None]:
        ids = list(self.metastore.queries) if stmt.query_id is None else [self.query_id(stmt.query_id, stmt)]
        for qid in ids:
            self.metastore.queries[qid].state = QueryState.PAUSED
            effects.pause_queries.append(qid)
        return "Query paused.", None

    def _apply_resume(
        self, stmt: ast.ResumeQuery, command: Command, effects: Effects
    ) -> tuple[str, str | None]:
        ids = list(self.metastore.queries) if stmt.query_id is None else [self.query_id(stmt.query_id, stmt)]
        for qid in ids:
            self.metastore.queries[qid].state = QueryState.RUNNING
            effects.resume_queries.append(qid)
        return "Query resumed.", None

    # -- INSERT VALUES (evaluated here; the shell produces the record) -------------------------------------------

    def insert_values_row(
        self, stmt: ast.InsertValues
    ) -> tuple[DataSource, dict[str, Any], dict[str, Any], int | None]:
        """(target, key columns, value columns, ROWTIME or None) for INSERT INTO ... VALUES."""
        target = self.metastore.source(stmt.target)
        if target is None:
            raise KsqlAnalysisError(
                f"Cannot insert values into an unknown stream/table: {stmt.target}", position=stmt.position
            )
        if target.read_only:
            raise KsqlAnalysisError(
                f"Cannot insert values into read-only {target.kind.value.lower()}: {target.name}",
                position=stmt.position,
            )
        writable = [c for c in target.schema.columns if c.namespace is not Namespace.HEADERS]
        names = list(stmt.columns) if stmt.columns is not None else [c.name for c in writable]
        if len(names) != len(stmt.values):
            raise KsqlAnalysisError(
                f"Expected a value for each column. Expected Columns: {names}. Got {[v.sql() for v in stmt.values]}",
                position=stmt.position,
            )
        analyzer = ExpressionAnalyzer(
            Scope(), self.functions, PositionMap(stmt.text, stmt.position), self.metastore.types
        )
        from odradek.sql.plan.codegen import RowContext, caster, compile_expression

        keys: dict[str, Any] = {}
        values: dict[str, Any] = {}
        rowtime = None
        for name, node in zip(names, stmt.values, strict=True):
            e = analyzer.analyze(node)
            value = compile_expression(e, [])((), {}, RowContext())
            if name == "ROWTIME":
                rowtime = int(value) if value is not None else None
                continue
            col = target.schema.find(name)
            if col is None or col.namespace is Namespace.HEADERS:
                raise KsqlAnalysisError(f"Column name {name} does not exist.", position=stmt.position)
            if value is not None and e.type != col.type:
                if not t.can_assign(e.type, col.type) and not (
                    e.type.base is t.BaseType.STRING
                    and col.type.base in (t.BaseType.TIMESTAMP, t.BaseType.DATE, t.BaseType.TIME)
                ):
                    raise KsqlAnalysisError(
                        f"Expected type {col.type} for field {name} but got {e} ({e.type})",
                        position=stmt.position,
                    )
                value = caster(e.type, col.type)(value)
            (keys if col.namespace is Namespace.KEY else values)[name] = value
        if target.is_table and any(keys.get(c.name) is None for c in target.schema.key):
            raise KsqlAnalysisError(
                f"Value for primary key column(s) {', '.join(c.name for c in target.schema.key)} is required for tables",
                position=stmt.position,
            )
        return target, keys, values, rowtime

    # -- queries -----------------------------------------------------------------------------------------------

    def plan_query(self, stmt: ast.Query) -> PlannedQuery:
        """A transient query: push (EMIT) or pull (no EMIT: over a snapshot, ORDER BY/OFFSET allowed)."""
        planner = QueryPlanner(self.metastore, self.functions, PositionMap(stmt.text, stmt.position))
        return planner.plan(stmt, persistent=False, pull=stmt.emit is None)


def _topic_config(source: DataSource) -> dict[str, str]:
    return {"cleanup.policy": "compact"} if source.is_table and not source.is_windowed else {}


_APPLY: dict[type, Callable[[Engine, Any, Command, Effects], tuple[str, str | None]]] = {
    ast.CreateSource: Engine._apply_create_source,
    ast.CreateAsSelect: Engine._apply_create_as,
    ast.InsertInto: Engine._apply_insert,
    ast.DropSource: Engine._apply_drop,
    ast.AlterSource: Engine._apply_alter,
    ast.CreateType: Engine._apply_create_type,
    ast.DropType: Engine._apply_drop_type,
    ast.TerminateQuery: Engine._apply_terminate,
    ast.PauseQuery: Engine._apply_pause,
    ast.ResumeQuery: Engine._apply_resume,
}
