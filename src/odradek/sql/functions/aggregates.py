"""ksqlDB's aggregate functions as UDAF objects (initialize / aggregate / merge / map / undo).

States are lists, numbers and str-keyed dicts so they serialize into the changelog. NULL inputs are
ignored (as in SQL) except by COUNT(*) and the *_BY_OFFSET functions told not to ignore them.
An aggregate with several column arguments (CORRELATION) receives them as one tuple.
"""

from __future__ import annotations

import math
from typing import Any

from odradek.sql import types as t
from odradek.sql.functions.builtins import Builtins
from odradek.sql.types import SqlType

FUNCTIONS = Builtins()
agg = FUNCTIONS.aggregate

COLLECT_LIMIT = 1000  # ksqlDB's ksql.functions.collect_list.limit / collect_set.limit default


class CountStar:
    def initialize(self) -> int:
        return 0

    def aggregate(self, value: Any, aggregate: int) -> int:
        return aggregate + 1

    def merge(self, a: int, b: int) -> int:
        return a + b

    def map(self, aggregate: int) -> int:
        return aggregate

    def undo(self, value: Any, aggregate: int) -> int:
        return aggregate - 1


class Count(CountStar):
    def aggregate(self, value: Any, aggregate: int) -> int:
        return aggregate if value is None else aggregate + 1

    def undo(self, value: Any, aggregate: int) -> int:
        return aggregate if value is None else aggregate - 1


@agg(
    "COUNT", " -> BIGINT", "ANY -> BIGINT", description="The number of rows (COUNT(*)) or of non-NULL values."
)
def count(arg_types: list[SqlType], literals: list[Any]) -> Any:
    return Count() if arg_types else CountStar()


class Sum:
    def __init__(self, zero: Any) -> None:
        self.zero = zero

    def initialize(self) -> Any:
        return self.zero

    def aggregate(self, value: Any, aggregate: Any) -> Any:
        return aggregate if value is None else aggregate + value

    def merge(self, a: Any, b: Any) -> Any:
        return a + b

    def map(self, aggregate: Any) -> Any:
        return aggregate

    def undo(self, value: Any, aggregate: Any) -> Any:
        return aggregate if value is None else aggregate - value


@agg(
    "SUM",
    "INT -> INT",
    "BIGINT -> BIGINT",
    "DOUBLE -> DOUBLE",
    "DECIMAL -> $0",
    description="The sum of the non-NULL values.",
)
def sum_(arg_types: list[SqlType], literals: list[Any]) -> Any:
    import decimal

    base = arg_types[0].base
    zero: Any = 0.0 if base is t.BaseType.DOUBLE else decimal.Decimal(0) if base is t.BaseType.DECIMAL else 0
    return Sum(zero)


class Avg:
    def initialize(self) -> list[Any]:
        return [0, 0]

    def aggregate(self, value: Any, aggregate: list[Any]) -> list[Any]:
        return aggregate if value is None else [aggregate[0] + value, aggregate[1] + 1]

    def merge(self, a: list[Any], b: list[Any]) -> list[Any]:
        return [a[0] + b[0], a[1] + b[1]]

    def map(self, aggregate: list[Any]) -> float | None:
        return float(aggregate[0]) / aggregate[1] if aggregate[1] else None

    def undo(self, value: Any, aggregate: list[Any]) -> list[Any]:
        return aggregate if value is None else [aggregate[0] - value, aggregate[1] - 1]


@agg("AVG", "NUMBER -> DOUBLE", description="The mean of the non-NULL values.")
def avg(arg_types: list[SqlType], literals: list[Any]) -> Any:
    return Avg()


class Extreme:
    def __init__(self, largest: bool) -> None:
        self.largest = largest

    def initialize(self) -> Any:
        return None

    def aggregate(self, value: Any, aggregate: Any) -> Any:
        if value is None:
            return aggregate
        if aggregate is None:
            return value
        return max(value, aggregate) if self.largest else min(value, aggregate)

    def merge(self, a: Any, b: Any) -> Any:
        return self.aggregate(b, a)

    def map(self, aggregate: Any) -> Any:
        return aggregate


_ORDERED = (
    "INT -> INT",
    "BIGINT -> BIGINT",
    "DOUBLE -> DOUBLE",
    "DECIMAL -> $0",
    "STRING -> STRING",
    "DATE -> DATE",
    "TIME -> TIME",
    "TIMESTAMP -> TIMESTAMP",
    "BYTES -> BYTES",
)


@agg("MAX", *_ORDERED, description="The largest non-NULL value.")
def max_(arg_types: list[SqlType], literals: list[Any]) -> Any:
    return Extreme(True)


@agg("MIN", *_ORDERED, description="The smallest non-NULL value.")
def min_(arg_types: list[SqlType], literals: list[Any]) -> Any:
    return Extreme(False)


class ByOffset:
    """The latest (or earliest) value(s) in offset order; with n, an array of up to n of them."""

    def __init__(self, latest: bool, n: int | None, ignore_nulls: bool) -> None:
        self.latest, self.n, self.ignore_nulls = latest, n, ignore_nulls

    def initialize(self) -> list[Any]:
        return []

    def aggregate(self, value: Any, aggregate: list[Any]) -> list[Any]:
        if value is None and self.ignore_nulls:
            return aggregate
        limit = self.n or 1
        if self.latest:
            return ([*aggregate, value])[-limit:]
        return aggregate if len(aggregate) >= limit else [*aggregate, value]

    def merge(self, a: list[Any], b: list[Any]) -> list[Any]:
        limit = self.n or 1
        both = a + b
        return both[-limit:] if self.latest else both[:limit]

    def map(self, aggregate: list[Any]) -> Any:
        if self.n is None:
            return aggregate[-1] if aggregate else None
        return list(aggregate)


def _by_offset(latest: bool) -> Any:
    def factory(arg_types: list[SqlType], literals: list[Any]) -> Any:
        n = literals[0] if literals else None
        ignore = literals[1] if len(literals) > 1 else True
        if n is not None and n < 1:
            raise ValueError("the number of values must be at least 1")
        return ByOffset(latest, n, ignore)

    return factory


agg("LATEST_BY_OFFSET", "T -> T", description="The value of the latest record (by offset); NULLs ignored.")(
    _by_offset(True)
)
agg(
    "LATEST_BY_OFFSET",
    "T, INT -> ARRAY<T>",
    literal_params=1,
    description="The values of the latest n records.",
)(_by_offset(True))
agg("LATEST_BY_OFFSET", "T, INT, BOOLEAN -> ARRAY<T>", literal_params=2)(_by_offset(True))
agg(
    "EARLIEST_BY_OFFSET", "T -> T", description="The value of the earliest record (by offset); NULLs ignored."
)(_by_offset(False))
agg(
    "EARLIEST_BY_OFFSET",
    "T, INT -> ARRAY<T>",
    literal_params=1,
    description="The values of the earliest n records.",
)(_by_offset(False))
agg("EARLIEST_BY_OFFSET", "T, INT, BOOLEAN -> ARRAY<T>", literal_params=2)(_by_offset(False))


class CollectList:
    def initialize(self) -> list[Any]:
        return []

    def aggregate(self, value: Any, aggregate: list[Any]) -> list[Any]:
        return aggregate if len(aggregate) >= COLLECT_LIMIT else [*aggregate, value]

    def merge(self, a: list[Any], b: list[Any]) -> list[Any]:
        return (a + b)[:COLLECT_LIMIT]

    def map(self, aggregate: list[Any]) -> list[Any]:
        return list(aggregate)

    def undo(self, value: Any, aggregate: list[Any]) -> list[Any]:
        if value in aggregate:
            out = list(aggregate)
            out.remove(value)
            return out
        return aggregate


@agg("COLLECT_LIST", "T -> ARRAY<T>", description="Every value, in arrival order (up to 1000).")
def collect_list(arg_types: list[SqlType], literals: list[Any]) -> Any:
    return CollectList()


class CollectSet(CollectList):
    def aggregate(self, value: Any, aggregate: list[Any]) -> list[Any]:
        if value in aggregate or len(aggregate) >= COLLECT_LIMIT:
            return aggregate
        return [*aggregate, value]

    def merge(self, a: list[Any], b: list[Any]) -> list[Any]:
        out = list(a)
        for v in b:
            out = self.aggregate(v, out)
        return out


@agg("COLLECT_SET", "T -> ARRAY<T>", description="The distinct values, in arrival order (up to 1000).")
def collect_set(arg_types: list[SqlType], literals: list[Any]) -> Any:
    return CollectSet()


class TopK:
    def __init__(self, k: int, distinct: bool) -> None:
        if k < 1:
            raise ValueError("TOPK needs k >= 1")
        self.k, self.distinct = k, distinct

    def initialize(self) -> list[Any]:
        return []

    def aggregate(self, value: Any, aggregate: list[Any]) -> list[Any]:
        if value is None or (self.distinct and value in aggregate):
            return aggregate
        return sorted([*aggregate, value], reverse=True)[: self.k]

    def merge(self, a: list[Any], b: list[Any]) -> list[Any]:
        both = a + [v for v in b if not (self.distinct and v in a)]
        return sorted(both, reverse=True)[: self.k]

    def map(self, aggregate: list[Any]) -> list[Any]:
        return list(aggregate)


@agg("TOPK", "T, INT -> ARRAY<T>", literal_params=1, description="The k largest values, largest first.")
def topk(arg_types: list[SqlType], literals: list[Any]) -> Any:
    return TopK(int(literals[0]), distinct=False)


@agg(
    "TOPKDISTINCT",
    "T, INT -> ARRAY<T>",
    literal_params=1,
    description="The k largest distinct values, largest first.",
)
def topkdistinct(arg_types: list[SqlType], literals: list[Any]) -> Any:
    return TopK(int(literals[0]), distinct=True)


class Histogram:
    def initialize(self) -> dict[str, int]:
        return {}

    def aggregate(self, value: Any, aggregate: dict[str, int]) -> dict[str, int]:
        if value is None or (value not in aggregate and len(aggregate) >= COLLECT_LIMIT):
            return aggregate
        return {**aggregate, value: aggregate.get(value, 0) + 1}

    def merge(self, a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
        out = dict(a)
        for k, v in b.items():
            out[k] = out.get(k, 0) + v
        return out

    def map(self, aggregate: dict[str, int]) -> dict[str, int]:
        return dict(aggregate)

    def undo(self, value: Any, aggregate: dict[str, int]) -> dict[str, int]:
        if value is None or value not in aggregate:
            return aggregate
        out = dict(aggregate)
        out[value] -= 1
        if out[value] <= 0:
            del out[value]
        return out


@agg(
    "HISTOGRAM",
    "STRING -> MAP<STRING, BIGINT>",
    description="How many times each value occurred (up to 1000 distinct values).",
)
def histogram(arg_types: list[SqlType], literals: list[Any]) -> Any:
    return Histogram()


class CountDistinct:
    """Exact distinct count (ksqlDB estimates with HyperLogLog; exact costs memory per distinct value)."""

    def initialize(self) -> list[Any]:
        return []

    def aggregate(self, value: Any, aggregate: list[Any]) -> list[Any]:
        if value is None or value in aggregate:
            return aggregate
        return [*aggregate, value]

    def merge(self, a: list[Any], b: list[Any]) -> list[Any]:
        return a + [v for v in b if v not in a]

    def map(self, aggregate: list[Any]) -> int:
        return len(aggregate)


@agg("COUNT_DISTINCT", "ANY -> BIGINT", description="The number of distinct non-NULL values.")
def count_distinct(arg_types: list[SqlType], literals: list[Any]) -> Any:
    return CountDistinct()


class Moments:
    """count, sum, sum of squares: standard deviations."""

    def __init__(self, sample: bool) -> None:
        self.sample = sample

    def initialize(self) -> list[float]:
        return [0, 0.0, 0.0]

    def aggregate(self, value: Any, aggregate: list[float]) -> list[float]:
        if value is None:
            return aggregate
        v = float(value)
        return [aggregate[0] + 1, aggregate[1] + v, aggregate[2] + v * v]

    def merge(self, a: list[float], b: list[float]) -> list[float]:
        return [a[0] + b[0], a[1] + b[1], a[2] + b[2]]

    def undo(self, value: Any, aggregate: list[float]) -> list[float]:
        if value is None:
            return aggregate
        v = float(value)
        return [aggregate[0] - 1, aggregate[1] - v, aggregate[2] - v * v]

    def map(self, aggregate: list[float]) -> float | None:
        n, s, ss = aggregate
        denominator = n - 1 if self.sample else n
        if denominator <= 0:
            return None
        return math.sqrt(max((ss - s * s / n) / denominator, 0.0))


@agg("STDDEV_SAMP", "NUMBER -> DOUBLE", description="The sample standard deviation.")
def stddev_samp(arg_types: list[SqlType], literals: list[Any]) -> Any:
    return Moments(sample=True)


@agg("STDDEV_POP", "NUMBER -> DOUBLE", description="The population standard deviation.")
def stddev_pop(arg_types: list[SqlType], literals: list[Any]) -> Any:
    return Moments(sample=False)


class Correlation:
    def initialize(self) -> list[float]:
        return [0, 0.0, 0.0, 0.0, 0.0, 0.0]  # n, sx, sy, sxx, syy, sxy

    def aggregate(self, value: Any, aggregate: list[float]) -> list[float]:
        x, y = value
        if x is None or y is None:
            return aggregate
        x, y = float(x), float(y)
        n, sx, sy, sxx, syy, sxy = aggregate
        return [n + 1, sx + x, sy + y, sxx + x * x, syy + y * y, sxy + x * y]

    def merge(self, a: list[float], b: list[float]) -> list[float]:
        return [p + q for p, q in zip(a, b, strict=True)]

    def map(self, aggregate: list[float]) -> float | None:
        n, sx, sy, sxx, syy, sxy = aggregate
        if n < 2:
            return None
        cov = sxy - sx * sy / n
        vx, vy = sxx - sx * sx / n, syy - sy * sy / n
        if vx <= 0 or vy <= 0:
            return None
        return cov / math.sqrt(vx * vy)


@agg("CORRELATION", "DOUBLE, DOUBLE -> DOUBLE", description="The Pearson correlation of two columns.")
def correlation(arg_types: list[SqlType], literals: list[Any]) -> Any:
    return Correlation()
