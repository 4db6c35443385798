"""Logical schemas: the columns of a stream, a table or a query step.

A column lives in one namespace: the record KEY (key columns, in order, form the Kafka key), the
record VALUE, or the record HEADERS (`HEADERS` = all headers as ARRAY<STRUCT<KEY STRING, VALUE BYTES>>,
`HEADER('k')` = one header's BYTES). Pseudo-columns are not stored in the schema but exist in every
query over a source: ROWTIME (BIGINT, the record timestamp), ROWPARTITION (INT), ROWOFFSET (BIGINT),
and for windowed sources WINDOWSTART and WINDOWEND (BIGINT).

`str(schema)` is ksqlDB's schema string: "`ID` STRING KEY, `NAME` STRING".
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from odradek.sql import types as t
from odradek.sql.types import SqlType, quote_identifier


class Namespace(enum.Enum):
    KEY = "KEY"
    VALUE = "VALUE"
    HEADERS = "HEADERS"


@dataclass(frozen=True)
class Column:
    name: str
    type: SqlType
    namespace: Namespace = Namespace.VALUE
    header_key: str | None = None  # HEADER('k'); None with HEADERS = all headers

    def __str__(self) -> str:
        suffix = ""
        if self.namespace is Namespace.KEY:
            suffix = " KEY"
        elif self.namespace is Namespace.HEADERS:
            suffix = f" HEADER('{self.header_key}')" if self.header_key is not None else " HEADERS"
        return f"{quote_identifier(self.name)} {self.type}{suffix}"


ROWTIME = "ROWTIME"
ROWPARTITION = "ROWPARTITION"
ROWOFFSET = "ROWOFFSET"
WINDOWSTART = "WINDOWSTART"
WINDOWEND = "WINDOWEND"

PSEUDO_COLUMNS = {ROWTIME: t.BIGINT, ROWPARTITION: t.INTEGER, ROWOFFSET: t.BIGINT}
WINDOW_COLUMNS = {WINDOWSTART: t.BIGINT, WINDOWEND: t.BIGINT}
RESERVED_NAMES = frozenset({*PSEUDO_COLUMNS, *WINDOW_COLUMNS})

HEADERS_TYPE = t.array(t.struct([("KEY", t.STRING), ("VALUE", t.BYTES)]))


@dataclass(frozen=True)
class LogicalSchema:
    columns: tuple[Column, ...]

    @staticmethod
    def of(columns: Iterable[Column]) -> LogicalSchema:
        return LogicalSchema(tuple(columns))

    @property
    def key(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.namespace is Namespace.KEY)

    @property
    def value(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.namespace is Namespace.VALUE)

    @property
    def headers(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.namespace is Namespace.HEADERS)

    def find(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __str__(self) -> str:
        return ", ".join(str(c) for c in self.columns)
