"""The expression analyzer: sqlglot expressions -> typed expressions (`expressions.py`).

It resolves names against a `Scope` (the columns a query step can see, qualified by source alias),
resolves functions in the catalog (scalar, aggregate, table), types every node with ksqlDB's rules
and reports errors with the line and column of the offending expression.

Numeric literals: an integer is INT if it fits in 32 bits, else BIGINT; `1.5` is DECIMAL(2, 1);
`1.5E3` is DOUBLE. Decimal arithmetic follows ksqlDB (and SQL Server): + and - take the larger scale
and one more digit, * adds precisions and scales, / keeps at least 6 fraction digits.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from sqlglot import exp

from odradek.sql import types as t
from odradek.sql.errors import KsqlAnalysisError, Position
from odradek.sql.functions.registry import FunctionKind, FunctionRegistry, Resolved
from odradek.sql.functions.signature import Binding, expand_params, instantiate, match_param, result_type
from odradek.sql.parser.dialect import StructDeref
from odradek.sql.plan import expressions as ir
from odradek.sql.schema import Namespace
from odradek.sql.types import BaseType, SqlType


@dataclass(frozen=True)
class ScopeColumn:
    name: str  # as the user writes it
    type: SqlType
    namespace: Namespace | None  # None = pseudo-column
    qualifier: str | None  # source alias
    ref_name: str  # the column's name in the step's input schema


@dataclass
class Scope:
    columns: list[ScopeColumn] = field(default_factory=list)
    qualifiers: set[str] = field(default_factory=set)

    def add(self, column: ScopeColumn) -> None:
        self.columns.append(column)
        if column.qualifier:
            self.qualifiers.add(column.qualifier)

    def lookup(self, qualifier: str | None, name: str) -> list[ScopeColumn]:
        return [c for c in self.columns if c.name == name and (qualifier is None or c.qualifier == qualifier)]


@dataclass(frozen=True)
class PositionMap:
    """Maps a sqlglot node's offset in the statement text to a line/column in the request."""

    text: str
    base: Position

    def of(self, node: exp.Expr | None) -> Position | None:
        if node is None:
            return None
        start = None
        for n in node.walk():
            if isinstance(n, exp.Expr) and "start" in n.meta:
                start = n.meta["start"]
                break
        if start is None:
            return self.base
        lines_before = self.text.count("\n", 0, start)
        if lines_before == 0:
            return Position(self.base.line, self.base.column + start)
        return Position(self.base.line + lines_before, start - self.text.rfind("\n", 0, start))


UNIT_WORDS = frozenset(
    {"MILLISECOND", "MILLISECONDS", "SECOND", "SECONDS", "MINUTE", "MINUTES", "HOUR", "HOURS", "DAY", "DAYS"}
)
UNIT_FUNCTIONS = frozenset({"TIMESTAMPADD", "TIMESTAMPSUB", "DATEADD", "DATESUB", "TIMEADD", "TIMESUB"})

_ARITH = {exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.Mod: "%"}
_COMPARE = {exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}
_COMPARE_NAMES = {
    "=": "EQUAL",
    "<>": "NOT_EQUAL",
    ">": "GREATER_THAN",
    ">=": "GREATER_THAN_OR_EQUAL",
    "<": "LESS_THAN",
    "<=": "LESS_THAN_OR_EQUAL",
}


def identifier_name(node: exp.Expr) -> str:
    """ksqlDB's case rule: unquoted names are upper-cased, quoted ones kept."""
    if isinstance(node, exp.Identifier):
        return node.name if node.quoted else node.name.upper()
    if isinstance(node, exp.Column):
        return identifier_name(node.this)
    return node.name.upper()


class ExpressionAnalyzer:
    def __init__(
        self,
        scope: Scope,
        functions: FunctionRegistry,
        positions: PositionMap,
        custom_types: dict[str, SqlType] | None = None,
        *,
        allow_aggregates: bool = False,
        allow_table_functions: bool = False,
    ) -> None:
        self.scope = scope
        self.functions = functions
        self.positions = positions
        self.custom_types = custom_types or {}
        self.allow_aggregates = allow_aggregates
        self.allow_table_functions = allow_table_functions
        self._lambda_vars: list[dict[str, SqlType]] = []
        self._in_aggregate = False

    def error(self, message: str, node: exp.Expr | None) -> KsqlAnalysisError:
        return KsqlAnalysisError(message, position=self.positions.of(node))

    # -- entry points --------------------------------------------------------------------------------------

    def analyze(self, node: exp.Expr) -> ir.Expr:
        handler = self._dispatch.get(type(node))
        if handler is not None:
            return handler(self, node)
        if isinstance(node, exp.Not) and isinstance(node.this, exp.Is):
            inner = self.analyze(node.this.this)
            return ir.Unary(t.BOOLEAN, "IS NOT NULL", inner)
        raise self.error(f"Unsupported expression: {node.sql()}", node)

    def analyze_boolean(self, node: exp.Expr, clause: str) -> ir.Expr:
        e = self.analyze(node)
        if e.type.base not in (BaseType.BOOLEAN, BaseType.NULL):
            raise self.error(
                f"Type error in {clause} expression: Should evaluate to boolean but is {e} ({e.type}) instead.",
                node,
            )
        return e

    # -- leaves ----------------------------------------------------------------------------------------

    def _column(self, node: exp.Column) -> ir.Expr:
        name = identifier_name(node.this)
        qualifier = identifier_name(node.args["table"]) if node.args.get("table") else None
        if qualifier is None:
            for frame in reversed(self._lambda_vars):
                if name in frame:
                    return ir.LambdaVar(frame[name], name)
        found = self.scope.lookup(qualifier, name)
        if not found:
            if qualifier is not None and qualifier not in self.scope.qualifiers:
                raise self.error(
                    f"Source {qualifier} is not in the FROM clause (known: {', '.join(sorted(self.scope.qualifiers))})",
                    node,
                )
            shown = f"{qualifier}.{name}" if qualifier else name
            raise self.error(f"Column '{shown}' cannot be resolved.", node)
        if len(found) > 1:
            options = ", ".join(f"{c.qualifier}.{c.name}" for c in found)
            raise self.error(f"Column '{name}' is ambiguous. Could be any of: {options}", node)
        col = found[0]
        return ir.ColumnRef(
            col.type,
            col.ref_name,
            col.namespace,
            col.qualifier,
            col.name if col.name != col.ref_name else None,
        )

    def _literal(self, node: exp.Literal) -> ir.Expr:
        text = node.this
        if node.is_string:
            return ir.Literal(t.STRING, text)
        if any(c in text for c in "eE"):
            return ir.Literal(t.DOUBLE, float(text))
        if "." in text:
            d = decimal.Decimal(text)
            digits = len(d.as_tuple().digits)
            scale = max(-int(d.as_tuple().exponent), 0)
            return ir.Literal(t.decimal(max(digits, scale, 1), scale), d)
        value = int(text)
        return ir.Literal(t.INTEGER if -(2**31) <= value < 2**31 else t.BIGINT, value)

    def _boolean(self, node: exp.Boolean) -> ir.Expr:
        return ir.Literal(t.BOOLEAN, bool(node.this))

    def _null(self, node: exp.Null) -> ir.Expr:
        return ir.Literal(t.NULL, None)

    def _paren(self, node: exp.Paren) -> ir.Expr:
        return self.analyze(node.this)

    # -- operators -------------------------------------------------------------------------------------

    def _arith(self, node: exp.Binary) -> ir.Expr:
        op = _ARITH[type(node)]
        left, right = self.analyze(node.this), self.analyze(node.expression)
        return ir.Binary(self.arith_type(op, left, right, node), op, left, right)

    def arith_type(self, op: str, left: ir.Expr, right: ir.Expr, node: exp.Expr) -> SqlType:
        a, b = left.type, right.type
        if a.base is BaseType.NULL:
            return b
        if b.base is BaseType.NULL:
            return a
        if op == "+" and a.base is b.base is BaseType.STRING:
            return t.STRING
        if not (a.is_numeric and b.is_numeric):
            raise self.error(
                f"Error processing expression: ({left} {op} {right}). Unsupported arithmetic types. {a} {b}",
                node,
            )
        if BaseType.DOUBLE in (a.base, b.base):
            return t.DOUBLE
        if BaseType.DECIMAL in (a.base, b.base):
            return decimal_arith_type(op, t.as_decimal(a), t.as_decimal(b))
        return t.BIGINT if BaseType.BIGINT in (a.base, b.base) else t.INTEGER

    def _concat(self, node: exp.DPipe) -> ir.Expr:
        left, right = self.analyze(node.this), self.analyze(node.expression)
        for side in (left, right):
            if side.type.base not in (BaseType.STRING, BaseType.NULL):
                raise self.error(f"|| needs strings, not {side} ({side.type})", node)
        return ir.Binary(t.STRING, "||", left, right)

    def _compare(self, node: exp.Binary) -> ir.Expr:
        op = _COMPARE[type(node)]
        left, right = self.analyze(node.this), self.analyze(node.expression)
        left, right = self.coerce_comparison(left, right, op, node)
        return ir.Binary(t.BOOLEAN, op, left, right)

    def coerce_comparison(
        self, left: ir.Expr, right: ir.Expr, op: str, node: exp.Expr
    ) -> tuple[ir.Expr, ir.Expr]:
        a, b = left.type, right.type
        if a.base is BaseType.NULL or b.base is BaseType.NULL or a == b:
            return left, right
        if a.is_numeric and b.is_numeric:
            return left, right
        temporal = (BaseType.TIMESTAMP, BaseType.DATE, BaseType.TIME)
        if a.base in temporal and b.base is BaseType.STRING and isinstance(right, ir.Literal):
            return left, self.temporal_literal(right, a, node)
        if b.base in temporal and a.base is BaseType.STRING and isinstance(left, ir.Literal):
            return self.temporal_literal(left, b, node), right
        if (
            a.base is b.base
            and a.base in (BaseType.DECIMAL, BaseType.ARRAY, BaseType.MAP, BaseType.STRUCT)
            and op in ("=", "<>")
        ):
            return left, right
        if a.base is b.base and a.base is BaseType.DECIMAL:
            return left, right
        raise self.error(
            f"Cannot compare {left} ({a}) to {right} ({b}) with {_COMPARE_NAMES.get(op, op)}.", node
        )

    def temporal_literal(self, literal: ir.Literal, target: SqlType, node: exp.Expr) -> ir.Literal:
        text = str(literal.value)
        try:
            if target.base is BaseType.DATE:
                return ir.Literal(target, datetime.date.fromisoformat(text))
            if target.base is BaseType.TIME:
                return ir.Literal(target, datetime.time.fromisoformat(text))
            parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
            return ir.Literal(target, parsed)
        except ValueError:
            raise self.error(f"Cannot convert '{text}' to {target}", node) from None

    def _logic(self, node: exp.Connector) -> ir.Expr:
        op = "AND" if isinstance(node, exp.And) else "OR"
        left, right = self.analyze(node.this), self.analyze(node.expression)
        for side in (left, right):
            if side.type.base not in (BaseType.BOOLEAN, BaseType.NULL):
                raise self.error(f"{op} needs boolean operands, not {side} ({side.type})", node)
        return ir.Binary(t.BOOLEAN, op, left, right)

    def _not(self, node: exp.Not) -> ir.Expr:
        if isinstance(node.this, exp.Is):
            return ir.Unary(t.BOOLEAN, "IS NOT NULL", self.analyze(node.this.this))
        if isinstance(node.this, exp.Like):
            inner = self._like(node.this)
            assert isinstance(inner, ir.Like)
            return ir.Like(t.BOOLEAN, inner.operand, inner.pattern, True, inner.escape)
        if isinstance(node.this, exp.In):
            inner_in = self._in(node.this)
            assert isinstance(inner_in, ir.InList)
            return ir.InList(t.BOOLEAN, inner_in.operand, inner_in.items, True)
        if isinstance(node.this, exp.Between):
            b = self._between(node.this)
            assert isinstance(b, ir.Between)
            return ir.Between(t.BOOLEAN, b.operand, b.low, b.high, True)
        operand = self.analyze(node.this)
        if operand.type.base not in (BaseType.BOOLEAN, BaseType.NULL):
            raise self.error(f"NOT needs a boolean, not {operand} ({operand.type})", node)
        return ir.Unary(t.BOOLEAN, "NOT", operand)

    def _neg(self, node: exp.Neg) -> ir.Expr:
        operand = self.analyze(node.this)
        if isinstance(operand, ir.Literal) and operand.type.is_numeric:
            value = -operand.value
            typ = operand.type
            if typ.base is BaseType.BIGINT and -(2**31) <= value < 2**31:
                typ = t.INTEGER if value == -(2**31) else typ
            return ir.Literal(typ, value)
        if not operand.type.is_numeric:
            raise self.error(f"Unary minus needs a number, not {operand} ({operand.type})", node)
        return ir.Unary(operand.type, "-", operand)

    def _is(self, node: exp.Is) -> ir.Expr:
        if not isinstance(node.expression, exp.Null):
            raise self.error("Only IS NULL and IS NOT NULL are supported", node)
        return ir.Unary(t.BOOLEAN, "IS NULL", self.analyze(node.this))

    def _like(self, node: exp.Like) -> ir.Expr:
        operand, pattern = self.analyze(node.this), self.analyze(node.expression)
        for side in (operand, pattern):
            if side.type.base not in (BaseType.STRING, BaseType.NULL):
                raise self.error(f"LIKE needs strings, not {side} ({side.type})", node)
        return ir.Like(t.BOOLEAN, operand, pattern, bool(node.args.get("negate")))

    def _escape(self, node: exp.Escape) -> ir.Expr:
        like = self.analyze(node.this)
        esc = self.analyze(node.expression)
        if not isinstance(like, ir.Like) or not isinstance(esc, ir.Literal) or len(str(esc.value)) != 1:
            raise self.error("ESCAPE needs a LIKE and a one-character string", node)
        return ir.Like(t.BOOLEAN, like.operand, like.pattern, like.negated, str(esc.value))

    def _in(self, node: exp.In) -> ir.Expr:
        if node.args.get("query") is not None:
            raise self.error("Subqueries are not supported", node)
        operand = self.analyze(node.this)
        items = []
        for item in node.expressions:
            e = self.analyze(item)
            _, e = self.coerce_comparison(operand, e, "=", item)
            items.append(e)
        return ir.InList(t.BOOLEAN, operand, tuple(items))

    def _between(self, node: exp.Between) -> ir.Expr:
        operand = self.analyze(node.this)
        low = self.coerce_comparison(operand, self.analyze(node.args["low"]), ">=", node)[1]
        high = self.coerce_comparison(operand, self.analyze(node.args["high"]), "<=", node)[1]
        return ir.Between(t.BOOLEAN, operand, low, high)

    def _case(self, node: exp.Case) -> ir.Expr:
        subject = self.analyze(node.this) if node.this is not None else None
        whens = []
        result_type: SqlType = t.NULL
        for when in node.args.get("ifs") or []:
            cond_node = when.this
            if subject is not None:
                value = self.analyze(cond_node)
                subject, value = self.coerce_comparison(subject, value, "=", cond_node)
                cond: ir.Expr = ir.Binary(t.BOOLEAN, "=", subject, value)
            else:
                cond = self.analyze_boolean(cond_node, "WHEN")
            res = self.analyze(when.args["true"])
            common = t.common_type(result_type, res.type)
            if common is None:
                raise self.error(
                    f"Invalid Case expression. Type for all 'THEN' clauses should be the same. Result expression '{res}' has type {res.type}, expected {result_type}.",
                    when,
                )
            result_type = common
            whens.append((cond, res))
        default = None
        if node.args.get("default") is not None:
            default = self.analyze(node.args["default"])
            common = t.common_type(result_type, default.type)
            if common is None:
                raise self.error(
                    f"Invalid Case expression. Type for the 'ELSE' clause should be {result_type}, not {default.type}.",
                    node,
                )
            result_type = common
        return ir.Case(result_type, tuple(whens), default)

    def _cast(self, node: exp.Cast) -> ir.Expr:
        operand = self.analyze(node.this)
        target = self.data_type(node.args["to"])
        check_cast(operand.type, target, lambda m: self.error(m, node))
        return ir.Cast(target, operand)

    def data_type(self, node: exp.DataType) -> SqlType:
        try:
            return t.parse_type(sqlglot_type_text(node), self.custom_types)
        except ValueError as e:
            raise self.error(f"Unknown type: {e}", node) from None

    def _deref(self, node: StructDeref) -> ir.Expr:
        operand = self.analyze(node.this)
        name = identifier_name(node.args["field"])
        if operand.type.base is not BaseType.STRUCT:
            raise self.error(f"Expected STRUCT type for '->' but got {operand.type} for {operand}", node)
        field_type = operand.type.field(name)
        if field_type is None:
            raise self.error(
                f"Could not find field '{name}' in '{operand}'. Fields are: {', '.join(n for n, _ in operand.type.fields)}",
                node,
            )
        return ir.Deref(field_type, operand, name)

    def _bracket(self, node: exp.Bracket) -> ir.Expr:
        operand = self.analyze(node.this)
        if len(node.expressions) != 1:
            raise self.error("A subscript takes one index", node)
        index = self.analyze(node.expressions[0])
        if operand.type.base is BaseType.ARRAY:
            if not index.type.is_integral:
                raise self.error(f"An array index must be an integer, not {index.type}", node)
            assert operand.type.element is not None
            return ir.Subscript(operand.type.element, operand, index)
        if operand.type.base is BaseType.MAP:
            assert operand.type.element is not None and operand.type.key is not None
            if not t.can_assign(index.type, operand.type.key):
                raise self.error(f"A map key must be {operand.type.key}, not {index.type}", node)
            return ir.Subscript(operand.type.element, operand, index)
        raise self.error(f"Only arrays and maps can be subscripted, not {operand} ({operand.type})", node)

    def _array(self, node: exp.Array) -> ir.Expr:
        items = [self.analyze(e) for e in node.expressions]
        element: SqlType = t.NULL
        for item in items:
            common = t.common_type(element, item.type)
            if common is None:
                raise self.error(
                    f"invalid input syntax for type ARRAY: all elements must share a type ({element} vs {item.type})",
                    node,
                )
            element = common
        if element.base is BaseType.NULL and items:
            raise self.error("Cannot construct an array with all NULL elements (CAST one of them)", node)
        return ir.CreateArray(t.array(element if items else t.STRING), tuple(items))

    def _lambda_node(self, node: exp.Lambda) -> ir.Expr:
        raise self.error("A lambda can only be a function argument", node)

    def _star(self, node: exp.Star) -> ir.Expr:
        raise self.error("* is only allowed in SELECT and COUNT(*)", node)

    # -- functions -----------------------------------------------------------------------------------------

    def _function(self, node: exp.Anonymous) -> ir.Expr:
        name = node.name.upper()
        args_nodes = list(node.expressions)
        if name == "MAP" and all(isinstance(a, exp.PropertyEQ) for a in args_nodes):
            return self._create_map(node, args_nodes)
        if name == "STRUCT" and all(isinstance(a, exp.PropertyEQ) for a in args_nodes):
            return self._create_struct(args_nodes)
        if name == "ARRAY":
            return self._array(exp.Array(expressions=args_nodes))
        kind = self.functions.kind_of(name)
        if kind is FunctionKind.AGGREGATE:
            return self._aggregate(node, name, args_nodes)
        if kind is FunctionKind.TABLE:
            if not self.allow_table_functions:
                raise self.error(
                    f"Table function {name} can only be used in the SELECT clause, not nested", node
                )
            args = tuple(self.analyze(a) for a in args_nodes)
            resolved = self._resolve(name, [a.type for a in args], node)
            return ir.TableFunctionCall(resolved.return_type, name, args, resolved)
        if name in UNIT_FUNCTIONS and args_nodes and isinstance(args_nodes[0], exp.Column):
            unit = args_nodes[0].name.upper()
            if unit in UNIT_WORDS:
                args_nodes[0] = exp.Literal.string(unit)
        if any(isinstance(a, exp.Lambda) for a in args_nodes):
            return self._lambda_call(node, name, args_nodes)
        args = tuple(self.analyze(a) for a in args_nodes)
        resolved = self._resolve(name, [a.type for a in args], node)
        return ir.Call(resolved.return_type, name, args, resolved)

    def _resolve(self, name: str, types_: list[SqlType], node: exp.Expr) -> Resolved:
        try:
            return self.functions.resolve(name, types_)
        except KsqlAnalysisError as e:
            raise self.error(e.message, node) from None

    def _aggregate(self, node: exp.Anonymous, name: str, args_nodes: list[exp.Expr]) -> ir.Expr:
        if not self.allow_aggregates:
            raise self.error(
                f"Aggregate functions are not allowed here: {node.sql()}. Use them in SELECT or HAVING with GROUP BY.",
                node,
            )
        if self._in_aggregate:
            raise self.error(f"Aggregate functions can not be nested: {node.sql()}", node)
        star = len(args_nodes) == 1 and isinstance(args_nodes[0], exp.Star)
        if star:
            if name != "COUNT":
                raise self.error(f"Only COUNT accepts *, not {name}", node)
            args_nodes = []
        self._in_aggregate = True
        try:
            analyzed = [self.analyze(a) for a in args_nodes]
        finally:
            self._in_aggregate = False
        resolved = self._resolve(name, [a.type for a in analyzed], node)
        n_lit = resolved.overload.literal_params
        columns, literal_exprs = analyzed[: len(analyzed) - n_lit], analyzed[len(analyzed) - n_lit :]
        literals = []
        for e in literal_exprs:
            if not isinstance(e, ir.Literal):
                raise self.error(f"Parameter {e} of {name} must be a literal", node)
            literals.append(e.value)
        return ir.AggregateCall(resolved.return_type, name, tuple(columns), tuple(literals), resolved, star)

    def _lambda_call(self, node: exp.Anonymous, name: str, args_nodes: list[exp.Expr]) -> ir.Expr:
        entry = self.functions.get(name)
        if entry is None:
            raise self.error(f"Can't find any functions with the name '{name}'", node)
        plain = {i: self.analyze(a) for i, a in enumerate(args_nodes) if not isinstance(a, exp.Lambda)}
        errors = []
        for overload in entry.overloads:
            params = expand_params(overload.signature, len(args_nodes))
            if params is None or any(
                (p.kind == "lambda") != isinstance(a, exp.Lambda)
                for p, a in zip(params, args_nodes, strict=True)
            ):
                continue
            binding = Binding()
            if not all(match_param(params[i], e.type, binding) for i, e in plain.items()):
                continue
            args: list[ir.Expr] = []
            ok = True
            for i, a in enumerate(args_nodes):
                if i in plain:
                    args.append(plain[i])
                    continue
                assert isinstance(a, exp.Lambda)
                pattern = params[i]
                names = [identifier_name(p) for p in a.expressions]
                if len(names) != len(pattern.items) - 1:
                    errors.append(f"the lambda takes {len(pattern.items) - 1} parameter(s)")
                    ok = False
                    break
                param_types = [instantiate(p, binding, []) for p in pattern.items[:-1]]
                self._lambda_vars.append(dict(zip(names, param_types, strict=True)))
                try:
                    body = self.analyze(a.this)
                finally:
                    self._lambda_vars.pop()
                if not match_param(pattern.items[-1], body.type, binding):
                    errors.append(f"the lambda returns {body.type}, expected {pattern.items[-1]}")
                    ok = False
                    break
                args.append(ir.Lambda(body.type, tuple(names), body, tuple(param_types)))
            if not ok:
                continue
            types_ = [a.type for a in args]
            resolved = Resolved(entry, overload, binding, result_type(overload.signature, binding, types_))
            return ir.Call(resolved.return_type, name, tuple(args), resolved)
        detail = f": {errors[0]}" if errors else ""
        raise self.error(f"Function '{name}' does not accept these arguments{detail}", node)

    def _create_map(self, node: exp.Expr, entries_nodes: list[exp.Expr]) -> ir.Expr:
        entries = []
        key_type: SqlType = t.NULL
        value_type: SqlType = t.NULL
        for pe in entries_nodes:
            k = self.analyze(pe.this if not isinstance(pe.this, exp.Identifier) else exp.Column(this=pe.this))
            v = self.analyze(pe.expression)
            kt, vt = t.common_type(key_type, k.type), t.common_type(value_type, v.type)
            if kt is None or vt is None:
                raise self.error("All keys and all values of a MAP must share a type", node)
            key_type, value_type = kt, vt
            entries.append((k, v))
        return ir.CreateMap(
            t.map_of(key_type if entries else t.STRING, value_type if entries else t.STRING), tuple(entries)
        )

    def _create_struct(self, fields_nodes: list[exp.Expr]) -> ir.Expr:
        fields = []
        for pe in fields_nodes:
            name = identifier_name(pe.this)
            fields.append((name, self.analyze(pe.expression)))
        return ir.CreateStruct(t.struct([(n, e.type) for n, e in fields]), tuple(fields))

    _dispatch: dict[type, Callable[[ExpressionAnalyzer, exp.Expr], ir.Expr]] = {}


Handler = Callable[[ExpressionAnalyzer, exp.Expr], ir.Expr]

ExpressionAnalyzer._dispatch = {
    exp.Column: ExpressionAnalyzer._column,  # type: ignore[dict-item]
    exp.Literal: ExpressionAnalyzer._literal,  # type: ignore[dict-item]
    exp.Boolean: ExpressionAnalyzer._boolean,  # type: ignore[dict-item]
    exp.Null: ExpressionAnalyzer._null,  # type: ignore[dict-item]
    exp.Paren: ExpressionAnalyzer._paren,  # type: ignore[dict-item]
    **dict.fromkeys(_ARITH, cast(Handler, ExpressionAnalyzer._arith)),
    exp.DPipe: ExpressionAnalyzer._concat,  # type: ignore[dict-item]
    **dict.fromkeys(_COMPARE, cast(Handler, ExpressionAnalyzer._compare)),
    exp.And: ExpressionAnalyzer._logic,  # type: ignore[dict-item]
    exp.Or: ExpressionAnalyzer._logic,  # type: ignore[dict-item]
    exp.Not: ExpressionAnalyzer._not,  # type: ignore[dict-item]
    exp.Neg: ExpressionAnalyzer._neg,  # type: ignore[dict-item]
    exp.Is: ExpressionAnalyzer._is,  # type: ignore[dict-item]
    exp.Like: ExpressionAnalyzer._like,  # type: ignore[dict-item]
    exp.Escape: ExpressionAnalyzer._escape,  # type: ignore[dict-item]
    exp.In: ExpressionAnalyzer._in,  # type: ignore[dict-item]
    exp.Between: ExpressionAnalyzer._between,  # type: ignore[dict-item]
    exp.Case: ExpressionAnalyzer._case,  # type: ignore[dict-item]
    exp.Cast: ExpressionAnalyzer._cast,  # type: ignore[dict-item]
    exp.TryCast: ExpressionAnalyzer._cast,  # type: ignore[dict-item]
    StructDeref: ExpressionAnalyzer._deref,  # type: ignore[dict-item]
    exp.Bracket: ExpressionAnalyzer._bracket,  # type: ignore[dict-item]
    exp.Array: ExpressionAnalyzer._array,  # type: ignore[dict-item]
    exp.Anonymous: ExpressionAnalyzer._function,  # type: ignore[dict-item]
    exp.Lambda: ExpressionAnalyzer._lambda_node,  # type: ignore[dict-item]
    exp.Star: ExpressionAnalyzer._star,  # type: ignore[dict-item]
}


def decimal_arith_type(op: str, a: SqlType, b: SqlType) -> SqlType:
    p1, s1, p2, s2 = a.precision, a.scale, b.precision, b.scale
    if op in ("+", "-"):
        scale = max(s1, s2)
        precision = max(p1 - s1, p2 - s2) + scale + 1
    elif op == "*":
        precision, scale = p1 + p2 + 1, s1 + s2
    elif op == "/":
        scale = max(6, s1 + p2 + 1)
        precision = p1 - s1 + s2 + scale
    else:
        scale = max(s1, s2)
        precision = min(p1 - s1, p2 - s2) + scale
    return t.decimal(min(max(precision, 1), 38), min(scale, 38))


_CASTABLE_TO_STRING = True


def check_cast(source: SqlType, target: SqlType, error: Callable[[str], Exception]) -> None:
    """ksqlDB's CAST rules: numbers and strings convert freely, STRING <-> dates and times, BOOLEAN <-> STRING,
    structurally for ARRAY/MAP/STRUCT."""
    s, d = source.base, target.base
    if s is BaseType.NULL or source == target or d is BaseType.STRING:
        return
    numeric = (BaseType.INTEGER, BaseType.BIGINT, BaseType.DOUBLE, BaseType.DECIMAL)
    if s in numeric and d in numeric:
        return
    if s is BaseType.STRING and d in (
        *numeric,
        BaseType.BOOLEAN,
        BaseType.DATE,
        BaseType.TIME,
        BaseType.TIMESTAMP,
        BaseType.BYTES,
    ):
        return
    if s is BaseType.TIMESTAMP and d in (BaseType.DATE, BaseType.TIME):
        return
    if s is BaseType.DATE and d is BaseType.TIMESTAMP:
        return
    if s is d is BaseType.ARRAY:
        assert source.element is not None and target.element is not None
        check_cast(source.element, target.element, error)
        return
    if s is d is BaseType.MAP:
        assert (
            source.element is not None
            and target.element is not None
            and source.key is not None
            and target.key is not None
        )
        check_cast(source.key, target.key, error)
        check_cast(source.element, target.element, error)
        return
    if s is d is BaseType.STRUCT:
        for name, ft in target.fields:
            st = source.field(name)
            if st is not None:
                check_cast(st, ft, error)
        return
    raise error(f"Cast of {source} to {target} is not supported")


_SQLGLOT_NAMES = {
    "TEXT": "STRING",
    "VARCHAR": "STRING",
    "CHAR": "STRING",
    "NVARCHAR": "STRING",
    "INT": "INTEGER",
    "SMALLINT": "INTEGER",
    "TINYINT": "INTEGER",
    "FLOAT": "DOUBLE",
    "DOUBLE": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
    "BIGINT": "BIGINT",
    "DATE": "DATE",
    "TIME": "TIME",
    "TIMESTAMP": "TIMESTAMP",
    "BINARY": "BYTES",
    "VARBINARY": "BYTES",
}


def sqlglot_type_text(node: exp.DataType) -> str:
    """A sqlglot DataType written back as a ksqlDB type string (resolved by types.parse_type)."""
    kind = node.this
    name = kind.name if hasattr(kind, "name") else str(kind)
    if name == "USERDEFINED":
        return str(node.args.get("kind") or "")
    if name == "ARRAY":
        return f"ARRAY<{sqlglot_type_text(node.expressions[0])}>"
    if name == "MAP":
        return f"MAP<{sqlglot_type_text(node.expressions[0])}, {sqlglot_type_text(node.expressions[1])}>"
    if name == "STRUCT":
        parts = []
        for coldef in node.expressions:
            field_name = identifier_name(coldef.this)
            parts.append(f"`{field_name}` {sqlglot_type_text(coldef.args['kind'])}")
        return f"STRUCT<{', '.join(parts)}>"
    if name == "DECIMAL":
        params = [p.this.name for p in node.expressions] if node.expressions else ["38", "18"]
        if len(params) == 1:
            params.append("0")
        return f"DECIMAL({params[0]}, {params[1]})"
    return _SQLGLOT_NAMES.get(name, name)
