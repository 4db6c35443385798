"""ksqlDB's SQL types and their Python values.

| SQL type            | Python value inside a query      | JSON (value format JSON)              |
|---------------------|----------------------------------|---------------------------------------|
| BOOLEAN             | bool                             | true/false                            |
| INTEGER (INT)       | int (32-bit range)               | number                                |
| BIGINT              | int (64-bit range)               | number                                |
| DOUBLE              | float                            | number                                |
| DECIMAL(p, s)       | decimal.Decimal                  | number                                |
| STRING (VARCHAR)    | str                              | string                                |
| BYTES               | bytes                            | base64 string                         |
| DATE                | datetime.date                    | days since the epoch                  |
| TIME                | datetime.time                    | milliseconds of the day               |
| TIMESTAMP           | datetime.datetime (naive, UTC)   | milliseconds since the epoch          |
| ARRAY<T>            | list                             | array                                 |
| MAP<STRING, V>      | dict                             | object                                |
| STRUCT<f T, ...>    | dict (field name -> value)       | object                                |

`NULL` is `None` for every type. Types are immutable values; `str(t)` is ksqlDB's spelling
(`INTEGER`, `DECIMAL(10, 2)`, ``STRUCT<`A` STRING>``), which `DESCRIBE` and the REST schema strings use.
Numeric types widen implicitly INTEGER -> BIGINT -> DECIMAL -> DOUBLE.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class BaseType(enum.Enum):
    BOOLEAN = "BOOLEAN"
    INTEGER = "INTEGER"
    BIGINT = "BIGINT"
    DOUBLE = "DOUBLE"
    DECIMAL = "DECIMAL"
    STRING = "STRING"
    BYTES = "BYTES"
    DATE = "DATE"
    TIME = "TIME"
    TIMESTAMP = "TIMESTAMP"
    ARRAY = "ARRAY"
    MAP = "MAP"
    STRUCT = "STRUCT"
    # the type of a bare NULL literal and of lambda parameters before inference; never stored
    NULL = "NULL"


NUMERIC_ORDER = (BaseType.INTEGER, BaseType.BIGINT, BaseType.DECIMAL, BaseType.DOUBLE)
PRIMITIVES = frozenset(
    {
        BaseType.BOOLEAN,
        BaseType.INTEGER,
        BaseType.BIGINT,
        BaseType.DOUBLE,
        BaseType.STRING,
        BaseType.BYTES,
        BaseType.DATE,
        BaseType.TIME,
        BaseType.TIMESTAMP,
    }
)


@dataclass(frozen=True, slots=True)
class SqlType:
    base: BaseType
    precision: int = 0  # DECIMAL
    scale: int = 0  # DECIMAL
    element: SqlType | None = None  # ARRAY element, MAP value
    key: SqlType | None = None  # MAP key
    fields: tuple[tuple[str, SqlType], ...] = ()  # STRUCT

    def __str__(self) -> str:
        b = self.base
        if b is BaseType.DECIMAL:
            return f"DECIMAL({self.precision}, {self.scale})"
        if b is BaseType.ARRAY:
            return f"ARRAY<{self.element}>"
        if b is BaseType.MAP:
            return f"MAP<{self.key}, {self.element}>"
        if b is BaseType.STRUCT:
            inner = ", ".join(f"{quote_identifier(n)} {t}" for n, t in self.fields)
            return f"STRUCT<{inner}>"
        return str(b.value)

    @property
    def is_numeric(self) -> bool:
        return self.base in NUMERIC_ORDER

    @property
    def is_integral(self) -> bool:
        return self.base in (BaseType.INTEGER, BaseType.BIGINT)

    def field(self, name: str) -> SqlType | None:
        for n, t in self.fields:
            if n == name:
                return t
        return None


BOOLEAN = SqlType(BaseType.BOOLEAN)
INTEGER = SqlType(BaseType.INTEGER)
BIGINT = SqlType(BaseType.BIGINT)
DOUBLE = SqlType(BaseType.DOUBLE)
STRING = SqlType(BaseType.STRING)
BYTES = SqlType(BaseType.BYTES)
DATE = SqlType(BaseType.DATE)
TIME = SqlType(BaseType.TIME)
TIMESTAMP = SqlType(BaseType.TIMESTAMP)
NULL = SqlType(BaseType.NULL)


def decimal(precision: int, scale: int) -> SqlType:
    return SqlType(BaseType.DECIMAL, precision=precision, scale=scale)


def array(element: SqlType) -> SqlType:
    return SqlType(BaseType.ARRAY, element=element)


def map_of(key: SqlType, value: SqlType) -> SqlType:
    return SqlType(BaseType.MAP, key=key, element=value)


def struct(fields: list[tuple[str, SqlType]] | tuple[tuple[str, SqlType], ...]) -> SqlType:
    return SqlType(BaseType.STRUCT, fields=tuple(fields))


# the decimal each integral type widens to (ksqlDB: INT -> DECIMAL(10, 0), BIGINT -> DECIMAL(19, 0))
_INTEGRAL_AS_DECIMAL = {BaseType.INTEGER: decimal(10, 0), BaseType.BIGINT: decimal(19, 0)}


def as_decimal(t: SqlType) -> SqlType:
    if t.base is BaseType.DECIMAL:
        return t
    return _INTEGRAL_AS_DECIMAL[t.base]


def widest_numeric(a: SqlType, b: SqlType) -> SqlType:
    """The type both numeric operands widen to (for comparisons, COALESCE, CASE branches)."""
    ia, ib = NUMERIC_ORDER.index(a.base), NUMERIC_ORDER.index(b.base)
    if a.base is BaseType.DECIMAL or b.base is BaseType.DECIMAL:
        if BaseType.DOUBLE in (a.base, b.base):
            return DOUBLE
        da, db = as_decimal(a), as_decimal(b)
        scale = max(da.scale, db.scale)
        whole = max(da.precision - da.scale, db.precision - db.scale)
        return decimal(min(whole + scale, 38), scale)
    return a if ia >= ib else b


def common_type(a: SqlType, b: SqlType) -> SqlType | None:
    """The type two values must share (CASE branches, COALESCE, IN lists, array elements), or None."""
    if a.base is BaseType.NULL:
        return b
    if b.base is BaseType.NULL or a == b:
        return a
    if a.is_numeric and b.is_numeric:
        return widest_numeric(a, b)
    if a.base is b.base is BaseType.ARRAY:
        assert a.element is not None and b.element is not None
        inner = common_type(a.element, b.element)
        return array(inner) if inner else None
    if a.base is b.base is BaseType.MAP:
        assert a.element is not None and b.element is not None and a.key is not None and b.key is not None
        k, v = common_type(a.key, b.key), common_type(a.element, b.element)
        return map_of(k, v) if k and v else None
    return None


def can_assign(source: SqlType, target: SqlType) -> bool:
    """Whether a value of `source` may be used where `target` is expected (implicit widening only)."""
    if source.base is BaseType.NULL or source == target:
        return True
    if source.is_numeric and target.is_numeric:
        return NUMERIC_ORDER.index(source.base) <= NUMERIC_ORDER.index(target.base)
    if source.base is target.base is BaseType.ARRAY:
        assert source.element is not None and target.element is not None
        return can_assign(source.element, target.element)
    if source.base is target.base is BaseType.MAP:
        assert source.element is not None and target.element is not None
        assert source.key is not None and target.key is not None
        return can_assign(source.key, target.key) and can_assign(source.element, target.element)
    if source.base is target.base is BaseType.STRUCT:
        return all(
            (ft := target.field(n)) is not None and can_assign(t, ft) for n, t in source.fields
        ) and len(source.fields) == len(target.fields)
    return False


_SIMPLE_NAMES = {
    "BOOLEAN": BOOLEAN,
    "BOOL": BOOLEAN,
    "INT": INTEGER,
    "INTEGER": INTEGER,
    "BIGINT": BIGINT,
    "DOUBLE": DOUBLE,
    "STRING": STRING,
    "VARCHAR": STRING,
    "BYTES": BYTES,
    "DATE": DATE,
    "TIME": TIME,
    "TIMESTAMP": TIMESTAMP,
}


def simple_type(name: str) -> SqlType | None:
    """A primitive type by any of its ksqlDB names (INT, INTEGER, VARCHAR, STRING, ...)."""
    return _SIMPLE_NAMES.get(name.upper())


def quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


# -- parsing type strings ("ARRAY<STRUCT<`A` INT>>"), used by UDF declarations and the command topic --


def parse_type(text: str, custom: dict[str, SqlType] | None = None) -> SqlType:
    """A type from its ksqlDB spelling. Raises ValueError naming what was wrong."""
    parser = _TypeText(text, custom or {})
    result = parser.type()
    parser.skip()
    if parser.i != len(text):
        raise ValueError(f"unexpected {text[parser.i :]!r} after type {result} in {text!r}")
    return result


class _TypeText:
    def __init__(self, text: str, custom: dict[str, SqlType]) -> None:
        self.text, self.i, self.custom = text, 0, custom

    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def expect(self, ch: str) -> None:
        self.skip()
        if not self.text.startswith(ch, self.i):
            raise ValueError(f"expected {ch!r} at {self.i} in type {self.text!r}")
        self.i += 1

    def peek(self, ch: str) -> bool:
        self.skip()
        return self.text.startswith(ch, self.i)

    def word(self) -> str:
        return self.name()[0]

    def name(self) -> tuple[str, bool]:
        """A name and whether it was quoted."""
        self.skip()
        if self.i < len(self.text) and self.text[self.i] == "`":
            end = self.i + 1
            out = []
            while True:
                nxt = self.text.index("`", end)
                out.append(self.text[end:nxt])
                if self.text.startswith("``", nxt):
                    out.append("`")
                    end = nxt + 2
                    continue
                self.i = nxt + 1
                return "".join(out), True
        start = self.i
        while self.i < len(self.text) and (self.text[self.i].isalnum() or self.text[self.i] == "_"):
            self.i += 1
        if start == self.i:
            raise ValueError(f"expected a name at {start} in type {self.text!r}")
        return self.text[start : self.i], False

    def number(self) -> int:
        self.skip()
        start = self.i
        while self.i < len(self.text) and self.text[self.i].isdigit():
            self.i += 1
        return int(self.text[start : self.i])

    def type(self) -> SqlType:
        name = self.word().upper()
        if name == "ARRAY":
            self.expect("<")
            inner = self.type()
            self.expect(">")
            return array(inner)
        if name == "MAP":
            self.expect("<")
            k = self.type()
            self.expect(",")
            v = self.type()
            self.expect(">")
            return map_of(k, v)
        if name == "STRUCT":
            self.expect("<")
            fields: list[tuple[str, SqlType]] = []
            while not self.peek(">"):
                field_name, quoted = self.name()
                fields.append((field_name if quoted else field_name.upper(), self.type()))
                if not self.peek(">"):
                    self.expect(",")
            self.expect(">")
            return struct(fields)
        if name == "DECIMAL":
            self.expect("(")
            p = self.number()
            self.expect(",")
            s = self.number()
            self.expect(")")
            return decimal(p, s)
        simple = simple_type(name)
        if simple is not None:
            return simple
        if name in self.custom:
            return self.custom[name]
        raise ValueError(f"unknown type {name}")
