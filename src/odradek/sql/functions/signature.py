"""Function signatures: parameter patterns with generics, matched against argument types.

A signature is written as text, e.g.

    "STRING, INT, INT -> STRING"          SUBSTRING
    "ARRAY<T>, T -> BOOLEAN"              ARRAY_CONTAINS (T binds to the element type)
    "ARRAY<T>, (T) => U -> ARRAY<U>"      TRANSFORM (a lambda from T to U)
    "...STRING -> STRING"                 CONCAT (variadic: zero or more STRINGs)
    "DECIMAL -> $0"                       ABS over decimals (returns argument 0's type)
    "NUMBER, NUMBER -> DOUBLE"            any numeric

Pattern words: a concrete type (INT, BIGINT, STRING, DECIMAL(p,s) ...), `DECIMAL` (any decimal),
`NUMBER` (any numeric), `STRUCT` (any struct), `ANY` (anything, unbound), or a single capital letter
(a generic: the first argument binds it, later ones must agree, numeric ones widen). A concrete numeric
parameter accepts narrower numerics (INT where BIGINT is asked); each widening costs a point, and the
signature with the fewest points wins, as ksqlDB picks the closest overload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from odradek.sql import types as t
from odradek.sql.types import BaseType, SqlType


@dataclass(frozen=True)
class Pattern:
    kind: str  # "type" | "var" | "any" | "decimal" | "number" | "struct" | "array" | "map" | "lambda"
    type: SqlType | None = None
    name: str = ""
    items: tuple[Pattern, ...] = ()  # array: (element,), map: (key, value), lambda: (*params, result)

    def __str__(self) -> str:
        if self.kind == "type":
            return str(self.type)
        if self.kind == "var":
            return self.name
        if self.kind == "array":
            return f"ARRAY<{self.items[0]}>"
        if self.kind == "map":
            return f"MAP<{self.items[0]}, {self.items[1]}>"
        if self.kind == "lambda":
            params = ", ".join(str(p) for p in self.items[:-1])
            return f"({params}) => {self.items[-1]}"
        return self.kind.upper()


@dataclass(frozen=True)
class Signature:
    params: tuple[Pattern, ...]
    returns: Pattern | Callable[[list[SqlType]], SqlType]
    variadic: bool = False
    text: str = ""

    @property
    def lambda_positions(self) -> tuple[int, ...]:
        return tuple(i for i, p in enumerate(self.params) if p.kind == "lambda")

    def __str__(self) -> str:
        return self.text


@dataclass
class Binding:
    vars: dict[str, SqlType] = field(default_factory=dict)
    cost: int = 0


# -- parsing -------------------------------------------------------------------------------------------


def parse_signature(text: str, returns: Callable[[list[SqlType]], SqlType] | None = None) -> Signature:
    head, _, ret = text.rpartition("->")
    if not _:
        raise ValueError(f"signature {text!r} has no '->'")
    params_text = head.strip()
    parts = _split_top(params_text) if params_text else []
    variadic = False
    params = []
    for i, raw in enumerate(parts):
        part = raw.strip()
        if part.startswith("..."):
            if i != len(parts) - 1:
                raise ValueError(f"only the last parameter may be variadic in {text!r}")
            variadic = True
            part = part[3:]
        params.append(parse_pattern(part))
    result: Pattern | Callable[[list[SqlType]], SqlType] = returns or parse_pattern(ret.strip())
    return Signature(tuple(params), result, variadic, text)


def _split_top(text: str) -> list[str]:
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "<(":
            depth += 1
        elif ch in ">)" and not (ch == ">" and i and text[i - 1] == "="):
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def parse_pattern(text: str) -> Pattern:
    text = text.strip()
    if text.startswith("("):
        close = text.index(")")
        params = [parse_pattern(p) for p in _split_top(text[1:close]) if p.strip()]
        rest = text[close + 1 :].strip()
        if not rest.startswith("=>"):
            raise ValueError(f"lambda pattern {text!r} needs '=>'")
        return Pattern("lambda", items=(*params, parse_pattern(rest[2:])))
    upper = text.upper()
    if upper.startswith("$"):
        return Pattern("arg", name=upper[1:])
    if len(upper) == 1 and upper.isalpha():
        return Pattern("var", name=upper)
    if upper in ("ANY", "DECIMAL", "NUMBER", "STRUCT"):
        return Pattern(upper.lower())
    if upper.startswith("ARRAY<"):
        return Pattern("array", items=(parse_pattern(text[6:-1]),))
    if upper.startswith("MAP<"):
        k, v = _split_top(text[4:-1])
        return Pattern("map", items=(parse_pattern(k), parse_pattern(v)))
    return Pattern("type", type=t.parse_type(text))


# -- matching ------------------------------------------------------------------------------------------


def match_param(pattern: Pattern, arg: SqlType, binding: Binding) -> bool:
    """Whether `arg` fits `pattern`, extending `binding` (generics and widening cost)."""
    kind = pattern.kind
    if arg.base is BaseType.NULL:
        return kind != "lambda"
    if kind == "any":
        return True
    if kind == "type":
        assert pattern.type is not None
        if pattern.type == arg:
            return True
        if pattern.type.base is BaseType.DECIMAL and arg.base is BaseType.DECIMAL:
            return True
        if t.can_assign(arg, pattern.type):
            binding.cost += 1
            return True
        return False
    if kind == "decimal":
        if arg.base is BaseType.DECIMAL:
            return True
        if arg.is_integral:
            binding.cost += 1
            return True
        return False
    if kind == "number":
        return arg.is_numeric
    if kind == "struct":
        return arg.base is BaseType.STRUCT
    if kind == "var":
        bound = binding.vars.get(pattern.name)
        if bound is None or bound.base is BaseType.NULL:
            binding.vars[pattern.name] = arg
            return True
        if bound == arg:
            return True
        common = t.common_type(bound, arg)
        if common is None:
            return False
        binding.vars[pattern.name] = common
        binding.cost += 1
        return True
    if kind == "array":
        return (
            arg.base is BaseType.ARRAY
            and arg.element is not None
            and match_param(pattern.items[0], arg.element, binding)
        )
    if kind == "map":
        return (
            arg.base is BaseType.MAP
            and arg.key is not None
            and arg.element is not None
            and match_param(pattern.items[0], arg.key, binding)
            and match_param(pattern.items[1], arg.element, binding)
        )
    return False


def instantiate(pattern: Pattern, binding: Binding, args: list[SqlType]) -> SqlType:
    """The concrete type of `pattern` under `binding` (for results and lambda parameters)."""
    kind = pattern.kind
    if kind == "type":
        assert pattern.type is not None
        return pattern.type
    if kind == "var":
        return binding.vars.get(pattern.name, t.NULL)
    if kind == "arg":
        return args[int(pattern.name)]
    if kind == "array":
        return t.array(instantiate(pattern.items[0], binding, args))
    if kind == "map":
        return t.map_of(
            instantiate(pattern.items[0], binding, args), instantiate(pattern.items[1], binding, args)
        )
    if kind == "decimal":
        return next((a for a in args if a.base is BaseType.DECIMAL), t.decimal(38, 18))
    if kind == "number":
        nums = [a for a in args if a.is_numeric]
        out = nums[0] if nums else t.DOUBLE
        for a in nums[1:]:
            out = t.widest_numeric(out, a)
        return out
    raise ValueError(f"cannot instantiate {pattern}")


def expand_params(signature: Signature, count: int) -> list[Pattern] | None:
    """The parameter patterns for `count` arguments, or None if the arity does not fit."""
    params = list(signature.params)
    if signature.variadic:
        fixed = params[:-1]
        if count < len(fixed):
            return None
        return fixed + [params[-1]] * (count - len(fixed))
    return params if count == len(params) else None


def result_type(signature: Signature, binding: Binding, args: list[SqlType]) -> SqlType:
    if callable(signature.returns):
        return signature.returns(args)
    return instantiate(signature.returns, binding, args)


def describe(signature: Signature) -> dict[str, Any]:
    """For DESCRIBE FUNCTION: argument types and return type as strings."""
    args = [
        ("..." if signature.variadic and i == len(signature.params) - 1 else "") + str(p)
        for i, p in enumerate(signature.params)
    ]
    ret = "computed" if callable(signature.returns) else str(signature.returns)
    return {"arguments": args, "returnType": ret}
