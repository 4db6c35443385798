"""`@udf`, `@udaf`, `@udtf`: declaring functions in Python.

    from odradek.sql import udf, udaf, udtf

    @udf(description="the area of a circle")
    def circle_area(radius: float) -> float:          # signature from the annotations: DOUBLE -> DOUBLE
        return 3.14159 * radius * radius

    @udf(name="multiply", signature=["INT, INT -> INT", "DOUBLE, DOUBLE -> DOUBLE"])
    def multiply(a, b):
        return a * b

    @udaf(signature="BIGINT -> BIGINT")
    class my_sum:
        def initialize(self): return 0
        def aggregate(self, value, aggregate): return aggregate + value
        def merge(self, a, b): return a + b
        def map(self, aggregate): return aggregate
        def undo(self, value, aggregate): return aggregate - value     # optional: tables

    @udtf(signature="STRING -> STRING")
    def words(text):
        return text.split()

The decorators only mark the object; a `FunctionRegistry` picks marked objects up from a module
(`load_module`), an entry point (group `odradek.sql.functions`, value = the module) or a `.py` file in
an extension directory. Python annotations map to SQL types: int -> BIGINT, float -> DOUBLE,
str -> STRING, bool -> BOOLEAN, bytes -> BYTES, Decimal -> DECIMAL, date/time/datetime ->
DATE/TIME/TIMESTAMP, list[X] -> ARRAY<X>, dict[str, X] -> MAP<STRING, X>.
"""

from __future__ import annotations

import datetime
import decimal
import inspect
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from odradek.sql.functions.registry import FunctionKind, Overload
from odradek.sql.functions.signature import parse_signature

MARK = "__odradek_sql_function__"


@dataclass(frozen=True)
class Declaration:
    name: str
    kind: FunctionKind
    overloads: tuple[Overload, ...]
    description: str = ""
    author: str = ""
    version: str = ""


_PY_TYPES: dict[Any, str] = {
    int: "BIGINT",
    float: "DOUBLE",
    str: "STRING",
    bool: "BOOLEAN",
    bytes: "BYTES",
    decimal.Decimal: "DECIMAL",
    datetime.date: "DATE",
    datetime.time: "TIME",
    datetime.datetime: "TIMESTAMP",
}


def sql_type_of(annotation: Any) -> str:
    """The SQL type text for a Python annotation (raises TypeError when there is none)."""
    if annotation in _PY_TYPES:
        return _PY_TYPES[annotation]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list and args:
        return f"ARRAY<{sql_type_of(args[0])}>"
    if origin is dict and len(args) == 2:
        return f"MAP<{sql_type_of(args[0])}, {sql_type_of(args[1])}>"
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return sql_type_of(rest[0])
    raise TypeError(f"no SQL type for the annotation {annotation!r}: give signature=")


def _signature_from_annotations(
    fn: Callable[..., Any], skip_self: bool = False, element_return: bool = False
) -> str:
    hints = typing.get_type_hints(fn)
    params = list(inspect.signature(fn).parameters.values())
    if skip_self:
        params = params[1:]
    parts = []
    for p in params:
        if p.name not in hints:
            raise TypeError(f"{fn.__name__}: parameter {p.name} has no annotation; give signature=")
        prefix = "..." if p.kind is inspect.Parameter.VAR_POSITIONAL else ""
        parts.append(prefix + sql_type_of(hints[p.name]))
    if "return" not in hints:
        raise TypeError(f"{fn.__name__}: no return annotation; give signature=")
    ret = hints["return"]
    if element_return:
        args = typing.get_args(ret)
        if not args:
            raise TypeError(f"{fn.__name__}: a table function returns list[X] or Iterable[X]")
        ret = args[0]
    return f"{', '.join(parts)} -> {sql_type_of(ret)}"


def _signatures(signature: str | Iterable[str] | None, derive: Callable[[], str]) -> list[str]:
    if signature is None:
        return [derive()]
    if isinstance(signature, str):
        return [signature]
    return list(signature)


def udf(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    signature: str | Iterable[str] | None = None,
    description: str = "",
    null_propagating: bool = True,
    author: str = "",
    version: str = "",
) -> Any:
    """Declare a scalar function (see the module docstring)."""

    def mark(f: Callable[..., Any]) -> Callable[..., Any]:
        texts = _signatures(signature, lambda: _signature_from_annotations(f))
        overloads = tuple(
            Overload(parse_signature(s), f, null_propagating=null_propagating, user_defined=True)
            for s in texts
        )
        decl = Declaration(
            (name or f.__name__).upper(),
            FunctionKind.SCALAR,
            overloads,
            description or (f.__doc__ or "").strip(),
            author,
            version,
        )
        setattr(f, MARK, decl)
        return f

    return mark(fn) if fn is not None else mark


def udaf(
    cls: type | None = None,
    *,
    name: str | None = None,
    signature: str | Iterable[str] | None = None,
    description: str = "",
    literal_params: int = 0,
    author: str = "",
    version: str = "",
) -> Any:
    """Declare an aggregate function: a class with initialize/aggregate/merge/map[/undo]."""

    def mark(c: type) -> type:
        for method in ("initialize", "aggregate", "merge", "map"):
            if not callable(getattr(c, method, None)):
                raise TypeError(f"UDAF {c.__name__} needs a {method}() method")

        def derive() -> str:
            aggregate, mapper = getattr(c, "aggregate"), getattr(c, "map")  # noqa: B009
            hints = typing.get_type_hints(aggregate)
            value = next(iter(p for p in inspect.signature(aggregate).parameters if p != "self"))
            ret = typing.get_type_hints(mapper).get("return")
            if value not in hints or ret is None:
                raise TypeError(
                    f"UDAF {c.__name__}: annotate aggregate()'s value and map()'s return, or give signature="
                )
            return f"{sql_type_of(hints[value])} -> {sql_type_of(ret)}"

        texts = _signatures(signature, derive)

        def factory(_arg_types: list[Any], literals: list[Any], _c: type = c) -> Any:
            return _c(*literals)

        overloads = tuple(
            Overload(
                parse_signature(s),
                factory,
                null_propagating=False,
                literal_params=literal_params,
                user_defined=True,
            )
            for s in texts
        )
        decl = Declaration(
            (name or c.__name__).upper(),
            FunctionKind.AGGREGATE,
            overloads,
            description or (c.__doc__ or "").strip(),
            author,
            version,
        )
        setattr(c, MARK, decl)
        return c

    return mark(cls) if cls is not None else mark


def udtf(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    signature: str | Iterable[str] | None = None,
    description: str = "",
    author: str = "",
    version: str = "",
) -> Any:
    """Declare a table function: returns an iterable; each item becomes an output row."""

    def mark(f: Callable[..., Any]) -> Callable[..., Any]:
        texts = _signatures(signature, lambda: _signature_from_annotations(f, element_return=True))
        overloads = tuple(Overload(parse_signature(s), f, user_defined=True) for s in texts)
        decl = Declaration(
            (name or f.__name__).upper(),
            FunctionKind.TABLE,
            overloads,
            description or (f.__doc__ or "").strip(),
            author,
            version,
        )
        setattr(f, MARK, decl)
        return f

    return mark(fn) if fn is not None else mark


def declared_in(module: ModuleType) -> list[Declaration]:
    out = []
    for value in vars(module).values():
        decl = getattr(value, MARK, None)
        if isinstance(decl, Declaration) and getattr(value, "__module__", None) == module.__name__:
            out.append(decl)
    return out
