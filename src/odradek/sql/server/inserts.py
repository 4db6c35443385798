"""Rows of `/inserts-stream` (JSON objects) -> typed SQL rows of the target source."""

from __future__ import annotations

from typing import Any

from odradek.sql.compiler.serdes import from_json
from odradek.sql.errors import BAD_REQUEST, KsqlError
from odradek.sql.metastore import DataSource
from odradek.sql.schema import Namespace


def coerce_row(source: DataSource, obj: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
    """The row {column: value} and ROWTIME (if given); names match case-insensitively, as ksqlDB."""
    by_upper = {k.upper(): v for k, v in obj.items()}
    row: dict[str, Any] = {}
    for col in source.schema.columns:
        if col.namespace is Namespace.HEADERS:
            continue
        raw = obj.get(col.name, by_upper.get(col.name.upper()))
        if raw is None:
            row[col.name] = None
            continue
        try:
            row[col.name] = from_json(col.type)(raw)
        except (ValueError, TypeError) as e:
            raise KsqlError(
                f"Can't coerce a field of type {type(raw).__name__} ({raw!r}) into type {col.type} for {col.name}: {e}",
                error_code=BAD_REQUEST,
            ) from None
    known = {c.name.upper() for c in source.schema.columns} | {"ROWTIME"}
    unknown = [k for k in obj if k.upper() not in known]
    if unknown:
        raise KsqlError(
            f"Key field(s) or value field(s) not in {source.name}: {', '.join(unknown)}",
            error_code=BAD_REQUEST,
        )
    if source.is_table and any(row.get(c.name) is None for c in source.schema.key):
        raise KsqlError(
            f"Value for primary key column(s) {', '.join(c.name for c in source.schema.key)} is required for tables",
            error_code=BAD_REQUEST,
        )
    rowtime = by_upper.get("ROWTIME")
    return row, int(rowtime) if rowtime is not None else None
