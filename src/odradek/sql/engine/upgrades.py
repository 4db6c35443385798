"""CREATE OR REPLACE: which changes to a source or a persistent query are compatible.

Allowed: new value columns at the end; changed filters and projections. Refused, with each
incompatibility named: removed, reordered or retyped columns, changed keys, topics, formats,
sources, windows, or the shape of the computation (joins, aggregations).
"""

from __future__ import annotations

from typing import Any

from odradek.sql.errors import KsqlExecutionError
from odradek.sql.metastore import DataSource
from odradek.sql.plan.planner import PlannedQuery
from odradek.sql.schema import LogicalSchema


def check_replace_source(old: DataSource, new: DataSource) -> None:
    """CREATE OR REPLACE STREAM/TABLE: only new value columns at the end; nothing else may change."""
    problems = []
    if old.kind is not new.kind:
        problems.append(f"a {old.kind.value} cannot become a {new.kind.value}")
    if old.topic != new.topic:
        problems.append(f"the topic changed from {old.topic} to {new.topic}")
    if (
        old.formats.key_format != new.formats.key_format
        or old.formats.value_format != new.formats.value_format
    ):
        problems.append("the key or value format changed")
    problems += _schema_problems(old.schema, new.schema)
    if problems:
        raise KsqlExecutionError(
            f"Cannot upgrade data source: DataSource '{old.name}' has an incompatible change: {'; '.join(problems)}."
        )


def _schema_problems(old: LogicalSchema, new: LogicalSchema) -> list[str]:
    problems = []
    if [(c.name, c.type) for c in old.key] != [(c.name, c.type) for c in new.key]:
        problems.append(
            f"the key columns changed from [{', '.join(str(c) for c in old.key)}] to [{', '.join(str(c) for c in new.key)}]"
        )
    old_values, new_values = old.value, new.value
    for i, c in enumerate(old_values):
        if i >= len(new_values):
            problems.append(f"column `{c.name}` was removed")
        elif new_values[i].name != c.name:
            problems.append(
                f"column `{c.name}` was removed or reordered (found `{new_values[i].name}` in its place)"
            )
        elif new_values[i].type != c.type:
            problems.append(f"column `{c.name}` changed type from {c.type} to {new_values[i].type}")
    return problems


def check_replace_query(
    old_source: DataSource, new_sink: DataSource, old: PlannedQuery | None, new: PlannedQuery
) -> None:
    """CREATE OR REPLACE ... AS SELECT: same sources and shape of computation, value columns appended only."""
    problems = _schema_problems(old_source.schema, new_sink.schema)
    if old_source.kind is not new_sink.kind:
        problems.append(f"a {old_source.kind.value} cannot become a {new_sink.kind.value}")
    if old_source.topic != new_sink.topic:
        problems.append(f"the sink topic changed from {old_source.topic} to {new_sink.topic}")
    if old is not None:
        if [s.name for s in old.sources] != [s.name for s in new.sources]:
            problems.append(
                f"the sources changed from {[s.name for s in old.sources]} to {[s.name for s in new.sources]}"
            )
        if _shape(old.root) != _shape(new.root):
            problems.append(
                f"the query's structure changed ({' -> '.join(_shape(old.root))} became {' -> '.join(_shape(new.root))}); only filters and projections may change"
            )
        if old.window != new.window:
            problems.append("the window changed")
    if problems:
        raise KsqlExecutionError(
            f"Cannot upgrade data source: DataSource '{old_source.name}' has an incompatible change: {'; '.join(problems)}."
        )


def _shape(node: Any) -> list[str]:
    from odradek.sql.plan.logical import FilterNode

    out = []
    stack = [node]
    while stack:
        n = stack.pop()
        if not isinstance(n, FilterNode) or n.clause == "HAVING":
            out.append(n.label())
        stack.extend(n.inputs())
    return [s for s in out if s not in ("PROJECT",)]
