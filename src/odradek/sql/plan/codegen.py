"""Code generation: typed expressions -> Python functions over one row.

A row is `(k, v, r)`: `k` the key as a tuple of the key columns (in schema order), `v` the value as a
dict {column: value}, `r` a `RowContext` with the pseudo-columns (ts = ROWTIME, partition, offset,
headers, window start/end). Each expression becomes Python source compiled once with `compile()`,
so evaluating a filter and a projection is one function call per record with no interpretation.

SQL's NULL rules are generated inline: an operator or a NULL-propagating function with a NULL operand
gives NULL; AND/OR use three-valued logic; a WHERE predicate passes only on TRUE. A built-in function
that fails on a value gives NULL (ksqlDB logs it and goes on); a user-defined function that raises
raises `KsqlFunctionError`, which the query's processing error handler deals with.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import logging
import math
import re
from collections.abc import Callable
from types import CodeType
from typing import Any

from odradek.sql.errors import KsqlFunctionError
from odradek.sql.plan import expressions as ir
from odradek.sql.schema import Namespace
from odradek.sql.types import BaseType, SqlType

log = logging.getLogger(__name__)

Row = Callable[[Any, Any, Any], Any]


class RowContext:
    """The pseudo-columns of the record being evaluated (reused from record to record)."""

    __slots__ = ("headers", "offset", "partition", "ts", "we", "ws")

    def __init__(
        self,
        ts: int = 0,
        partition: int = 0,
        offset: int = 0,
        headers: Any = None,
        ws: int | None = None,
        we: int | None = None,
    ) -> None:
        self.ts, self.partition, self.offset, self.headers, self.ws, self.we = (
            ts,
            partition,
            offset,
            headers,
            ws,
            we,
        )


_PSEUDO = {
    "ROWTIME": "r.ts",
    "ROWPARTITION": "r.partition",
    "ROWOFFSET": "r.offset",
    "WINDOWSTART": "r.ws",
    "WINDOWEND": "r.we",
}


# -- runtime helpers the generated code calls ----------------------------------------------------------------


def _idiv(a: int, b: int) -> int | None:
    if b == 0:
        return None
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _imod(a: int, b: int) -> int | None:
    if b == 0:
        return None
    return int(math.fmod(a, b))


def _fdiv(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _fmod(a: float, b: float) -> float:
    try:
        return math.fmod(a, b)
    except ValueError:
        return math.nan


def _ddiv(a: decimal.Decimal, b: decimal.Decimal) -> decimal.Decimal | None:
    try:
        return decimal.Decimal(a) / decimal.Decimal(b)
    except (decimal.DivisionByZero, decimal.InvalidOperation):
        return None


def _dmod(a: decimal.Decimal, b: decimal.Decimal) -> decimal.Decimal | None:
    try:
        return decimal.Decimal(a) % decimal.Decimal(b)
    except (decimal.DivisionByZero, decimal.InvalidOperation):
        return None


def _index(arr: list[Any], i: int) -> Any:
    """ksqlDB array index: 1-based, negative counts from the end, out of range is NULL."""
    n = len(arr)
    if i > 0:
        return arr[i - 1] if i <= n else None
    if i < 0:
        return arr[n + i] if -i <= n else None
    return None


def _header(headers: Any, key: str) -> bytes | None:
    found = None
    for k, v in headers or ():
        if k == key:
            found = v
    return found


def _headers(headers: Any) -> list[dict[str, Any]]:
    return [{"KEY": k, "VALUE": v} for k, v in headers or ()]


def like_regex(pattern: str, escape: str | None = None) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.S)


def _like(value: str, pattern: str, escape: str | None) -> bool:
    return like_regex(pattern, escape).fullmatch(value) is not None


def builtin_guard(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as e:  # ksqlDB: a failing built-in yields NULL and a processing-log entry
            log.debug("function %s failed on %r: %s", name, args, e)
            return None

    return call


def udf_guard(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as e:
            raise KsqlFunctionError(f"Error in user-defined function {name}: {e!r}") from e

    return call


_HELPERS = {
    "_idiv": _idiv,
    "_imod": _imod,
    "_fdiv": _fdiv,
    "_fmod": _fmod,
    "_ddiv": _ddiv,
    "_dmod": _dmod,
    "_index": _index,
    "_header": _header,
    "_headers": _headers,
    "_like": _like,
    "_D": decimal.Decimal,
}


# -- the compiler --------------------------------------------------------------------------------------------


class ExprCompiler:
    def __init__(
        self,
        key_names: list[str] | tuple[str, ...],
        header_keys: dict[str, str | None] | None = None,
        value_locals: dict[str, str] | None = None,
    ) -> None:
        """`value_locals`: value columns that code around the expression holds in local variables
        (named here), read from those instead of `v` (a query's generated function: see
        `odradek.sql.compiler.processors.query_function`)."""
        self.key_index = {n: i for i, n in enumerate(key_names)}
        self.header_keys = header_keys or {}
        self.value_locals = value_locals or {}
        self.namespace: dict[str, Any] = dict(_HELPERS)
        self._n = 0
        self._lambda_names: list[dict[str, str]] = []

    def const(self, value: Any) -> str:
        name = f"_c{self._n}"
        self._n += 1
        self.namespace[name] = value
        return name

    def temp(self) -> str:
        name = f"_t{self._n}"
        self._n += 1
        return name

    def _nullsafe(
        self, operands: list[str], body: Callable[[list[str]], str], never_null: list[bool] | None = None
    ) -> str:
        names, checks = [], []
        for i, src in enumerate(operands):
            if never_null and never_null[i]:
                names.append(src)
                continue
            t = self.temp()
            names.append(t)
            checks.append(f"({t} := {src}) is None")
        if not checks:
            return f"({body(names)})"
        return f"(None if {' or '.join(checks)} else {body(names)})"

    def compile(self, e: ir.Expr) -> str:
        method = getattr(self, "_" + type(e).__name__)
        return str(method(e))

    # leaves

    def _ColumnRef(self, e: ir.ColumnRef) -> str:
        if e.namespace is None:
            return _PSEUDO[e.name]
        if e.namespace is Namespace.KEY:
            return f"k[{self.key_index[e.name]}]"
        if e.namespace is Namespace.HEADERS:
            key = self.header_keys.get(e.name)
            return f"_header(r.headers, {key!r})" if key is not None else "_headers(r.headers)"
        local = self.value_locals.get(e.name)
        return local if local is not None else f"v.get({e.name!r})"

    def _LambdaVar(self, e: ir.LambdaVar) -> str:
        for frame in reversed(self._lambda_names):
            if e.name in frame:
                return frame[e.name]
        raise KeyError(e.name)

    def _Literal(self, e: ir.Literal) -> str:
        v = e.value
        if v is None or isinstance(v, bool | int | float | str):
            return (
                repr(v) if not (isinstance(v, float) and (math.isnan(v) or math.isinf(v))) else self.const(v)
            )
        return self.const(v)

    # operators

    def _Binary(self, e: ir.Binary) -> str:
        op = e.op
        left, right = self.compile(e.left), self.compile(e.right)
        if op == "AND":
            a, b = self.temp(), self.temp()
            return f"(False if ({a} := {left}) is False or ({b} := {right}) is False else (None if {a} is None or {b} is None else True))"
        if op == "OR":
            a, b = self.temp(), self.temp()
            return f"(True if ({a} := {left}) is True or ({b} := {right}) is True else (None if {a} is None or {b} is None else False))"
        never = [
            isinstance(e.left, ir.Literal) and e.left.value is not None,
            isinstance(e.right, ir.Literal) and e.right.value is not None,
        ]
        if op in ("=", "<>", "<", "<=", ">", ">="):
            py = {"=": "==", "<>": "!="}.get(op, op)
            return self._nullsafe([left, right], lambda n: f"{n[0]} {py} {n[1]}", never)
        if op == "||":
            return self._nullsafe([left, right], lambda n: f"{n[0]} + {n[1]}", never)
        base = e.type.base
        if op == "/":
            fn = (
                "_idiv"
                if base in (BaseType.INTEGER, BaseType.BIGINT)
                else "_ddiv"
                if base is BaseType.DECIMAL
                else "_fdiv"
            )
            return self._nullsafe([left, right], lambda n: f"{fn}({n[0]}, {n[1]})", never)
        if op == "%":
            fn = (
                "_imod"
                if base in (BaseType.INTEGER, BaseType.BIGINT)
                else "_dmod"
                if base is BaseType.DECIMAL
                else "_fmod"
            )
            return self._nullsafe([left, right], lambda n: f"{fn}({n[0]}, {n[1]})", never)
        if base is BaseType.DOUBLE and (
            e.left.type.base is BaseType.DECIMAL or e.right.type.base is BaseType.DECIMAL
        ):
            return self._nullsafe([left, right], lambda n: f"float({n[0]}) {op} float({n[1]})", never)
        if base is BaseType.DECIMAL:
            return self._nullsafe([left, right], lambda n: f"_D({n[0]}) {op} _D({n[1]})", never)
        return self._nullsafe([left, right], lambda n: f"{n[0]} {op} {n[1]}", never)

    def _Unary(self, e: ir.Unary) -> str:
        inner = self.compile(e.operand)
        if e.op == "IS NULL":
            return f"({inner} is None)"
        if e.op == "IS NOT NULL":
            return f"({inner} is not None)"
        if e.op == "NOT":
            return self._nullsafe([inner], lambda n: f"not {n[0]}")
        return self._nullsafe([inner], lambda n: f"-{n[0]}")

    def _Like(self, e: ir.Like) -> str:
        operand = self.compile(e.operand)
        neg = "not " if e.negated else ""
        if isinstance(e.pattern, ir.Literal) and isinstance(e.pattern.value, str):
            rx = self.const(like_regex(e.pattern.value, e.escape))
            return self._nullsafe([operand], lambda n: f"{neg}({rx}.fullmatch({n[0]}) is not None)")
        pattern = self.compile(e.pattern)
        esc = repr(e.escape)
        return self._nullsafe([operand, pattern], lambda n: f"{neg}_like({n[0]}, {n[1]}, {esc})")

    def _InList(self, e: ir.InList) -> str:
        operand = self.compile(e.operand)
        neg = "not " if e.negated else ""
        if all(isinstance(i, ir.Literal) for i in e.items):
            values = [i.value for i in e.items if isinstance(i, ir.Literal) and i.value is not None]
            try:
                container = self.const(frozenset(values))
            except TypeError:
                container = self.const(tuple(values))
            return self._nullsafe([operand], lambda n: f"{neg}({n[0]} in {container})")
        items = ", ".join(self.compile(i) for i in e.items)
        return self._nullsafe([operand], lambda n: f"{neg}({n[0]} in ({items},))")

    def _Between(self, e: ir.Between) -> str:
        parts = [self.compile(e.operand), self.compile(e.low), self.compile(e.high)]
        neg = "not " if e.negated else ""
        return self._nullsafe(parts, lambda n: f"{neg}({n[1]} <= {n[0]} <= {n[2]})")

    def _Case(self, e: ir.Case) -> str:
        out = self.compile(e.default) if e.default is not None else "None"
        for cond, res in reversed(e.whens):
            out = f"({self.compile(res)} if {self.compile(cond)} is True else {out})"
        return out

    def _Cast(self, e: ir.Cast) -> str:
        fn = self.const(caster(e.operand.type, e.type))
        return self._nullsafe([self.compile(e.operand)], lambda n: f"{fn}({n[0]})")

    def _Deref(self, e: ir.Deref) -> str:
        return self._nullsafe([self.compile(e.operand)], lambda n: f"{n[0]}.get({e.field_name!r})")

    def _Subscript(self, e: ir.Subscript) -> str:
        container, index = self.compile(e.operand), self.compile(e.index)
        if e.operand.type.base is BaseType.ARRAY:
            return self._nullsafe([container, index], lambda n: f"_index({n[0]}, {n[1]})")
        return self._nullsafe([container, index], lambda n: f"{n[0]}.get({n[1]})")

    def _CreateArray(self, e: ir.CreateArray) -> str:
        return "[" + ", ".join(self.compile(i) for i in e.items) + "]"

    def _CreateMap(self, e: ir.CreateMap) -> str:
        return "{" + ", ".join(f"{self.compile(k)}: {self.compile(v)}" for k, v in e.entries) + "}"

    def _CreateStruct(self, e: ir.CreateStruct) -> str:
        return "{" + ", ".join(f"{n!r}: {self.compile(v)}" for n, v in e.fields) + "}"

    def _Lambda(self, e: ir.Lambda) -> str:
        names = {p: f"_l{self._n}_{i}" for i, p in enumerate(e.params)}
        self._n += 1
        self._lambda_names.append(names)
        try:
            body = self.compile(e.body)
        finally:
            self._lambda_names.pop()
        return f"(lambda {', '.join(names.values())}: {body})"

    def _Call(self, e: ir.Call) -> str:
        assert e.resolved is not None
        overload = e.resolved.overload
        guard = udf_guard if overload.user_defined else builtin_guard
        fn = self.const(guard(overload.impl, e.name))
        args = [self.compile(a) for a in e.args]
        if not overload.null_propagating or not args:
            return f"{fn}({', '.join(args)})"
        lambdas = [
            isinstance(a, ir.Lambda) or (isinstance(a, ir.Literal) and a.value is not None) for a in e.args
        ]
        return self._nullsafe(args, lambda n: f"{fn}({', '.join(n)})", lambdas)

    def _AggregateCall(self, e: ir.AggregateCall) -> str:
        raise ValueError(f"aggregate {e} cannot be evaluated per row")

    def _TableFunctionCall(self, e: ir.TableFunctionCall) -> str:
        fn = self.const(
            builtin_guard(e.resolved.overload.impl, e.name)
            if not e.resolved.overload.user_defined
            else udf_guard(e.resolved.overload.impl, e.name)
        )
        args = [self.compile(a) for a in e.args]
        return self._nullsafe(args, lambda n: f"{fn}({', '.join(n)})")

    # building functions

    def function(self, body: str, name: str = "_row") -> Row:
        source = f"def {name}(k, v, r):\n    return {body}\n"
        exec(_compiled(source, name), self.namespace)
        fn: Row = self.namespace[name]
        fn.__doc__ = source
        return fn


@functools.lru_cache(maxsize=1024)
def _compiled(source: str, name: str) -> CodeType:
    """Python's compile() of generated code, once per distinct source (pull queries repeat theirs)."""
    return compile(source, f"<sql {name}>", "exec")


def compile_expression(e: ir.Expr, key_names: list[str] | tuple[str, ...]) -> Row:
    c = ExprCompiler(key_names)
    return c.function(c.compile(e))


def compile_predicate(e: ir.Expr, key_names: list[str] | tuple[str, ...]) -> Row:
    """A function that is True only when the predicate is TRUE (not FALSE, not NULL)."""
    c = ExprCompiler(key_names)
    return c.function(f"{c.compile(e)} is True", "_predicate")


def compile_projection(
    key_items: list[tuple[str, ir.Expr]],
    value_items: list[tuple[str, ir.Expr]],
    key_names: list[str] | tuple[str, ...],
) -> Row:
    """A function returning (key tuple, value dict) of the projected row."""
    c = ExprCompiler(key_names)
    key = "(" + "".join(c.compile(e) + ", " for _, e in key_items) + ")"
    value = "{" + ", ".join(f"{n!r}: {c.compile(e)}" for n, e in value_items) + "}"
    return c.function(f"({key}, {value})", "_project")


# -- CAST -------------------------------------------------------------------------------------------------


def _to_bool(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("true", "t", "yes", "y", "1"):
        return True
    if s in ("false", "f", "no", "n", "0"):
        return False
    return None


def _int_from(v: Any) -> int | None:
    try:
        if isinstance(v, str):
            v = v.strip()
            return int(decimal.Decimal(v)) if any(c in v for c in ".eE") else int(v)
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            return None
        return int(v)
    except (ValueError, decimal.InvalidOperation):
        return None


def _float_from(v: Any) -> float | None:
    try:
        return float(v)
    except (ValueError, TypeError):
        return None


def to_string(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime.datetime):
        return v.isoformat(timespec="milliseconds")
    if isinstance(v, datetime.date | datetime.time):
        return v.isoformat()
    if isinstance(v, bytes):
        import base64

        return base64.b64encode(v).decode()
    if isinstance(v, list):
        return "[" + ", ".join("null" if x is None else to_string(x) for x in v) + "]"
    if isinstance(v, dict):
        return (
            "{"
            + ", ".join(f"{to_string(k)}={'null' if x is None else to_string(x)}" for k, x in v.items())
            + "}"
        )
    if isinstance(v, float):
        return repr(v) if not v.is_integer() or abs(v) >= 1e16 else f"{v:.1f}"
    return str(v)


def caster(source: SqlType, target: SqlType) -> Callable[[Any], Any]:
    b = target.base
    if b is BaseType.STRING:
        return to_string
    if b in (BaseType.INTEGER, BaseType.BIGINT):
        return _int_from
    if b is BaseType.DOUBLE:
        return _float_from
    if b is BaseType.DECIMAL:
        quantum = decimal.Decimal(1).scaleb(-target.scale)

        def to_decimal(v: Any) -> decimal.Decimal | None:
            try:
                d = decimal.Decimal(str(v).strip()) if not isinstance(v, float) else decimal.Decimal(repr(v))
                return d.quantize(quantum, rounding=decimal.ROUND_HALF_UP)
            except (decimal.InvalidOperation, ValueError):
                return None

        return to_decimal
    if b is BaseType.BOOLEAN:
        return _to_bool
    if b is BaseType.TIMESTAMP:
        if source.base is BaseType.DATE:
            return lambda d: datetime.datetime(d.year, d.month, d.day)

        def to_ts(v: Any) -> datetime.datetime | None:
            try:
                parsed = datetime.datetime.fromisoformat(str(v).strip().replace("Z", "+00:00"))
            except ValueError:
                return None
            return parsed.astimezone(datetime.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed

        return to_ts
    if b is BaseType.DATE:
        if source.base is BaseType.TIMESTAMP:
            return lambda ts: ts.date()

        def to_date(v: Any) -> datetime.date | None:
            try:
                return datetime.date.fromisoformat(str(v).strip())
            except ValueError:
                return None

        return to_date
    if b is BaseType.TIME:
        if source.base is BaseType.TIMESTAMP:
            return lambda ts: ts.time()

        def to_time(v: Any) -> datetime.time | None:
            try:
                return datetime.time.fromisoformat(str(v).strip())
            except ValueError:
                return None

        return to_time
    if b is BaseType.BYTES:
        import base64

        return lambda v: base64.b64decode(v) if isinstance(v, str) else v
    if b is BaseType.ARRAY:
        assert source.element is not None and target.element is not None
        inner = caster(source.element, target.element)
        return lambda arr: [None if x is None else inner(x) for x in arr]
    if b is BaseType.MAP:
        assert (
            source.element is not None
            and target.element is not None
            and source.key is not None
            and target.key is not None
        )
        kc, vc = caster(source.key, target.key), caster(source.element, target.element)
        return lambda m: {None if k is None else kc(k): None if x is None else vc(x) for k, x in m.items()}
    if b is BaseType.STRUCT:
        fields = [(n, caster(source.field(n) or ft, ft)) for n, ft in target.fields]
        return lambda s: {n: (None if s.get(n) is None else f(s.get(n))) for n, f in fields}
    return lambda v: v
