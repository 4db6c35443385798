"""ksqlDB's REST entities: the JSON objects `/ksql` answers with, one per statement.

Each has `"@type"`, `"statementText"` and `"warnings"`; the shapes follow ksqlDB's documented
responses (`currentStatus`, `streams`, `tables`, `queries`, `properties`, `kafka_topics`,
`sourceDescription`, `queryDescription`, `function_names`, `describe_function`, `type_list`,
`variables`, `assert_topic`, `assert_schema`) so the ksql CLI and existing clients read them.
"""

from __future__ import annotations

from typing import Any

from odradek.sql.metastore import DataSource, QueryMetadata
from odradek.sql.schema import Column, LogicalSchema, Namespace
from odradek.sql.types import BaseType, SqlType

Entity = dict[str, Any]


def _base(kind: str, statement: str) -> Entity:
    return {"@type": kind, "statementText": statement, "warnings": []}


def current_status(
    statement: str,
    command_id: str,
    message: str,
    sequence: int,
    query_id: str | None = None,
    status: str = "SUCCESS",
) -> Entity:
    e = _base("currentStatus", statement)
    e.update(
        commandId=command_id,
        commandStatus={"status": status, "message": message, "queryId": query_id},
        commandSequenceNumber=sequence,
    )
    return e


def schema_info(t: SqlType) -> dict[str, Any]:
    """ksqlDB's SchemaInfo: {"type", "fields", "memberSchema"} (+ parameters for DECIMAL)."""
    info: dict[str, Any] = {
        "type": t.base.value if t.base is not BaseType.NULL else "STRING",
        "fields": None,
        "memberSchema": None,
    }
    if t.base is BaseType.DECIMAL:
        info["parameters"] = {"precision": t.precision, "scale": t.scale}
    elif (t.base is BaseType.ARRAY and t.element is not None) or (
        t.base is BaseType.MAP and t.element is not None
    ):
        info["memberSchema"] = schema_info(t.element)
    elif t.base is BaseType.STRUCT:
        info["fields"] = [{"name": n, "schema": schema_info(ft)} for n, ft in t.fields]
    return info


def field_info(c: Column) -> dict[str, Any]:
    out: dict[str, Any] = {"name": c.name, "schema": schema_info(c.type)}
    if c.namespace is Namespace.KEY:
        out["type"] = "KEY"
    elif c.namespace is Namespace.HEADERS:
        out["type"] = "HEADER"
        if c.header_key is not None:
            out["headerKey"] = c.header_key
    return out


def fields_of(schema: LogicalSchema, include_rowtime: bool = False) -> list[dict[str, Any]]:
    cols = list(schema.columns)
    return [field_info(c) for c in cols]


def source_summary(s: DataSource) -> dict[str, Any]:
    return {
        "type": s.kind.value,
        "name": s.name,
        "topic": s.topic,
        "keyFormat": s.formats.key_format,
        "valueFormat": s.formats.value_format,
        "isWindowed": s.is_windowed,
    }


def source_list(statement: str, kind: str, sources: list[DataSource]) -> Entity:
    e = _base(kind, statement)
    e[kind] = [source_summary(s) for s in sources]
    return e


def query_summary(q: QueryMetadata, sink: DataSource | None) -> dict[str, Any]:
    return {
        "queryString": q.statement,
        "sinks": [q.sink] if q.sink else [],
        "sinkKafkaTopics": [sink.topic] if sink else [],
        "id": q.query_id,
        "statusCount": {q.state.value: 1},
        "queryType": q.kind,
        "state": q.state.value,
    }


def source_description(
    statement: str,
    s: DataSource,
    extended: bool,
    read_queries: list[dict[str, Any]],
    write_queries: list[dict[str, Any]],
    statistics: str = "",
) -> Entity:
    e = _base("sourceDescription", statement)
    e["sourceDescription"] = {
        "name": s.name,
        "windowType": s.window.kind.value if s.window else None,
        "readQueries": read_queries,
        "writeQueries": write_queries,
        "fields": fields_of(s.schema),
        "type": s.kind.value,
        "timestamp": s.timestamp_column or "",
        "statistics": statistics if extended else "",
        "errorStats": "",
        "extended": extended,
        "keyFormat": s.formats.key_format,
        "valueFormat": s.formats.value_format,
        "topic": s.topic,
        "partitions": s.partitions or 0,
        "replication": s.replicas or 1,
        "statement": s.statement,
        "queryOffsetSummaries": [],
        "sourceConstraints": [],
        "clusterStatistics": [],
        "clusterErrorStats": [],
    }
    return e


def query_description(
    statement: str,
    query_id: str,
    query_text: str,
    schema: LogicalSchema,
    sources: list[str],
    sinks: list[str],
    topology: str,
    execution_plan: str,
    state: str,
    query_type: str = "PERSISTENT",
    window_type: str | None = None,
    properties: dict[str, Any] | None = None,
) -> Entity:
    e = _base("queryDescription", statement)
    e["queryDescription"] = {
        "id": query_id,
        "statementText": query_text,
        "windowType": window_type,
        "fields": fields_of(schema),
        "sources": sources,
        "sinks": sinks,
        "topology": topology,
        "executionPlan": execution_plan,
        "overriddenProperties": properties or {},
        "ksqlHostQueryStatus": {},
        "queryType": query_type,
        "queryErrors": [],
        "tasksMetadata": [],
        "state": state,
    }
    return e


def error_entity(
    error_code: int, message: str, statement: str | None = None, entities: list[Entity] | None = None
) -> Entity:
    """The error body: statement_error when a statement failed, generic_error otherwise."""
    if statement is None:
        return {"@type": "generic_error", "error_code": error_code, "message": message}
    return {
        "@type": "statement_error",
        "error_code": error_code,
        "message": message,
        "statementText": statement,
        "entities": entities or [],
    }
