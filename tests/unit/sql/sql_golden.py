"""The golden corpus runner: ksqlDB statements -> their parse, plan, entity or error, as text.

Each `corpus/*.sql` file holds cases separated by `--@ name` lines; every case runs on a fresh
engine seeded with `corpus/setup.sql` and prints, per statement, what the engine made of it:

    > STATEMENT TEXT
    ast: <statement type and its fields>         every statement that parses
    plan: <the logical plan, EXPLAIN's tree>      SELECT / CREATE ... AS SELECT / INSERT INTO ... SELECT
    command: <command id> => <status message>     distributed statements
    entity: <@type> <the interesting fields>      SHOW, DESCRIBE, EXPLAIN, ...
    error: <line:col> <message>                   when it fails (syntax, analysis, execution)

`corpus/<file>.expected` is compared with the output; run with ODRADEK_SQL_GOLDEN=update to rewrite it
(and review the diff).
"""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from sqlglot import exp

from odradek.sql.engine.engine import Engine, NoKafka, Session
from odradek.sql.errors import KsqlError
from odradek.sql.functions import builtin_registry
from odradek.sql.parser import ast
from odradek.sql.parser.dialect import Ksql
from odradek.sql.plan.logical import SinkNode, explain

CORPUS = Path(__file__).parent / "corpus"

TOPICS = {
    "pageviews": 2,
    "users": 2,
    "orders": 2,
    "payments": 2,
    "shipments": 2,
    "products": 2,
    "clicks": 2,
    "customers": 2,
    "readings": 1,
    "three": 3,
    "existing": 4,
}


def split_cases(text: str) -> list[tuple[str, str]]:
    cases: list[tuple[str, str]] = []
    name, lines = None, []
    for line in text.splitlines():
        if line.startswith("--@"):
            if name is not None:
                cases.append((name, "\n".join(lines).strip()))
            name, lines = line[3:].strip(), []
        else:
            lines.append(line)
    if name is not None:
        cases.append((name, "\n".join(lines).strip()))
    return cases


_SEEDED: list[Engine] = []


def fresh_engine() -> tuple[Engine, Session, NoKafka]:
    if not _SEEDED:
        _SEEDED.append(_seed())
    seeded = _SEEDED[0]
    engine = Engine(seeded.functions, seeded.config, seeded.metastore.copy())
    engine.plans = dict(seeded.plans)
    return engine, Session(), NoKafka(dict(TOPICS))


def _seed() -> Engine:
    engine = Engine(builtin_registry())
    kafka = NoKafka(dict(TOPICS))
    session = Session()
    for stmt in engine.parse((CORPUS / "setup.sql").read_text(), session):
        out = engine.execute(stmt, session, kafka)
        assert out.command is not None
        engine.apply(out.command, 0)
    return engine


def describe_ast(node: Any) -> str:
    if isinstance(node, exp.Expr):
        return node.sql(dialect=Ksql)
    if isinstance(node, tuple | list):
        return "[" + ", ".join(describe_ast(x) for x in node) + "]"
    if isinstance(node, dict):
        return "{" + ", ".join(f"{k}={describe_ast(v)}" for k, v in node.items()) + "}"
    if hasattr(node, "value") and hasattr(node, "name") and type(node).__module__.endswith("ast"):
        return str(node.value)
    if is_dataclass(node) and not isinstance(node, type):
        parts = []
        for f in fields(node):
            if f.name in ("text", "position"):
                continue
            value = getattr(node, f.name)
            if value in (None, (), {}, False) and f.name not in ("kind",):
                continue
            parts.append(f"{f.name}={describe_ast(value)}")
        return f"{type(node).__name__}({', '.join(parts)})"
    return repr(node)


_ENTITY_KEYS = (
    "message",
    "streams",
    "tables",
    "queries",
    "functions",
    "types",
    "variables",
    "topicName",
    "exists",
    "subject",
    "topics",
)


def describe_entity(entity: dict[str, Any]) -> str:
    kind = entity.get("@type")
    if kind == "sourceDescription":
        d = entity["sourceDescription"]
        fields_ = ", ".join(
            f"{f['name']} {f['schema']['type']}{' ' + f['type'] if 'type' in f else ''}" for f in d["fields"]
        )
        return f"sourceDescription {d['name']} {d['type']} topic={d['topic']} key={d['keyFormat']} value={d['valueFormat']} window={d['windowType']} fields=[{fields_}] reads={[q['id'] for q in d['readQueries']]} writes={[q['id'] for q in d['writeQueries']]}"
    if kind == "queryDescription":
        d = entity["queryDescription"]
        return (
            f"queryDescription id={d['id']} type={d['queryType']} sources={d['sources']} sinks={d['sinks']}\n"
            + d["executionPlan"]
        )
    if kind == "function_names":
        return f"function_names count={len(entity['functions'])} sample={[f['name'] for f in entity['functions'][:5]]}"
    if kind == "describe_function":
        return f"describe_function {entity['name']} {entity['type']} variants={[(v['argumentTypes'], v['returnType']) for v in entity['functions']]}"
    if kind == "properties":
        return f"properties count={len(entity['properties'])} overwritten={entity['overwrittenProperties']}"
    shown = {k: entity[k] for k in _ENTITY_KEYS if k in entity}
    return f"{kind} {json.dumps(shown, sort_keys=True)}"


def run_case(engine: Engine, session: Session, kafka: NoKafka, text: str) -> list[str]:
    out: list[str] = []
    try:
        statements = engine.parse(text, Session(variables=dict(session.variables)))
    except KsqlError as e:
        return [f"> {text}", f"error: {e}"]
    for stmt in statements:
        out.append(f"> {stmt.text}")
        out.append(f"ast: {describe_ast(stmt)}")
        try:
            if isinstance(stmt, ast.Query):
                planned = engine.plan_query(stmt)
                out.append("plan:\n" + explain(planned.root))
                continue
            if isinstance(stmt, ast.Print):
                out.append(f"print: topic={stmt.topic}")
                continue
            result = engine.execute(stmt, session, kafka)
            if result.command is not None:
                message, query_id, _ = engine.apply(result.command, 0)
                out.append(f"command: {result.command.command_id} => {message}")
                if query_id is not None:
                    plan = engine.plans[query_id]
                    root = SinkNode(
                        plan.sink.schema,
                        plan.sink.is_table,
                        plan.sink.window,
                        plan.planned.root,
                        plan.sink,
                        plan.insert,
                    )
                    out.append("plan:\n" + explain(root))
            elif result.insert is not None:
                target, keys, values, rowtime = result.insert
                out.append(f"insert: {target.name} key={keys} value={values} rowtime={rowtime}")
            elif result.entity is not None:
                out.append("entity: " + describe_entity(result.entity))
        except KsqlError as e:
            out.append(f"error: {e}")
    return out


def run_file(path: Path) -> str:
    chunks = []
    for name, text in split_cases(path.read_text()):
        engine, session, kafka = fresh_engine()
        chunks.append(f"== {name}\n" + "\n".join(run_case(engine, session, kafka, text)))
    return "\n\n".join(chunks) + "\n"


def count_statements() -> int:
    from odradek.sql.parser import split_statements

    return sum(
        len(split_statements(text))
        for p in CORPUS.glob("*.sql")
        if p.name != "setup.sql"
        for _, text in split_cases(p.read_text())
    )
