"""ksqlDB's built-in functions, one module per family; `register_all` fills a registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from odradek.sql.functions.registry import FunctionKind, FunctionRegistry, Overload
from odradek.sql.functions.signature import parse_signature
from odradek.sql.types import SqlType

ReturnRule = Callable[[list[SqlType]], SqlType]
F = TypeVar("F", bound=Callable[..., Any])


class Builtins:
    """Collects one family's definitions; `register` adds them to a registry."""

    def __init__(self) -> None:
        self.defs: list[tuple[str, FunctionKind, list[Overload], str]] = []

    def _add(self, name: str, kind: FunctionKind, overloads: list[Overload], description: str) -> None:
        self.defs.append((name.upper(), kind, overloads, description))

    def scalar(
        self,
        names: str,
        *signatures: str,
        description: str = "",
        null_propagating: bool = True,
        returns: ReturnRule | None = None,
    ) -> Callable[[F], F]:
        """`names` may list aliases separated by '|' (LCASE|LOWER)."""

        def deco(fn: F) -> F:
            overloads = [Overload(parse_signature(s, returns), fn, null_propagating) for s in signatures]
            for name in names.split("|"):
                self._add(name, FunctionKind.SCALAR, overloads, description or (fn.__doc__ or "").strip())
            return fn

        return deco

    def aggregate(
        self,
        name: str,
        *signatures: str,
        description: str = "",
        literal_params: int = 0,
        returns: ReturnRule | None = None,
    ) -> Callable[[F], F]:
        def deco(factory: F) -> F:
            overloads = [
                Overload(parse_signature(s, returns), factory, False, literal_params) for s in signatures
            ]
            self._add(name, FunctionKind.AGGREGATE, overloads, description or (factory.__doc__ or "").strip())
            return factory

        return deco

    def table(self, name: str, *signatures: str, description: str = "") -> Callable[[F], F]:
        def deco(fn: F) -> F:
            overloads = [Overload(parse_signature(s), fn, True) for s in signatures]
            self._add(name, FunctionKind.TABLE, overloads, description or (fn.__doc__ or "").strip())
            return fn

        return deco

    def register(self, registry: FunctionRegistry) -> None:
        for name, kind, overloads, description in self.defs:
            registry.add(name, kind, overloads, description=description)


def register_all(registry: FunctionRegistry) -> None:
    from odradek.sql.functions import aggregates, tables
    from odradek.sql.functions.builtins import collections, encoding, numeric, strings, temporal

    for module in (strings, numeric, collections, temporal, encoding, aggregates, tables):
        module.FUNCTIONS.register(registry)
