"""Typed expressions: the analyzer's output, the code generator's input.

Every node carries its SQL type. Column references name a column of the step's input schema (a
KEY, VALUE or HEADERS column) or a pseudo-column (ROWTIME, ROWPARTITION, ROWOFFSET, WINDOWSTART,
WINDOWEND). `str(e)` prints ksqlDB-style SQL, which EXPLAIN and error messages show.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from odradek.sql.functions.registry import Resolved
from odradek.sql.schema import Namespace
from odradek.sql.types import BaseType, SqlType, quote_identifier


@dataclass(frozen=True, eq=False)
class Expr:
    type: SqlType

    def children(self) -> tuple[Expr, ...]:
        return ()

    def walk(self) -> Iterator[Expr]:
        yield self
        for c in self.children():
            yield from c.walk()


@dataclass(frozen=True, eq=False)
class ColumnRef(Expr):
    name: str  # the column's name in the step's input schema
    namespace: Namespace | None = None  # None = pseudo-column
    qualifier: str | None = None  # the source alias, for printing
    label: str | None = None  # the name the user wrote, when it differs (joins: X for A_X)

    @property
    def user_name(self) -> str:
        return self.label or self.name

    def __str__(self) -> str:
        shown = quote_identifier(self.user_name)
        return f"{self.qualifier}.{shown}" if self.qualifier else shown


@dataclass(frozen=True, eq=False)
class LambdaVar(Expr):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, eq=False)
class Literal(Expr):
    value: Any

    def __str__(self) -> str:
        v = self.value
        if v is None:
            return "null"
        if isinstance(v, bool):
            return "true" if v else "false"
        if self.type.base is BaseType.STRING:
            return "'" + str(v).replace("'", "''") + "'"
        return str(v)


@dataclass(frozen=True, eq=False)
class Call(Expr):
    name: str
    args: tuple[Expr, ...]
    resolved: Resolved | None = None

    def children(self) -> tuple[Expr, ...]:
        return self.args

    def __str__(self) -> str:
        return f"{self.name}({', '.join(str(a) for a in self.args)})"


@dataclass(frozen=True, eq=False)
class AggregateCall(Expr):
    """An aggregate in SELECT/HAVING; `args` are per-record column arguments, `literals` fixed ones."""

    name: str
    args: tuple[Expr, ...]
    literals: tuple[Any, ...]
    resolved: Resolved
    star: bool = False

    def children(self) -> tuple[Expr, ...]:
        return self.args

    def __str__(self) -> str:
        shown = ["*"] if self.star else [str(a) for a in self.args] + [repr(v) for v in self.literals]
        return f"{self.name}({', '.join(shown)})"


@dataclass(frozen=True, eq=False)
class TableFunctionCall(Expr):
    name: str
    args: tuple[Expr, ...]
    resolved: Resolved

    def children(self) -> tuple[Expr, ...]:
        return self.args

    def __str__(self) -> str:
        return f"{self.name}({', '.join(str(a) for a in self.args)})"


@dataclass(frozen=True, eq=False)
class Binary(Expr):
    """Arithmetic (+ - * / %), string concatenation (||), comparison (= <> < <= > >=), AND, OR."""

    op: str
    left: Expr
    right: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)

    def __str__(self) -> str:
        return f"({self.left} {self.op} {self.right})"


@dataclass(frozen=True, eq=False)
class Unary(Expr):
    """NOT, unary minus, IS NULL, IS NOT NULL."""

    op: str
    operand: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)

    def __str__(self) -> str:
        if self.op in ("IS NULL", "IS NOT NULL"):
            return f"({self.operand} {self.op})"
        return f"({self.op} {self.operand})" if self.op == "NOT" else f"(-{self.operand})"


@dataclass(frozen=True, eq=False)
class Like(Expr):
    operand: Expr
    pattern: Expr
    negated: bool = False
    escape: str | None = None

    def children(self) -> tuple[Expr, ...]:
        return (self.operand, self.pattern)

    def __str__(self) -> str:
        return f"({self.operand} {'NOT ' if self.negated else ''}LIKE {self.pattern})"


@dataclass(frozen=True, eq=False)
class InList(Expr):
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool = False

    def children(self) -> tuple[Expr, ...]:
        return (self.operand, *self.items)

    def __str__(self) -> str:
        return (
            f"({self.operand} {'NOT ' if self.negated else ''}IN ({', '.join(str(i) for i in self.items)}))"
        )


@dataclass(frozen=True, eq=False)
class Between(Expr):
    operand: Expr
    low: Expr
    high: Expr
    negated: bool = False

    def children(self) -> tuple[Expr, ...]:
        return (self.operand, self.low, self.high)

    def __str__(self) -> str:
        return f"({self.operand} {'NOT ' if self.negated else ''}BETWEEN {self.low} AND {self.high})"


@dataclass(frozen=True, eq=False)
class Case(Expr):
    whens: tuple[tuple[Expr, Expr], ...]
    default: Expr | None

    def children(self) -> tuple[Expr, ...]:
        out: list[Expr] = [e for pair in self.whens for e in pair]
        if self.default is not None:
            out.append(self.default)
        return tuple(out)

    def __str__(self) -> str:
        body = " ".join(f"WHEN {c} THEN {r}" for c, r in self.whens)
        tail = f" ELSE {self.default}" if self.default is not None else ""
        return f"(CASE {body}{tail} END)"


@dataclass(frozen=True, eq=False)
class Cast(Expr):
    operand: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)

    def __str__(self) -> str:
        return f"CAST({self.operand} AS {self.type})"


@dataclass(frozen=True, eq=False)
class Deref(Expr):
    operand: Expr
    field_name: str

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)

    def __str__(self) -> str:
        return f"{self.operand}->{quote_identifier(self.field_name)}"


@dataclass(frozen=True, eq=False)
class Subscript(Expr):
    operand: Expr
    index: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.operand, self.index)

    def __str__(self) -> str:
        return f"{self.operand}[{self.index}]"


@dataclass(frozen=True, eq=False)
class CreateArray(Expr):
    items: tuple[Expr, ...]

    def children(self) -> tuple[Expr, ...]:
        return self.items

    def __str__(self) -> str:
        return f"ARRAY[{', '.join(str(i) for i in self.items)}]"


@dataclass(frozen=True, eq=False)
class CreateMap(Expr):
    entries: tuple[tuple[Expr, Expr], ...]

    def children(self) -> tuple[Expr, ...]:
        return tuple(e for pair in self.entries for e in pair)

    def __str__(self) -> str:
        return f"MAP({', '.join(f'{k}:={v}' for k, v in self.entries)})"


@dataclass(frozen=True, eq=False)
class CreateStruct(Expr):
    fields: tuple[tuple[str, Expr], ...]

    def children(self) -> tuple[Expr, ...]:
        return tuple(e for _, e in self.fields)

    def __str__(self) -> str:
        return f"STRUCT({', '.join(f'{quote_identifier(n)}:={v}' for n, v in self.fields)})"


@dataclass(frozen=True, eq=False)
class Lambda(Expr):
    params: tuple[str, ...]
    body: Expr
    param_types: tuple[SqlType, ...] = field(default=())

    def children(self) -> tuple[Expr, ...]:
        return (self.body,)

    def __str__(self) -> str:
        head = self.params[0] if len(self.params) == 1 else f"({', '.join(self.params)})"
        return f"{head} => {self.body}"


def column_refs(e: Expr) -> list[ColumnRef]:
    return [n for n in e.walk() if isinstance(n, ColumnRef)]


def contains_aggregate(e: Expr) -> bool:
    return any(isinstance(n, AggregateCall) for n in e.walk())


def contains_table_function(e: Expr) -> bool:
    return any(isinstance(n, TableFunctionCall) for n in e.walk())
