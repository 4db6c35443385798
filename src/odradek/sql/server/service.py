"""`KsqlServer`: the SQL server's state and work — engine, command log, running queries.

REST handlers call it from worker threads (every method here may block on Kafka). One lock guards
the engine: the command runner thread applies commands under it, and requests validate under it,
so a statement is always checked against a metastore no command is changing at that moment.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from odradek.sql.compiler.registry_serdes import SchemaRegistry
from odradek.sql.compiler.serdes import check_sink_schemas, source_serdes
from odradek.sql.compiler.topology import QueryCompiler
from odradek.sql.engine import entities
from odradek.sql.engine.commands import Command, command_topic_name
from odradek.sql.engine.engine import Engine, PersistentQueryPlan, Session
from odradek.sql.errors import SERVER_NOT_READY, KsqlError, KsqlExecutionError
from odradek.sql.functions import FunctionRegistry, builtin_registry
from odradek.sql.metastore import QueryState
from odradek.sql.parser import ast
from odradek.sql.plan.planner import PlannedQuery
from odradek.sql.pull import prepared
from odradek.sql.pull.prepared import LookupCache
from odradek.sql.server.cluster import Cluster, split_client_settings
from odradek.sql.server.command_log import CommandLog
from odradek.sql.server.runtime import PushQuery, QueryRuntime

log = logging.getLogger(__name__)

PullResult = tuple[list[str], list[str], list[list[Any]]]  # column names, column types, rows
VERSION = "0.29.0"  # the ksqlDB REST API version odradek speaks


@dataclass
class ServerConfig:
    bootstrap: str
    service_id: str = "default_"
    state_dir: Path = field(default_factory=lambda: Path("odradek-data") / "sql")
    properties: dict[str, str] = field(default_factory=dict)
    extension_dir: Path | None = None
    command_timeout_s: float = 60.0


class KsqlServer:
    def __init__(self, config: ServerConfig, functions: FunctionRegistry | None = None) -> None:
        self.config = config
        self.functions = functions or builtin_registry()
        self.functions.load_entry_points()
        if config.extension_dir is not None and config.extension_dir.is_dir():
            self.functions.load_directory(config.extension_dir)
        client, properties = split_client_settings(config.properties)
        props = {"ksql.service.id": config.service_id, **properties}
        self.engine = Engine(self.functions, props)
        self.engine.topology_describer = self._describe_topology
        self.lock = threading.RLock()
        registry_url = self.engine.config.get("ksql.schema.registry.url")
        self.cluster = Cluster(
            config.bootstrap, client, registry=SchemaRegistry(registry_url) if registry_url else None
        )
        config.state_dir.mkdir(parents=True, exist_ok=True)
        self.runtime = QueryRuntime(self.cluster, config.service_id, config.state_dir, self.engine.config)
        self.commands = CommandLog(
            config.bootstrap, command_topic_name(config.service_id), self._apply, client_config=client
        )
        self.push_queries: dict[str, PushQuery] = {}
        self.started = time.time()
        self.generation = 0  # bumped by every applied command: plans cached before it are stale
        self.lookups = LookupCache()

    # -- life --------------------------------------------------------------------------------------------

    def start(self) -> None:
        self.commands.start()

    def wait_ready(self, timeout_s: float) -> bool:
        return self.commands.caught_up.wait(timeout_s)

    def stop(self) -> None:
        for push in list(self.push_queries.values()):
            push.close()
        self.commands.stop()
        self.runtime.close()
        self.cluster.close()

    @property
    def ready(self) -> bool:
        return self.commands.caught_up.is_set()

    def require_ready(self) -> None:
        if not self.ready:
            raise KsqlError(
                "The server is replaying its command topic and not ready yet; retry shortly.",
                error_code=SERVER_NOT_READY,
            )

    # -- applying commands (command runner thread) ------------------------------------------------------------

    def _apply(self, command: Command, sequence: int) -> tuple[str, str | None]:
        with self.lock:
            self.generation += 1
            message, query_id, effects = self.engine.apply(command, sequence)
            plans = {qid: self.engine.plans[qid] for qid in effects.start_queries}
        for spec in effects.create_topics:
            self.cluster.create_topic(spec)
        for qid in effects.stop_queries:
            self.runtime.stop(qid, cleanup=qid not in effects.start_queries)
        for name in effects.delete_topics:
            self.cluster.delete_topic(name)
        for qid, plan in plans.items():
            if (
                self.engine.metastore.queries.get(qid) is not None
                and self.engine.metastore.queries[qid].state is QueryState.PAUSED
            ):
                continue
            try:
                self.runtime.start(plan)
            except Exception as e:
                log.exception("could not start query %s", qid)
                meta = self.engine.metastore.queries.get(qid)
                if meta is not None:
                    meta.state = QueryState.ERROR
                raise KsqlExecutionError(f"Could not start query {qid}: {e}") from e
        for qid in effects.pause_queries:
            self.runtime.stop(qid, cleanup=False)
        for qid in effects.resume_queries:
            if qid not in self.runtime.queries and qid in self.engine.plans:
                self.runtime.start(self.engine.plans[qid])
        return message, query_id

    def _describe_topology(self, plan: PersistentQueryPlan) -> str:
        compiler = QueryCompiler(plan.query_id, self.cluster.registry)
        if plan.query_id == "transient":
            return str(compiler.compile_transient(plan.planned, lambda k, v: None).topology.describe())
        return str(compiler.compile_persistent(plan.planned, plan.sink).topology.describe())

    # -- /ksql ---------------------------------------------------------------------------------------------

    def execute(
        self, text: str, properties: dict[str, Any], variables: dict[str, str], sequence: int | None
    ) -> list[dict[str, Any]]:
        """Run the statements of a /ksql request; a failing statement raises `StatementFailed`."""
        self.require_ready()
        if sequence is not None and not self.commands.wait_for(sequence, self.config.command_timeout_s):
            raise KsqlError(
                f"Timeout while waiting for command sequence number of {sequence}.", error_code=50002
            )
        session = Session(dict(properties), dict(variables))
        out: list[dict[str, Any]] = []
        with self.lock:
            statements = self._parse(text, session, out)
        for stmt in statements:
            try:
                out.append(self.execute_one(stmt, session))
            except KsqlError as e:
                raise StatementFailed(e, stmt.text, out) from None
        return [e for e in out if e]

    def _parse(self, text: str, session: Session, done: list[dict[str, Any]]) -> list[ast.Statement]:
        try:
            return self.engine.parse(text, Session(dict(session.properties), dict(session.variables)))
        except KsqlError as e:
            raise StatementFailed(e, text, done) from None

    def execute_one(self, stmt: ast.Statement, session: Session) -> dict[str, Any]:
        with self.lock:
            outcome = self.engine.execute(stmt, session, self.cluster)
        if outcome.sink is not None and self.cluster.registry is not None:
            check_sink_schemas(outcome.sink, self.cluster.registry)
        if outcome.command is not None:
            sequence, status = self.commands.submit(outcome.command, self.config.command_timeout_s)
            if status.error is not None:
                raise status.error
            if status.status != "SUCCESS":
                raise KsqlExecutionError(status.message)
            return entities.current_status(
                stmt.text, str(outcome.command.command_id), status.message, sequence, status.query_id
            )
        if outcome.insert is not None:
            target, keys, values, rowtime = outcome.insert
            self.insert(target.name, {**keys, **values}, rowtime)
            return {}
        assert outcome.entity is not None
        return outcome.entity

    def insert(self, target: str, row: dict[str, Any], rowtime: int | None = None) -> None:
        with self.lock:
            source = self.engine.metastore.source(target)
        if source is None:
            raise KsqlExecutionError(f"Cannot insert values into an unknown stream/table: {target}")
        k_serde, v_serde = source_serdes(source, self.cluster.registry)
        key = tuple(row.get(c.name) for c in source.schema.key) if source.schema.key else None
        value = {c.name: row.get(c.name) for c in source.schema.value}
        self.cluster.produce(
            source.topic,
            k_serde.serialize(source.topic, key),
            v_serde.serialize(source.topic, value),
            rowtime,
        )

    # -- /query ----------------------------------------------------------------------------------------------

    def plan_query(self, text: str, properties: dict[str, Any]) -> tuple[ast.Statement, PlannedQuery | None]:
        self.require_ready()
        session = Session(dict(properties))
        with self.lock:
            statements = self.engine.parse(text, session)
            if len(statements) != 1:
                raise KsqlError("Expected exactly one statement (a SELECT or PRINT)", error_code=40000)
            stmt = statements[0]
            if isinstance(stmt, ast.Print):
                return stmt, None
            if not isinstance(stmt, ast.Query):
                raise KsqlError(
                    f"Only SELECT and PRINT statements are accepted here, not: {stmt.text}", error_code=40002
                )
            return stmt, self.engine.plan_query(stmt)

    def cached_lookup(self, text: str, properties: dict[str, Any]) -> PullResult | None:
        """A key lookup of an already planned shape (`odradek.sql.pull.prepared`), answered without
        blocking: None when the request needs planning, or its table's query is not running."""
        from odradek.sql.pull.executor import execute_lookup

        shaped = prepared.shape_of(text)
        if shaped is None or not self.ready:
            return None
        shape, literals = shaped
        _, lookup = self.lookups.get(self.generation, _shape_key(shape, properties))
        if lookup is None:
            return None
        try:
            return execute_lookup(self, lookup, literals, wait=False)
        except KsqlError:  # e.g. the store is being handed over: the blocking path waits and answers
            return None

    def answer_query(
        self, text: str, properties: dict[str, Any]
    ) -> tuple[ast.Statement | None, PlannedQuery | None, PullResult | None]:
        """A /query request: a pull query's result, or a push query's/PRINT's plan to start.

        Pull queries that are key lookups reuse the plan of earlier requests of the same shape
        (`odradek.sql.pull.prepared`): no parsing or planning per request."""
        from odradek.sql.pull.executor import execute_lookup, execute_pull

        shaped = prepared.shape_of(text)
        if shaped is not None:
            shape, literals = shaped
            key = _shape_key(shape, properties)
            generation = self.generation
            known, lookup = self.lookups.get(generation, key)
            if not known:
                try:
                    stmt, planned = self.plan_query(shape, properties)
                    lookup = prepared.as_lookup(stmt, planned, len(literals))
                except Exception:  # the shape does not plan (e.g. a literal that must parse as a date)
                    lookup = None
                self.lookups.put(generation, key, lookup)
            if lookup is not None:
                self.require_ready()
                return None, None, execute_lookup(self, lookup, literals)
        stmt, planned = self.plan_query(text, properties)
        if isinstance(stmt, ast.Query) and stmt.emit is None:
            assert planned is not None
            return stmt, planned, execute_pull(self, stmt, planned)
        return stmt, planned, None

    def start_push(self, planned: PlannedQuery, properties: dict[str, Any]) -> PushQuery:
        push = self.runtime.push(planned, properties)
        self.push_queries[push.query_id] = push
        try:
            push.start()
        except Exception:
            self.push_queries.pop(push.query_id, None)
            push.close()
            raise
        return push

    def close_push(self, query_id: str) -> bool:
        push = self.push_queries.pop(query_id, None)
        if push is None:
            return False
        push.close()
        return True

    # -- status ----------------------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return {
            "KsqlServerInfo": {
                "version": VERSION,
                "kafkaClusterId": self.cluster.cluster_id(),
                "ksqlServiceId": self.config.service_id,
                "serverStatus": "RUNNING" if self.ready else "STARTING",
            }
        }

    def health(self) -> dict[str, Any]:
        kafka = self.cluster.reachable()
        runner = self.ready
        return {
            "isHealthy": kafka and runner,
            "details": {
                "metastore": {"isHealthy": True},
                "kafka": {"isHealthy": kafka},
                "commandRunner": {"isHealthy": runner},
            },
            "ksqlServiceId": self.config.service_id,
        }

    def statuses(self) -> dict[str, str]:
        return {cid: s.status for cid, s in self.commands.statuses.items()}

    def status(self, command_id: str) -> dict[str, str] | None:
        s = self.commands.statuses.get(command_id)
        return None if s is None else {"status": s.status, "message": s.message}

    def rows_of(self, push: PushQuery, limit: int | None) -> Iterator[list[Any]]:
        count = 0
        while True:
            item = push.rows.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise KsqlExecutionError(f"The push query failed: {item}")
            yield item
            count += 1
            if limit is not None and count >= limit:
                return


def _shape_key(shape: str, properties: dict[str, Any]) -> tuple[str, str]:
    return shape, json.dumps(properties, sort_keys=True, default=str) if properties else ""


class StatementFailed(Exception):
    """A statement of a /ksql request failed; `entities` are the results of the ones before it."""

    def __init__(self, error: KsqlError, statement: str, done: list[dict[str, Any]]) -> None:
        super().__init__(error.message)
        self.error = error
        self.statement = statement
        self.entities = [e for e in done if e]
