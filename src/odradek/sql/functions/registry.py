"""The function catalog: scalar, aggregate and table functions, built-in and user-defined.

A `FunctionRegistry` maps upper-case names to `FunctionEntry`s, each with overloads (a `Signature`
and an implementation). `resolve(name, arg_types)` picks the overload with the fewest implicit
widenings, or raises a `KsqlAnalysisError` listing the signatures that exist.

Implementations:

- scalar: a plain callable over Python values. With `null_propagating` (the default, as most ksqlDB
  functions) a NULL argument gives NULL without calling it.
- aggregate: a factory `(arg_types, literal_args) -> Udaf` where a `Udaf` has `initialize()`,
  `aggregate(value, agg)`, `merge(a, b)`, `map(agg)` and optionally `undo(value, agg)` (needed to
  aggregate a table, whose rows are retracted when they change). Aggregate state must be made of
  JSON-like values (None, bool, int, float, str, Decimal, dates, lists, str-keyed dicts): it is
  written to the changelog.
- table: a callable returning an iterable of values; each becomes one output row.

User-defined functions come from modules (see `decorators.py`): listed in the Python entry point
group `odradek.sql.functions`, or `.py` files in an extension directory. `reload()` imports them
again and replaces their entries; running queries keep the implementation they were built with.
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from odradek.sql.errors import KsqlAnalysisError
from odradek.sql.functions.signature import Binding, Signature, expand_params, match_param, result_type
from odradek.sql.types import SqlType

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "odradek.sql.functions"


class FunctionKind(enum.Enum):
    SCALAR = "SCALAR"
    AGGREGATE = "AGGREGATE"
    TABLE = "TABLE"


class Udaf(Protocol):
    def initialize(self) -> Any: ...

    def aggregate(self, value: Any, aggregate: Any) -> Any: ...

    def merge(self, a: Any, b: Any) -> Any: ...

    def map(self, aggregate: Any) -> Any: ...


@dataclass(frozen=True)
class Overload:
    signature: Signature
    impl: Callable[..., Any]
    null_propagating: bool = True
    literal_params: int = 0  # aggregates: trailing parameters that must be literals (TOPK's k)
    user_defined: bool = False


@dataclass
class FunctionEntry:
    name: str
    kind: FunctionKind
    description: str = ""
    overloads: list[Overload] = field(default_factory=list)
    source: str = "builtin"
    author: str = "odradek"
    version: str = ""


@dataclass(frozen=True)
class Resolved:
    entry: FunctionEntry
    overload: Overload
    binding: Binding
    return_type: SqlType


class FunctionRegistry:
    def __init__(self) -> None:
        self.functions: dict[str, FunctionEntry] = {}
        self.extension_dirs: list[Path] = []
        self._user_modules: dict[str, str] = {}  # module name -> source label

    def copy(self) -> FunctionRegistry:
        other = FunctionRegistry()
        other.functions = {
            k: FunctionEntry(v.name, v.kind, v.description, list(v.overloads), v.source, v.author, v.version)
            for k, v in self.functions.items()
        }
        other.extension_dirs = list(self.extension_dirs)
        other._user_modules = dict(self._user_modules)
        return other

    # -- registration ----------------------------------------------------------------------------------

    def add(
        self,
        name: str,
        kind: FunctionKind,
        overloads: Iterable[Overload],
        *,
        description: str = "",
        source: str = "builtin",
        author: str = "odradek",
        version: str = "",
    ) -> FunctionEntry:
        key = name.upper()
        entry = self.functions.get(key)
        if entry is None or entry.source != source:
            if entry is not None and entry.kind is not kind:
                raise ValueError(f"{key} is already a {entry.kind.value.lower()} function")
            entry = FunctionEntry(key, kind, description, [], source, author, version)
            self.functions[key] = entry
        entry.overloads.extend(overloads)
        if description and not entry.description:
            entry.description = description
        return entry

    def get(self, name: str) -> FunctionEntry | None:
        return self.functions.get(name.upper())

    def kind_of(self, name: str) -> FunctionKind | None:
        entry = self.functions.get(name.upper())
        return entry.kind if entry else None

    # -- resolution ------------------------------------------------------------------------------------

    def resolve(self, name: str, arg_types: list[SqlType]) -> Resolved:
        entry = self.functions.get(name.upper())
        if entry is None:
            raise KsqlAnalysisError(f"Can't find any functions with the name '{name.upper()}'")
        best: tuple[int, Overload, Binding] | None = None
        for overload in entry.overloads:
            params = expand_params(overload.signature, len(arg_types))
            if params is None:
                continue
            binding = Binding()
            if all(
                p.kind == "lambda" or match_param(p, a, binding)
                for p, a in zip(params, arg_types, strict=True)
            ) and (best is None or binding.cost < best[0]):
                best = (binding.cost, overload, binding)
        if best is None:
            shown = ", ".join(str(a) for a in arg_types)
            candidates = "\n".join(
                f"  {entry.name}({o.signature.text.rpartition('->')[0].strip()})" for o in entry.overloads
            )
            raise KsqlAnalysisError(
                f"Function '{entry.name}' does not accept parameters ({shown}).\nValid alternatives are:\n{candidates}"
            )
        _, overload, binding = best
        return Resolved(entry, overload, binding, result_type(overload.signature, binding, arg_types))

    # -- user-defined functions --------------------------------------------------------------------------

    def load_module(self, module: ModuleType, source: str | None = None) -> list[str]:
        """Register every function declared with @udf/@udaf/@udtf in `module`; their names."""
        from odradek.sql.functions.decorators import declared_in

        label = source or f"module {module.__name__}"
        names = []
        for key in [k for k, v in self.functions.items() if v.source == label]:
            del self.functions[key]
        for decl in declared_in(module):
            existing = self.functions.get(decl.name)
            if existing is not None and existing.source == "builtin":
                raise KsqlAnalysisError(f"{label}: {decl.name} would replace a built-in function")
            self.add(
                decl.name,
                decl.kind,
                decl.overloads,
                description=decl.description,
                source=label,
                author=decl.author,
                version=decl.version,
            )
            names.append(decl.name)
        self._user_modules[module.__name__] = label
        return names

    def load_entry_points(self) -> list[str]:
        names: list[str] = []
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                module = importlib.import_module(ep.value.split(":")[0])
                names += self.load_module(module, f"entry point {ep.name} ({module.__name__})")
            except Exception:
                log.exception("cannot load user-defined functions from entry point %s", ep.name)
        return names

    def load_directory(self, directory: Path) -> list[str]:
        """Every `*.py` file in `directory` (ksqlDB's extension directory, for Python)."""
        if directory not in self.extension_dirs:
            self.extension_dirs.append(directory)
        names: list[str] = []
        for path in sorted(directory.glob("*.py")):
            module_name = f"odradek_udf_{path.stem}"
            spec = importlib.util.spec_from_file_location(module_name, path)
            if spec is None or spec.loader is None:
                continue
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
            except Exception:
                log.exception("cannot load user-defined functions from %s", path)
                continue
            sys.modules[module_name] = module
            names += self.load_module(module, f"file {path}")
        return names

    def reload(self) -> list[str]:
        """Import every user-defined function module again (entry points and extension directories)."""
        for key in [k for k, v in self.functions.items() if v.source != "builtin"]:
            del self.functions[key]
        names: list[str] = []
        for module_name, label in list(self._user_modules.items()):
            if label.startswith("file "):
                continue
            module = sys.modules.get(module_name)
            if module is None:
                continue
            try:
                names += self.load_module(importlib.reload(module), label)
            except Exception:
                log.exception("cannot reload %s", module_name)
        seen = set(names)
        names += [n for n in self.load_entry_points() if n not in seen]
        for directory in list(self.extension_dirs):
            names += self.load_directory(directory)
        return names


_BUILTINS: list[FunctionRegistry] = []


def builtin_registry() -> FunctionRegistry:
    """The built-in functions (a fresh copy each call, so user functions never leak across servers)."""
    if not _BUILTINS:
        from odradek.sql.functions import builtins

        registry = FunctionRegistry()
        builtins.register_all(registry)
        _BUILTINS.append(registry)
    return _BUILTINS[0].copy()
