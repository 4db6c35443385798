"""Array, map, lambda and NULL functions. Lambda arguments arrive as Python callables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from odradek.sql import types as t
from odradek.sql.functions.builtins import Builtins
from odradek.sql.types import SqlType

FUNCTIONS = Builtins()
fn = FUNCTIONS.scalar


def _sort_key(v: Any) -> tuple[bool, Any]:
    return (v is None, v)


@fn(
    "ARRAY_CONTAINS",
    "ARRAY<T>, T -> BOOLEAN",
    null_propagating=False,
    description="Whether the array holds the value.",
)
def array_contains(arr: list[Any] | None, value: Any) -> bool:
    return arr is not None and value in arr


@fn(
    "ARRAY_CONCAT",
    "ARRAY<T>, ARRAY<T> -> ARRAY<T>",
    null_propagating=False,
    description="The two arrays one after the other (NULL only if both are).",
)
def array_concat(a: list[Any] | None, b: list[Any] | None) -> list[Any] | None:
    if a is None and b is None:
        return None
    return (a or []) + (b or [])


@fn(
    "ARRAY_DISTINCT",
    "ARRAY<T> -> ARRAY<T>",
    description="The array without duplicates, first occurrences kept in order.",
)
def array_distinct(a: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in a:
        if v not in out:
            out.append(v)
    return out


@fn(
    "ARRAY_EXCEPT",
    "ARRAY<T>, ARRAY<T> -> ARRAY<T>",
    description="The distinct elements of the first array not in the second.",
)
def array_except(a: list[Any], b: list[Any]) -> list[Any]:
    return [v for v in array_distinct(a) if v not in b]


@fn("ARRAY_INTERSECT", "ARRAY<T>, ARRAY<T> -> ARRAY<T>", description="The distinct elements in both arrays.")
def array_intersect(a: list[Any], b: list[Any]) -> list[Any]:
    return [v for v in array_distinct(a) if v in b]


@fn("ARRAY_UNION", "ARRAY<T>, ARRAY<T> -> ARRAY<T>", description="The distinct elements of either array.")
def array_union(a: list[Any], b: list[Any]) -> list[Any]:
    return array_distinct(a + b)


@fn(
    "ARRAY_JOIN",
    "ARRAY<ANY> -> STRING",
    "ARRAY<ANY>, STRING -> STRING",
    description="The elements as strings joined by a delimiter (',' by default).",
)
def array_join(a: list[Any], delimiter: str = ",") -> str:
    return delimiter.join(
        "null" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for v in a
    )


@fn("ARRAY_LENGTH", "ARRAY<ANY> -> INT", description="The number of elements.")
def array_length(a: list[Any]) -> int:
    return len(a)


@fn("ARRAY_MAX", "ARRAY<T> -> T", description="The largest non-NULL element.")
def array_max(a: list[Any]) -> Any:
    values = [v for v in a if v is not None]
    return max(values) if values else None


@fn("ARRAY_MIN", "ARRAY<T> -> T", description="The smallest non-NULL element.")
def array_min(a: list[Any]) -> Any:
    values = [v for v in a if v is not None]
    return min(values) if values else None


@fn(
    "ARRAY_REMOVE",
    "ARRAY<T>, T -> ARRAY<T>",
    null_propagating=False,
    description="The array without any element equal to the value.",
)
def array_remove(a: list[Any] | None, value: Any) -> list[Any] | None:
    return None if a is None else [v for v in a if v != value]


@fn(
    "ARRAY_SORT",
    "ARRAY<T> -> ARRAY<T>",
    "ARRAY<T>, STRING -> ARRAY<T>",
    description="The array sorted ASC (default) or DESC, NULLs last.",
)
def array_sort(a: list[Any], direction: str = "ASC") -> list[Any]:
    values = sorted((v for v in a if v is not None), reverse=direction.upper() == "DESC")
    return values + [None] * (len(a) - len(values))


@fn(
    "SLICE",
    "ARRAY<T>, INT, INT -> ARRAY<T>",
    description="The elements from position to position (1-based, inclusive).",
)
def slice_(a: list[Any], start: int, end: int) -> list[Any]:
    return a[max(start - 1, 0) : end]


@fn(
    "ARRAY_POSITION",
    "ARRAY<T>, T -> INT",
    description="The 1-based position of the value in the array, 0 if absent.",
)
def array_position(a: list[Any], value: Any) -> int:
    return a.index(value) + 1 if value in a else 0


@fn(
    "GENERATE_SERIES",
    "INT, INT -> ARRAY<INT>",
    "INT, INT, INT -> ARRAY<INT>",
    "BIGINT, BIGINT -> ARRAY<BIGINT>",
    "BIGINT, BIGINT, INT -> ARRAY<BIGINT>",
    description="The integers from start to end inclusive, by a step.",
)
def generate_series(start: int, end: int, step: int | None = None) -> list[int]:
    step = step or (1 if end >= start else -1)
    if (end - start) * step < 0:
        raise ValueError("GENERATE_SERIES step has the wrong sign for the range")
    return list(range(start, end + (1 if step > 0 else -1), step))


@fn(
    "AS_MAP",
    "ARRAY<STRING>, ARRAY<T> -> MAP<STRING, T>",
    description="A map from an array of keys and an array of values.",
)
def as_map(keys: list[str], values: list[Any]) -> dict[str, Any]:
    return dict(zip(keys, values, strict=False))


@fn("MAP_KEYS", "MAP<K, V> -> ARRAY<K>", description="The keys of the map.")
def map_keys(m: dict[Any, Any]) -> list[Any]:
    return list(m)


@fn("MAP_VALUES", "MAP<K, V> -> ARRAY<V>", description="The values of the map.")
def map_values(m: dict[Any, Any]) -> list[Any]:
    return list(m.values())


@fn(
    "MAP_UNION",
    "MAP<K, V>, MAP<K, V> -> MAP<K, V>",
    null_propagating=False,
    description="The entries of both maps; the second wins on equal keys.",
)
def map_union(a: dict[Any, Any] | None, b: dict[Any, Any] | None) -> dict[Any, Any] | None:
    if a is None and b is None:
        return None
    return {**(a or {}), **(b or {})}


def _entries_type(args: list[SqlType]) -> SqlType:
    value = args[0].element or t.STRING
    return t.array(t.struct([("K", t.STRING), ("V", value)]))


@fn(
    "ENTRIES",
    "MAP<STRING, ANY>, BOOLEAN -> ANY",
    returns=_entries_type,
    description="The map's entries as structs {K, V}, sorted by key if asked.",
)
def entries(m: dict[str, Any], sort: bool) -> list[dict[str, Any]]:
    keys = sorted(m) if sort else list(m)
    return [{"K": k, "V": m[k]} for k in keys]


@fn("TRANSFORM", "ARRAY<T>, (T) => U -> ARRAY<U>", description="Each element mapped by a lambda.")
def transform_array(a: list[Any], f: Callable[[Any], Any]) -> list[Any]:
    return [f(v) for v in a]


@fn(
    "TRANSFORM",
    "MAP<K, V>, (K, V) => A, (K, V) => B -> MAP<A, B>",
    description="Each entry's key and value mapped by lambdas.",
)
def transform_map(
    m: dict[Any, Any], fk: Callable[[Any, Any], Any], fv: Callable[[Any, Any], Any]
) -> dict[Any, Any]:
    return {fk(k, v): fv(k, v) for k, v in m.items()}


@fn(
    "FILTER", "ARRAY<T>, (T) => BOOLEAN -> ARRAY<T>", description="The elements for which the lambda is true."
)
def filter_array(a: list[Any], f: Callable[[Any], Any]) -> list[Any]:
    return [v for v in a if f(v)]


@fn(
    "FILTER",
    "MAP<K, V>, (K, V) => BOOLEAN -> MAP<K, V>",
    description="The entries for which the lambda is true.",
)
def filter_map(m: dict[Any, Any], f: Callable[[Any, Any], Any]) -> dict[Any, Any]:
    return {k: v for k, v in m.items() if f(k, v)}


@fn(
    "REDUCE",
    "ARRAY<T>, S, (S, T) => S -> S",
    description="The array folded into a state by a lambda, from an initial state.",
)
def reduce_array(a: list[Any], state: Any, f: Callable[[Any, Any], Any]) -> Any:
    for v in a:
        state = f(state, v)
    return state


@fn(
    "REDUCE",
    "MAP<K, V>, S, (S, K, V) => S -> S",
    description="The map folded into a state by a lambda, from an initial state.",
)
def reduce_map(m: dict[Any, Any], state: Any, f: Callable[[Any, Any, Any], Any]) -> Any:
    for k, v in m.items():
        state = f(state, k, v)
    return state


# -- NULLs --------------------------------------------------------------------------------------------


@fn(
    "AS_VALUE",
    "T -> T",
    null_propagating=False,
    description="The argument as a value column (copies a key column into the value).",
)
def as_value(x: Any) -> Any:
    return x


@fn("COALESCE", "T, ...T -> T", null_propagating=False, description="The first non-NULL argument.")
def coalesce(*xs: Any) -> Any:
    for x in xs:
        if x is not None:
            return x
    return None


@fn(
    "IFNULL",
    "T, T -> T",
    null_propagating=False,
    description="The first argument, or the second if the first is NULL.",
)
def ifnull(x: Any, other: Any) -> Any:
    return other if x is None else x


@fn(
    "NULLIF",
    "T, T -> T",
    null_propagating=False,
    description="NULL if the arguments are equal, else the first.",
)
def nullif(x: Any, other: Any) -> Any:
    return None if x == other else x
