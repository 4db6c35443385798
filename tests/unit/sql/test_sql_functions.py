"""Built-in functions and expression semantics, evaluated end to end (parse, type, generate, run)."""

from __future__ import annotations

import datetime
import decimal
import math
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from sql_eval import evaluate, type_of

from odradek.sql import types as t
from odradek.sql.errors import KsqlAnalysisError

D = decimal.Decimal
TS = datetime.datetime(2021, 3, 4, 5, 6, 7, 890000)

CASES: list[tuple[str, Any]] = [
    # strings
    ("UCASE('abc')", "ABC"),
    ("LCASE('AbC')", "abc"),
    ("INITCAP('hello wORLD')", "Hello World"),
    ("LEN('hello')", 5),
    ("SUBSTRING('hello', 2)", "ello"),
    ("SUBSTRING('hello', 2, 3)", "ell"),
    ("SUBSTRING('hello', -3)", "llo"),
    ("INSTR('corporate floor', 'or')", 2),
    ("INSTR('corporate floor', 'or', 3)", 5),
    ("INSTR('corporate floor', 'or', 3, 2)", 14),
    ("INSTR('corporate floor', 'or', -3, 2)", 2),
    ("INSTR('abc', 'z')", 0),
    ("CONCAT('a', NULL, 'b')", "ab"),
    ("CONCAT_WS('-', 'a', NULL, 'b')", "a-b"),
    ("REPLACE('aXbX', 'X', 'y')", "ayby"),
    ("SPLIT('a,b,,c', ',')", ["a", "b", "", "c"]),
    ("SPLIT('abc', '')", ["a", "b", "c"]),
    ("SPLIT_TO_MAP('a=1;b=2', ';', '=')", {"a": "1", "b": "2"}),
    ("LPAD('ab', 5, 'xy')", "xyxab"),
    ("RPAD('ab', 5, 'xy')", "abxyx"),
    ("LPAD('abcdef', 3, 'x')", "abc"),
    ("TRIM('  a b  ')", "a b"),
    ("MASK('AbC-12')", "XxX-nn"),
    ("MASK_LEFT('AbC-12', 2)", "XxC-12"),
    ("MASK_RIGHT('AbC-12', 2, '*', '*', '#', '*')", "AbC-##"),
    ("MASK_KEEP_LEFT('AbC-12', 2)", "AbX-nn"),
    ("MASK_KEEP_RIGHT('AbC-12', 2)", "XxX-12"),
    ("REGEXP_EXTRACT('a1b22', '[0-9]+')", "1"),
    ("REGEXP_EXTRACT('a1b22', '([a-z])([0-9]+)', 2)", "1"),
    ("REGEXP_EXTRACT_ALL('a1b22', '[0-9]+')", ["1", "22"]),
    ("REGEXP_REPLACE('a1b22', '[0-9]', '#')", "a#b##"),
    ("REGEXP_SPLIT_TO_ARRAY('a1b22c', '[0-9]+')", ["a", "b", "c"]),
    ("CHR(65)", "A"),
    ("ELT(2, 'a', 'b', 'c')", "b"),
    ("ELT(5, 'a')", None),
    ("FIELD('b', 'a', 'b')", 2),
    ("UCASE(NULL)", None),
    ("'a' || 'b'", "ab"),
    ("'a' + 'b'", "ab"),
    # numbers
    ("ABS(-3)", 3),
    ("ABS(-2.5)", D("2.5")),
    ("CEIL(1.2E0)", 2.0),
    ("FLOOR(-1.2E0)", -2.0),
    ("ROUND(2.5E0)", 3),
    ("ROUND(-2.5E0)", -3),
    ("ROUND(1.2345E0, 2)", 1.23),
    ("ROUND(1.25, 1)", D("1.3")),
    ("TRUNC(1.99E0)", 1),
    ("SIGN(-5)", -1),
    ("SQRT(16.0E0)", 4.0),
    ("POWER(2.0E0, 10.0E0)", 1024.0),
    ("LN(1.0E0)", 0.0),
    ("GREATEST(1, 5, 3)", 5),
    ("LEAST(4, NULL, 2)", 2),
    ("7 / 2", 3),
    ("-7 / 2", -3),
    ("7 % 3", 1),
    ("-7 % 3", -1),
    ("7 / 0", None),
    ("1.0E0 / 0.0E0", math.inf),
    ("1.5 + 1.25", D("2.75")),
    ("2 * 3.5E0", 7.0),
    ("1 + NULL", None),
    # collections
    ("ARRAY_CONTAINS(ARRAY[1, 2], 2)", True),
    ("ARRAY_DISTINCT(ARRAY[1, 2, 1, 3])", [1, 2, 3]),
    ("ARRAY_EXCEPT(ARRAY[1, 2, 3], ARRAY[2])", [1, 3]),
    ("ARRAY_INTERSECT(ARRAY[1, 2, 3], ARRAY[3, 2, 9])", [2, 3]),
    ("ARRAY_UNION(ARRAY[1, 2], ARRAY[2, 3])", [1, 2, 3]),
    ("ARRAY_JOIN(ARRAY[1, 2, 3], '-')", "1-2-3"),
    ("ARRAY_LENGTH(ARRAY['a', 'b'])", 2),
    ("ARRAY_MAX(ARRAY[3, 9, 1])", 9),
    ("ARRAY_MIN(ARRAY[3, 9, 1])", 1),
    ("ARRAY_REMOVE(ARRAY[1, 2, 1], 1)", [2]),
    ("ARRAY_SORT(ARRAY[3, 1, 2])", [1, 2, 3]),
    ("ARRAY_SORT(ARRAY[3, 1, 2], 'DESC')", [3, 2, 1]),
    ("SLICE(ARRAY[1, 2, 3, 4], 2, 3)", [2, 3]),
    ("GENERATE_SERIES(1, 7, 3)", [1, 4, 7]),
    ("ARRAY[10, 20, 30][1]", 10),
    ("ARRAY[10, 20, 30][-1]", 30),
    ("ARRAY[10, 20, 30][4]", None),
    ("MAP('a' := 1)['a']", 1),
    ("MAP_KEYS(MAP('a' := 1, 'b' := 2))", ["a", "b"]),
    ("MAP_VALUES(MAP('a' := 1, 'b' := 2))", [1, 2]),
    ("MAP_UNION(MAP('a' := 1), MAP('a' := 2, 'b' := 3))", {"a": 2, "b": 3}),
    ("AS_MAP(ARRAY['a', 'b'], ARRAY[1, 2])", {"a": 1, "b": 2}),
    ("ENTRIES(MAP('b' := 1, 'a' := 2), true)", [{"K": "a", "V": 2}, {"K": "b", "V": 1}]),
    ("TRANSFORM(ARRAY[1, 2], x => x * 10)", [10, 20]),
    ("TRANSFORM(MAP('a' := 1), (k, v) => UCASE(k), (k, v) => v + 1)", {"A": 2}),
    ("FILTER(ARRAY[1, 2, 3, 4], x => x % 2 = 0)", [2, 4]),
    ("FILTER(MAP('a' := 1, 'b' := 2), (k, v) => v > 1)", {"b": 2}),
    ("REDUCE(ARRAY[1, 2, 3], 0, (s, x) => s + x)", 6),
    ("REDUCE(MAP('a' := 1, 'b' := 2), '', (s, k, v) => s + k)", "ab"),
    ("STRUCT(a := 1, b := 'x')->B", "x"),
    ("COALESCE(NULL, NULL, 3)", 3),
    ("IFNULL(NULL, 'd')", "d"),
    ("NULLIF(1, 1)", None),
    ("AS_VALUE(5)", 5),
    # logic and comparison (three-valued)
    ("NULL AND FALSE", False),
    ("NULL AND TRUE", None),
    ("NULL OR TRUE", True),
    ("NULL OR FALSE", None),
    ("NOT NULL", None),
    ("1 = NULL", None),
    ("NULL IS NULL", True),
    ("'abc' LIKE 'a%'", True),
    ("'abc' LIKE 'a_c'", True),
    ("'abc' NOT LIKE '%z%'", True),
    ("'a%c' LIKE 'a!%c' ESCAPE '!'", True),
    ("3 IN (1, 2, 3)", True),
    ("3 NOT IN (1, 2)", True),
    ("2 BETWEEN 1 AND 3", True),
    ("5 NOT BETWEEN 1 AND 3", True),
    ("CASE WHEN 1 > 2 THEN 'a' WHEN 2 > 1 THEN 'b' ELSE 'c' END", "b"),
    ("CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' END", "two"),
    ("CASE WHEN NULL THEN 'a' ELSE 'b' END", "b"),
    # casts
    ("CAST('12' AS INT)", 12),
    ("CAST('x' AS INT)", None),
    ("CAST(12.7E0 AS BIGINT)", 12),
    ("CAST(1.5 AS DOUBLE)", 1.5),
    ("CAST('1.005' AS DECIMAL(5, 2))", D("1.01")),
    ("CAST(10 AS STRING)", "10"),
    ("CAST(true AS STRING)", "true"),
    ("CAST('true' AS BOOLEAN)", True),
    ("CAST('2021-03-04T05:06:07' AS TIMESTAMP)", datetime.datetime(2021, 3, 4, 5, 6, 7)),
    ("CAST('2021-03-04' AS DATE)", datetime.date(2021, 3, 4)),
    ("CAST(ARRAY[1, 2] AS ARRAY<STRING>)", ["1", "2"]),
    # time
    ("FROM_UNIXTIME(1000)", datetime.datetime(1970, 1, 1, 0, 0, 1)),
    ("UNIX_TIMESTAMP(FROM_UNIXTIME(1614834367890))", 1614834367890),
    ("FORMAT_TIMESTAMP(FROM_UNIXTIME(1614834367890), 'yyyy-MM-dd HH:mm:ss.SSS')", "2021-03-04 05:06:07.890"),
    ("FORMAT_TIMESTAMP(FROM_UNIXTIME(0), 'yyyy-MM-dd HH:mm', 'Europe/Paris')", "1970-01-01 01:00"),
    ("PARSE_TIMESTAMP('2021-03-04 05:06:07', 'yyyy-MM-dd HH:mm:ss')", datetime.datetime(2021, 3, 4, 5, 6, 7)),
    (
        "PARSE_TIMESTAMP('2021-03-04 06:06:07', 'yyyy-MM-dd HH:mm:ss', 'Europe/Paris')",
        datetime.datetime(2021, 3, 4, 5, 6, 7),
    ),
    ("PARSE_TIMESTAMP('garbage', 'yyyy')", None),
    ("FORMAT_DATE(FROM_DAYS(1), 'dd MMM yyyy')", "02 Jan 1970"),
    ("PARSE_DATE('04/03/2021', 'dd/MM/yyyy')", datetime.date(2021, 3, 4)),
    ("UNIX_DATE(PARSE_DATE('1970-01-11', 'yyyy-MM-dd'))", 10),
    ("TIMESTAMPADD(SECONDS, 5, FROM_UNIXTIME(0))", datetime.datetime(1970, 1, 1, 0, 0, 5)),
    ("TIMESTAMPSUB(DAYS, 1, FROM_UNIXTIME(86400000))", datetime.datetime(1970, 1, 1)),
    ("DATEADD(DAYS, 3, FROM_DAYS(0))", datetime.date(1970, 1, 4)),
    ("CONVERT_TZ(FROM_UNIXTIME(0), 'UTC', 'America/New_York')", datetime.datetime(1969, 12, 31, 19, 0)),
    ("TIMESTAMPTOSTRING(0, 'yyyy-MM-dd''T''HH:mm:ss')", "1970-01-01T00:00:00"),
    ("STRINGTOTIMESTAMP('1970-01-02', 'yyyy-MM-dd')", 86400000),
    ("DATETOSTRING(1, 'yyyy-MM-dd')", "1970-01-02"),
    ("STRINGTODATE('1970-01-03', 'yyyy-MM-dd')", 2),
    # json, url, bytes
    ("EXTRACTJSONFIELD('{\"a\": {\"b\": [1, 2]}}', '$.a.b[1]')", "2"),
    ("EXTRACTJSONFIELD('{\"a\": \"x\"}', '$.a')", "x"),
    ("EXTRACTJSONFIELD('not json', '$.a')", None),
    ("IS_JSON_STRING('[1]')", True),
    ("IS_JSON_STRING('[1')", False),
    ("JSON_ARRAY_LENGTH('[1, 2, 3]')", 3),
    ('JSON_KEYS(\'{"a": 1, "b": 2}\')', ["a", "b"]),
    ("JSON_RECORDS('{\"a\": [1]}')", {"a": "[1]"}),
    ("JSON_CONCAT('{\"a\": 1}', '{\"b\": 2}')", '{"a":1,"b":2}'),
    ("TO_JSON_STRING(STRUCT(a := 1, b := ARRAY['x']))", '{"A":1,"B":["x"]}'),
    ("URL_EXTRACT_HOST('https://odradek.io:8080/a/b?x=1&y=2#frag')", "odradek.io"),
    ("URL_EXTRACT_PORT('https://odradek.io:8080/a')", 8080),
    ("URL_EXTRACT_PATH('https://odradek.io:8080/a/b?x=1')", "/a/b"),
    ("URL_EXTRACT_PARAMETER('https://odradek.io/a?x=1&y=2', 'y')", "2"),
    ("URL_EXTRACT_QUERY('https://odradek.io/a?x=1')", "x=1"),
    ("URL_EXTRACT_FRAGMENT('https://odradek.io/a#f')", "f"),
    ("URL_EXTRACT_PROTOCOL('https://odradek.io/a')", "https"),
    ("URL_ENCODE_PARAM('a b&c')", "a+b%26c"),
    ("URL_DECODE_PARAM('a+b%26c')", "a b&c"),
    ("FROM_BYTES(TO_BYTES('hi', 'utf8'), 'hex')", "6869"),
    ("ENCODE('hi', 'utf8', 'base64')", "aGk="),
    ("INT_FROM_BYTES(TO_BYTES('00000102', 'hex'))", 258),
    ("BIGINT_FROM_BYTES(TO_BYTES('0201000000000000', 'hex'), 'LITTLE_ENDIAN')", 258),
]


@pytest.mark.parametrize(("expression", "expected"), CASES, ids=[c[0][:50] for c in CASES])
def test_expression(expression: str, expected: Any) -> None:
    assert evaluate(expression) == expected


def test_columns_and_structs() -> None:
    row = {
        "NAME": (t.STRING, "odradek"),
        "TAGS": (t.array(t.STRING), ["a", "bb"]),
        "ADDR": (t.struct([("CITY", t.STRING)]), {"CITY": "Prague"}),
        "MISSING": (t.STRING, None),
    }
    assert evaluate("UCASE(name) + '!'", row) == "ODRADEK!"
    assert evaluate("addr->city", row) == "Prague"
    assert evaluate("TRANSFORM(tags, x => LEN(x) + LEN(name))", row) == [8, 9]
    assert evaluate("missing IS NULL AND name IS NOT NULL", row) is True
    assert evaluate("COALESCE(missing, name)", row) == "odradek"


def test_types() -> None:
    assert type_of("1") == t.INTEGER
    assert type_of("10000000000") == t.BIGINT
    assert type_of("1.50") == t.decimal(3, 2)
    assert type_of("1.5E0") == t.DOUBLE
    assert type_of("1 + 10000000000") == t.BIGINT
    assert type_of("1.5 + 2.25") == t.decimal(4, 2)
    assert type_of("1.5 * 2.25") == t.decimal(6, 3)
    assert type_of("1 / 2.0") == t.decimal(17, 6)
    assert type_of(
        "COLLECT_LIST(1)".replace("COLLECT_LIST", "ARRAY_DISTINCT").replace("(1)", "(ARRAY[1])")
    ) == t.array(t.INTEGER)
    assert type_of("CASE WHEN true THEN 1 ELSE 2.5E0 END") == t.DOUBLE


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("UCASE(1)", "Function 'UCASE' does not accept parameters (INTEGER)"),
        ("NOSUCH(1)", "Can't find any functions with the name 'NOSUCH'"),
        ("'a' + 1", "Unsupported arithmetic types"),
        ("'a' > 1", "Cannot compare"),
        ("CAST(ARRAY[1] AS INT)", "Cast of ARRAY<INTEGER> to INTEGER is not supported"),
        ("TRANSFORM(ARRAY[1], (a, b) => a)", "the lambda takes 1 parameter(s)"),
        ("COUNT(*)", "Aggregate functions are not allowed here"),
        ("EXPLODE(ARRAY[1])", "Table function EXPLODE can only be used in the SELECT clause"),
    ],
)
def test_type_errors(expression: str, message: str) -> None:
    with pytest.raises(KsqlAnalysisError, match=message.replace("(", r"\(").replace(")", r"\)")):
        evaluate(expression)


def test_a_failing_builtin_gives_null_not_an_error() -> None:
    assert evaluate("GEO_DISTANCE(0.0E0, 0.0E0, 1.0E0, 1.0E0, 'parsecs')") is None
    assert round(evaluate("GEO_DISTANCE(37.4439E0, -122.1615E0, 37.7749E0, -122.4194E0)"), 1) == 43.3
