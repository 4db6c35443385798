"""Numeric functions. Decimals stay decimals (rounded half-up, as ksqlDB's BigDecimal)."""

from __future__ import annotations

import decimal
import math
import random

from odradek.sql import types as t
from odradek.sql.functions.builtins import Builtins
from odradek.sql.types import SqlType

FUNCTIONS = Builtins()
fn = FUNCTIONS.scalar

_NUM = ("INT -> INT", "BIGINT -> BIGINT", "DOUBLE -> DOUBLE", "DECIMAL -> $0")


@fn("ABS", *_NUM, description="The absolute value.")
def abs_(x: float) -> float:
    return abs(x)


@fn("SIGN", "INT -> INT", "BIGINT -> INT", "DOUBLE -> INT", "DECIMAL -> INT", description="-1, 0 or 1.")
def sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _integral_decimal(args: list[SqlType]) -> SqlType:
    a = args[0]
    return t.decimal(max(a.precision - a.scale + 1, 1), 0)


@fn(
    "CEIL",
    "INT -> INT",
    "BIGINT -> BIGINT",
    "DOUBLE -> DOUBLE",
    description="The smallest integral value not less than the argument.",
)
def ceil(x: float) -> float:
    return x if isinstance(x, int) else float(math.ceil(x))


@fn(
    "FLOOR",
    "INT -> INT",
    "BIGINT -> BIGINT",
    "DOUBLE -> DOUBLE",
    description="The largest integral value not greater than the argument.",
)
def floor(x: float) -> float:
    return x if isinstance(x, int) else float(math.floor(x))


@fn("CEIL", "DECIMAL -> DECIMAL", returns=_integral_decimal)
def ceil_decimal(x: decimal.Decimal) -> decimal.Decimal:
    return x.to_integral_value(rounding=decimal.ROUND_CEILING)


@fn("FLOOR", "DECIMAL -> DECIMAL", returns=_integral_decimal)
def floor_decimal(x: decimal.Decimal) -> decimal.Decimal:
    return x.to_integral_value(rounding=decimal.ROUND_FLOOR)


def _round_half_up(x: float, digits: int) -> float:
    q = decimal.Decimal(repr(x)).quantize(decimal.Decimal(1).scaleb(-digits), rounding=decimal.ROUND_HALF_UP)
    return float(q)


@fn(
    "ROUND",
    "INT -> INT",
    "BIGINT -> BIGINT",
    "DOUBLE -> BIGINT",
    "DOUBLE, INT -> DOUBLE",
    description="The value rounded half-up to an integer, or to n decimal places.",
)
def round_(x: float, digits: int | None = None) -> float:
    if isinstance(x, int) and digits is None:
        return x
    if digits is None:
        return int(decimal.Decimal(repr(x)).quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP))
    if math.isnan(x) or math.isinf(x):
        return x
    return _round_half_up(x, digits)


@fn("ROUND", "DECIMAL -> DECIMAL", returns=_integral_decimal)
def round_decimal(x: decimal.Decimal) -> decimal.Decimal:
    return x.quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP)


@fn("ROUND", "DECIMAL, INT -> $0")
def round_decimal_to(x: decimal.Decimal, digits: int) -> decimal.Decimal:
    return x.quantize(decimal.Decimal(1).scaleb(-digits), rounding=decimal.ROUND_HALF_UP)


@fn(
    "TRUNC",
    "INT -> INT",
    "BIGINT -> BIGINT",
    "DOUBLE -> BIGINT",
    "DOUBLE, INT -> DOUBLE",
    "DECIMAL -> $0",
    "DECIMAL, INT -> $0",
    description="The value truncated toward zero (to n decimal places).",
)
def trunc(x: float | decimal.Decimal, digits: int | None = None) -> float | int | decimal.Decimal:
    if isinstance(x, decimal.Decimal):
        return x.quantize(decimal.Decimal(1).scaleb(-(digits or 0)), rounding=decimal.ROUND_DOWN)
    if digits is None:
        return int(x)
    factor = 10.0**digits
    return math.trunc(x * factor) / factor


@fn("SQRT", "DOUBLE -> DOUBLE", description="The square root.")
def sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else math.nan


@fn("CBRT", "DOUBLE -> DOUBLE", description="The cube root.")
def cbrt(x: float) -> float:
    return math.copysign(abs(x) ** (1 / 3), x)


@fn("EXP", "DOUBLE -> DOUBLE", description="e raised to the argument.")
def exp(x: float) -> float:
    return math.exp(x)


@fn("LN", "DOUBLE -> DOUBLE", description="The natural logarithm.")
def ln(x: float) -> float:
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


@fn(
    "LOG",
    "DOUBLE -> DOUBLE",
    "DOUBLE, DOUBLE -> DOUBLE",
    description="The base-10 logarithm, or LOG(base, value).",
)
def log(a: float, b: float | None = None) -> float:
    if b is None:
        return math.log10(a) if a > 0 else math.nan
    return math.log(b, a) if a > 0 and b > 0 and a != 1 else math.nan


@fn("POWER", "DOUBLE, DOUBLE -> DOUBLE", description="The first argument raised to the second.")
def power(x: float, y: float) -> float:
    try:
        return float(math.pow(x, y))
    except (ValueError, OverflowError):
        return math.nan


@fn("RADIANS", "DOUBLE -> DOUBLE", description="Degrees converted to radians.")
def radians(x: float) -> float:
    return math.radians(x)


@fn("DEGREES", "DOUBLE -> DOUBLE", description="Radians converted to degrees.")
def degrees(x: float) -> float:
    return math.degrees(x)


@fn("PI", " -> DOUBLE", description="The constant pi.")
def pi() -> float:
    return math.pi


@fn("RANDOM", " -> DOUBLE", description="A random number in [0, 1).")
def random_() -> float:
    return random.random()


for _name, _f in (
    ("SIN", math.sin),
    ("COS", math.cos),
    ("TAN", math.tan),
    ("ASIN", math.asin),
    ("ACOS", math.acos),
    ("ATAN", math.atan),
    ("SINH", math.sinh),
    ("COSH", math.cosh),
    ("TANH", math.tanh),
):

    def _trig(x: float, _f=_f) -> float:  # type: ignore[no-untyped-def]
        try:
            return float(_f(x))
        except ValueError:
            return math.nan

    fn(_name, "DOUBLE -> DOUBLE", description=f"The {_name.lower()} of the argument.")(_trig)


@fn("ATAN2", "DOUBLE, DOUBLE -> DOUBLE", description="The angle of the point (x, y): ATAN2(y, x).")
def atan2(y: float, x: float) -> float:
    return math.atan2(y, x)


@fn("GREATEST", "T, ...T -> T", null_propagating=False, description="The largest non-NULL argument.")
def greatest(*xs: float | None) -> float | None:
    values = [x for x in xs if x is not None]
    return max(values) if values else None


@fn("LEAST", "T, ...T -> T", null_propagating=False, description="The smallest non-NULL argument.")
def least(*xs: float | None) -> float | None:
    values = [x for x in xs if x is not None]
    return min(values) if values else None


_EARTH_RADIUS = {"KM": 6371.0, "MILES": 3959.0, "MI": 3959.0}


@fn(
    "GEO_DISTANCE",
    "DOUBLE, DOUBLE, DOUBLE, DOUBLE -> DOUBLE",
    "DOUBLE, DOUBLE, DOUBLE, DOUBLE, STRING -> DOUBLE",
    description="The great-circle distance between two (lat, lon) points, in KM (default) or MILES.",
)
def geo_distance(lat1: float, lon1: float, lat2: float, lon2: float, unit: str = "KM") -> float:
    radius = _EARTH_RADIUS.get(unit.upper())
    if radius is None:
        raise ValueError(f"GEO_DISTANCE unit must be KM or MILES, not {unit}")
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))
