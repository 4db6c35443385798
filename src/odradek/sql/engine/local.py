"""Statements answered at once, on this server: SHOW/LIST, DESCRIBE, EXPLAIN, SET/UNSET,
DEFINE/UNDEFINE, ASSERT, RELOAD FUNCTIONS (each `(engine, statement, session, kafka) -> entity`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from odradek.sql.engine import entities
from odradek.sql.errors import ASSERTION_FAILED, KsqlAnalysisError, KsqlExecutionError, KsqlNotFoundError
from odradek.sql.functions.registry import FunctionKind
from odradek.sql.functions.signature import describe as describe_signature
from odradek.sql.metastore import DataSource
from odradek.sql.parser import ast
from odradek.sql.plan.analyzer import PositionMap
from odradek.sql.plan.logical import SinkNode
from odradek.sql.plan.logical import explain as explain_plan
from odradek.sql.plan.planner import QueryPlanner

if TYPE_CHECKING:
    from odradek.sql.engine.engine import Engine, KafkaView, Session

Entity = dict[str, Any]


def show(engine: Engine, stmt: ast.Show, session: Session, kafka: KafkaView) -> Entity:
    what = stmt.what
    ms = engine.metastore
    if what in (ast.ShowKind.STREAMS, ast.ShowKind.TABLES):
        kind = ast.SourceKind.STREAM if what is ast.ShowKind.STREAMS else ast.SourceKind.TABLE
        sources = sorted((s for s in ms.sources.values() if s.kind is kind), key=lambda s: s.name)
        if stmt.extended:
            return {
                "@type": "source_descriptions",
                "statementText": stmt.text,
                "warnings": [],
                "sourceDescriptions": [
                    describe_entity(engine, s, True, stmt.text)["sourceDescription"] for s in sources
                ],
            }
        return entities.source_list(stmt.text, what.value.lower(), sources)
    if what is ast.ShowKind.QUERIES:
        return {
            "@type": "queries",
            "statementText": stmt.text,
            "warnings": [],
            "queries": [entities.query_summary(q, ms.source(q.sink)) for q in ms.queries.values()],
        }
    if what is ast.ShowKind.TOPICS:
        topics = [(n, p, r) for n, p, r in kafka.topics() if stmt.all_topics or not n.startswith("_")]
        return {
            "@type": "kafka_topics",
            "statementText": stmt.text,
            "warnings": [],
            "topics": [{"name": n, "replicaInfo": [r] * p} for n, p, r in topics],
        }
    if what is ast.ShowKind.PROPERTIES:
        props = [
            {"name": k, "scope": "KSQL", "value": str(v)}
            for k, v in sorted({**engine.config, **session.properties}.items())
        ]
        return {
            "@type": "properties",
            "statementText": stmt.text,
            "warnings": [],
            "properties": props,
            "overwrittenProperties": sorted(session.properties),
            "defaultProperties": [],
        }
    if what is ast.ShowKind.TYPES:
        return {
            "@type": "type_list",
            "statementText": stmt.text,
            "warnings": [],
            "types": {n: entities.schema_info(ty) for n, ty in sorted(ms.types.items())},
        }
    if what is ast.ShowKind.FUNCTIONS:
        funcs = [
            {
                "name": f.name,
                "type": f.kind.value,
                "category": "USER-DEFINED" if f.source != "builtin" else _category(f.name, f.kind),
            }
            for f in sorted(engine.functions.functions.values(), key=lambda f: f.name)
        ]
        return {"@type": "function_names", "statementText": stmt.text, "warnings": [], "functions": funcs}
    if what is ast.ShowKind.VARIABLES:
        return {
            "@type": "variables",
            "statementText": stmt.text,
            "warnings": [],
            "variables": [{"name": k, "value": v} for k, v in sorted(session.variables.items())],
        }
    return {
        "@type": "connector_list",
        "statementText": stmt.text,
        "warnings": [{"message": "Connectors are managed by the Connect service (port 8083)."}],
        "connectors": [],
    }


def describe_entity(engine: Engine, source: DataSource, extended: bool, text: str) -> Entity:
    ms = engine.metastore
    reads = [
        entities.query_summary(q, ms.source(q.sink)) for q in ms.queries.values() if source.name in q.sources
    ]
    writes = [
        entities.query_summary(q, ms.source(q.sink)) for q in ms.queries.values() if q.sink == source.name
    ]
    return entities.source_description(text, source, extended, reads, writes)


def describe(engine: Engine, stmt: ast.Describe, session: Session, kafka: KafkaView) -> Entity:
    source = engine.metastore.source(stmt.name)
    if source is None:
        raise KsqlNotFoundError(
            f"Could not find STREAM/TABLE '{stmt.name}' in the Metastore", position=stmt.position
        )
    return describe_entity(engine, source, stmt.extended, stmt.text)


def describe_sources(engine: Engine, stmt: ast.DescribeSources, session: Session, kafka: KafkaView) -> Entity:
    sources = sorted(
        (s for s in engine.metastore.sources.values() if s.kind is stmt.kind), key=lambda s: s.name
    )
    return {
        "@type": "source_descriptions",
        "statementText": stmt.text,
        "warnings": [],
        "sourceDescriptions": [
            describe_entity(engine, s, stmt.extended, stmt.text)["sourceDescription"] for s in sources
        ],
    }


def describe_function(
    engine: Engine, stmt: ast.DescribeFunction, session: Session, kafka: KafkaView
) -> Entity:
    entry = engine.functions.get(stmt.name)
    if entry is None:
        raise KsqlNotFoundError(
            f"Can't find any functions with the name '{stmt.name}'", position=stmt.position
        )
    variants = []
    for o in entry.overloads:
        d = describe_signature(o.signature)
        variants.append(
            {
                "arguments": [
                    {"name": f"arg{i}", "type": a, "description": "", "isVariadic": a.startswith("...")}
                    for i, a in enumerate(d["arguments"])
                ],
                "returnType": d["returnType"],
                "description": entry.description,
                "argumentTypes": d["arguments"],
            }
        )
    return {
        "@type": "describe_function",
        "statementText": stmt.text,
        "warnings": [],
        "name": entry.name,
        "description": entry.description,
        "author": entry.author,
        "version": entry.version,
        "path": entry.source if entry.source != "builtin" else "internal",
        "functions": variants,
        "type": entry.kind.value,
    }


def explain(engine: Engine, stmt: ast.Explain, session: Session, kafka: KafkaView) -> Entity:
    from odradek.sql.engine.engine import Engine, PersistentQueryPlan

    if stmt.query_id is not None:
        qid = engine.query_id(stmt.query_id, stmt)
        plan = engine.plans[qid]
        meta = engine.metastore.queries[qid]
        topology = engine.topology_describer(plan) if engine.topology_describer else ""
        root = SinkNode(
            plan.sink.schema,
            plan.sink.is_table,
            plan.sink.window,
            plan.planned.root,
            plan.sink,
            plan.insert,
        )
        return entities.query_description(
            stmt.text,
            qid,
            meta.statement,
            plan.sink.schema,
            list(meta.sources),
            [meta.sink],
            topology,
            explain_plan(root),
            meta.state.value,
            window_type=plan.sink.window.kind.value if plan.sink.window else None,
            properties=plan.properties,
        )
    inner = stmt.statement
    if isinstance(inner, ast.Query):
        planner = QueryPlanner(engine.metastore, engine.functions, PositionMap(stmt.text, stmt.position))
        planned = planner.plan(inner, persistent=False, pull=inner.emit is None)
        kind = "PUSH" if inner.emit is not None else "PULL"
        topology = ""
        if engine.topology_describer is not None and inner.emit is not None:
            sink = replace(planned.sources[0], name="TRANSIENT", topic="(client)", schema=planned.schema)
            topology = engine.topology_describer(
                PersistentQueryPlan("transient", inner.text, planned, sink, False, {})
            )
        return entities.query_description(
            stmt.text,
            "",
            inner.text,
            planned.schema,
            [s.name for s in planned.sources],
            [],
            topology,
            explain_plan(planned.root),
            "",
            query_type=kind,
        )
    if isinstance(inner, ast.CreateAsSelect | ast.InsertInto):
        scratch = Engine(engine.functions, engine.config, engine.metastore.copy())
        command = scratch.prepare(inner, session, kafka)
        _, inner_qid, _ = scratch.apply(command, -1, inner)
        assert inner_qid is not None
        plan = scratch.plans[inner_qid]
        topology = engine.topology_describer(plan) if engine.topology_describer else ""
        root = SinkNode(
            plan.sink.schema,
            plan.sink.is_table,
            plan.sink.window,
            plan.planned.root,
            plan.sink,
            plan.insert,
        )
        return entities.query_description(
            stmt.text,
            inner_qid,
            inner.text,
            plan.sink.schema,
            [s.name for s in plan.planned.sources],
            [plan.sink.name],
            topology,
            explain_plan(root),
            "",
            window_type=plan.sink.window.kind.value if plan.sink.window else None,
        )
    raise KsqlAnalysisError(
        "EXPLAIN takes a query id, a SELECT, a CREATE ... AS SELECT or an INSERT INTO ... SELECT",
        position=stmt.position,
    )


def set(engine: Engine, stmt: ast.SetProperty, session: Session, kafka: KafkaView) -> Entity:
    session.properties[stmt.name] = stmt.value
    return {
        "@type": "warning_entity",
        "statementText": stmt.text,
        "warnings": [],
        "message": f"Successfully changed local property '{stmt.name}' to '{stmt.value}'.",
    }


def unset(engine: Engine, stmt: ast.UnsetProperty, session: Session, kafka: KafkaView) -> Entity:
    session.properties.pop(stmt.name, None)
    return {
        "@type": "warning_entity",
        "statementText": stmt.text,
        "warnings": [],
        "message": f"Successfully unset local property '{stmt.name}'.",
    }


def define(engine: Engine, stmt: ast.DefineVariable, session: Session, kafka: KafkaView) -> Entity:
    session.variables[stmt.name] = stmt.value
    return {
        "@type": "warning_entity",
        "statementText": stmt.text,
        "warnings": [],
        "message": f"Defined variable {stmt.name}.",
    }


def undefine(engine: Engine, stmt: ast.UndefineVariable, session: Session, kafka: KafkaView) -> Entity:
    if session.variables.pop(stmt.name, None) is None:
        return {
            "@type": "warning_entity",
            "statementText": stmt.text,
            "warnings": [{"message": f"Cannot undefine variable '{stmt.name}' which was never defined"}],
            "message": "",
        }
    return {
        "@type": "warning_entity",
        "statementText": stmt.text,
        "warnings": [],
        "message": f"Undefined variable {stmt.name}.",
    }


def assert_topic(engine: Engine, stmt: ast.AssertTopic, session: Session, kafka: KafkaView) -> Entity:
    partitions = kafka.partitions(stmt.topic)
    exists = partitions is not None
    if exists != stmt.exists:
        raise KsqlExecutionError(
            f"Topic {stmt.topic} {'does not exist' if stmt.exists else 'exists'}",
            position=stmt.position,
            error_code=ASSERTION_FAILED,
        )
    want = stmt.properties.get("PARTITIONS")
    if exists and want is not None and want != partitions:
        raise KsqlExecutionError(
            f"Mismatched configuration for topic {stmt.topic}: For config partitions, expected {want} got {partitions}",
            position=stmt.position,
            error_code=ASSERTION_FAILED,
        )
    return {
        "@type": "assert_topic",
        "statementText": stmt.text,
        "warnings": [],
        "topicName": stmt.topic,
        "exists": stmt.exists,
    }


def assert_schema(engine: Engine, stmt: ast.AssertSchema, session: Session, kafka: KafkaView) -> Entity:
    checker = getattr(kafka, "schema_exists", None)
    if checker is None:
        raise KsqlExecutionError(
            "ASSERT SCHEMA needs a schema registry (ksql.schema.registry.url)", position=stmt.position
        )
    timeout_ms = stmt.timeout_ms
    if timeout_ms is None:
        timeout_ms = int(engine.config.get("ksql.assert.schema.default.timeout.ms", "1000"))
    exists = bool(checker(stmt.subject, stmt.schema_id, timeout_ms, stmt.exists))
    if exists != stmt.exists:
        what = " ".join(
            part
            for part in (
                f"subject name {stmt.subject}" if stmt.subject else "",
                f"id {stmt.schema_id}" if stmt.schema_id is not None else "",
            )
            if part
        )
        raise KsqlExecutionError(
            f"Schema with {what} {'does not exist' if stmt.exists else 'exists'}",
            position=stmt.position,
            error_code=ASSERTION_FAILED,
        )
    return {
        "@type": "assert_schema",
        "statementText": stmt.text,
        "warnings": [],
        "subject": stmt.subject,
        "id": stmt.schema_id,
        "exists": stmt.exists,
    }


def reload(engine: Engine, stmt: ast.ReloadFunctions, session: Session, kafka: KafkaView) -> Entity:
    names = engine.functions.reload()
    return {
        "@type": "warning_entity",
        "statementText": stmt.text,
        "warnings": [],
        "message": f"Reloaded {len(names)} user-defined function(s): {', '.join(sorted(names))}",
    }


def run_script(engine: Engine, stmt: ast.RunScript, session: Session, kafka: KafkaView) -> Entity:
    raise KsqlAnalysisError(
        "RUN SCRIPT runs in the CLI (odradek sql -f FILE), not on the server", position=stmt.position
    )


def _category(name: str, kind: FunctionKind) -> str:
    if kind is FunctionKind.AGGREGATE:
        return "AGGREGATE"
    if kind is FunctionKind.TABLE:
        return "TABLE"
    from odradek.sql.functions.builtins import collections, encoding, numeric, strings, temporal

    for module, label in (
        (strings, "STRING"),
        (numeric, "MATHEMATICAL"),
        (collections, "ARRAY"),
        (temporal, "DATE / TIME"),
        (encoding, "JSON"),
    ):
        if any(d[0] == name for d in module.FUNCTIONS.defs):
            return label
    return "OTHER"


LOCAL: dict[type, Callable[[Engine, Any, Session, KafkaView], Entity]] = {
    ast.Show: show,
    ast.Describe: describe,
    ast.DescribeSources: describe_sources,
    ast.DescribeFunction: describe_function,
    ast.Explain: explain,
    ast.SetProperty: set,
    ast.UnsetProperty: unset,
    ast.DefineVariable: define,
    ast.UndefineVariable: undefine,
    ast.AssertTopic: assert_topic,
    ast.AssertSchema: assert_schema,
    ast.ReloadFunctions: reload,
    ast.RunScript: run_script,
}
