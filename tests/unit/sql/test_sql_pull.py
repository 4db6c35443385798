"""Pull queries over a snapshot: the Python evaluator and the DuckDB translation agree."""

from __future__ import annotations

import decimal
from typing import Any

import pytest

from odradek.sql.engine.engine import Engine, NoKafka, Session
from odradek.sql.functions import builtin_registry
from odradek.sql.parser import ast
from odradek.sql.pull import duckdb_engine
from odradek.sql.pull.executor import _key_lookup, _parts, evaluate
from odradek.sql.schema import Namespace
from odradek.sql.types import BIGINT

ROWS = [
    (("u1",), {"REGION": "eu", "AGE": 31, "SCORE": 2.5, "PRICE": decimal.Decimal("1.50")}, 1000, None, None),
    (("u2",), {"REGION": "eu", "AGE": 45, "SCORE": 7.0, "PRICE": decimal.Decimal("2.25")}, 2000, None, None),
    (("u3",), {"REGION": "us", "AGE": 23, "SCORE": None, "PRICE": decimal.Decimal("3.00")}, 3000, None, None),
    (("u4",), {"REGION": None, "AGE": 60, "SCORE": 1.0, "PRICE": None}, 4000, None, None),
]


@pytest.fixture(scope="module")
def engine() -> Engine:
    e = Engine(builtin_registry())
    session = Session()
    [stmt] = e.parse(
        "CREATE TABLE users (id STRING PRIMARY KEY, region STRING, age INT, score DOUBLE, price DECIMAL(6, 2)) WITH (kafka_topic='users', partitions=1);",
        session,
    )
    out = e.execute(stmt, session, NoKafka({"users": 1}))
    assert out.command is not None
    e.apply(out.command, 0)
    return e


def both(engine: Engine, sql: str) -> tuple[list[list[Any]], list[list[Any]] | None]:
    [stmt] = engine.parse(sql, Session())
    assert isinstance(stmt, ast.Query)
    planned = engine.plan_query(stmt)
    _, _, python_rows = evaluate(planned, stmt, list(ROWS), engine)
    translated = duckdb_engine.translate(planned, stmt, _parts(planned.root))
    if translated is None:
        return python_rows, None
    source = planned.sources[0]
    columns: list[Any] = [(c.name, c.type, c.namespace) for c in source.schema.columns]
    columns.append(("ROWTIME", BIGINT, None))
    duck = duckdb_engine.run(
        translated, duckdb_engine.arrow_table(columns, list(ROWS)), list(planned.select_order)
    )
    from odradek.sql.pull.executor import _order

    if stmt.order_by:
        duck = _order(duck, list(planned.select_order), planned, stmt, engine)
    start = stmt.offset or 0
    end = start + stmt.limit if stmt.limit is not None else None
    return python_rows, duck[start:end]


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM users WHERE id = 'u2';", [["u2", "eu", 45, 7.0, decimal.Decimal("2.25")]]),
        ("SELECT id, age FROM users WHERE age > 30 ORDER BY age DESC;", [["u4", 60], ["u2", 45], ["u1", 31]]),
        ("SELECT id FROM users WHERE region LIKE 'e%' AND score IS NOT NULL ORDER BY id;", [["u1"], ["u2"]]),
        ("SELECT id FROM users ORDER BY id LIMIT 2 OFFSET 1;", [["u2"], ["u3"]]),
        (
            "SELECT region, COUNT(*) AS n, SUM(age) AS total, AVG(score) AS mean FROM users GROUP BY region ORDER BY region;",
            [["eu", 2, 76, 4.75], ["us", 1, 23, None], [None, 1, 60, 1.0]],
        ),
        ("SELECT COUNT(*) AS n, MAX(age) AS oldest FROM users;", [[4, 60]]),
        ("SELECT region, COUNT(*) AS n FROM users GROUP BY region HAVING COUNT(*) > 1;", [["eu", 2]]),
        (
            "SELECT id, UCASE(region) AS r, age * 2 AS twice, CASE WHEN age >= 45 THEN 'old' ELSE 'young' END AS band FROM users WHERE id IN ('u1', 'u2') ORDER BY id;",
            [["u1", "EU", 62, "young"], ["u2", "EU", 90, "old"]],
        ),
        ("SELECT id FROM users WHERE age BETWEEN 30 AND 50 ORDER BY id;", [["u1"], ["u2"]]),
        (
            "SELECT id, ROWTIME FROM users WHERE ROWTIME >= 3000 ORDER BY ROWTIME;",
            [["u3", 3000], ["u4", 4000]],
        ),
        (
            "SELECT id, score FROM users ORDER BY score DESC;",
            [["u3", None], ["u2", 7.0], ["u1", 2.5], ["u4", 1.0]],
        ),
        (
            "SELECT id, score FROM users ORDER BY score NULLS FIRST;",
            [["u3", None], ["u4", 1.0], ["u1", 2.5], ["u2", 7.0]],
        ),
    ],
)
def test_python_and_duckdb_agree(engine: Engine, sql: str, expected: list[list[Any]]) -> None:
    python_rows, duck_rows = both(engine, sql)
    assert python_rows == expected
    if duck_rows is not None:
        assert duck_rows == expected


def test_functions_without_a_duckdb_form_fall_back_to_python(engine: Engine) -> None:
    python_rows, duck_rows = both(engine, "SELECT id, MASK(id) AS m FROM users WHERE id = 'u1';")
    assert duck_rows is None and python_rows == [["u1", "xn"]]


def test_key_lookup_detection(engine: Engine) -> None:
    source = engine.metastore.sources["USERS"]
    for sql, keys in [
        ("SELECT * FROM users WHERE id = 'u1';", [("u1",)]),
        ("SELECT * FROM users WHERE 'u1' = id AND age > 3;", [("u1",)]),
        ("SELECT * FROM users WHERE id IN ('a', 'b');", [("a",), ("b",)]),
        ("SELECT * FROM users WHERE id = 'u1' OR age > 3;", None),
        ("SELECT * FROM users WHERE region = 'eu';", None),
    ]:
        [stmt] = engine.parse(sql, Session())
        assert isinstance(stmt, ast.Query)
        planned = engine.plan_query(stmt)
        where = _parts(planned.root)["where"]
        assert _key_lookup(where.predicate, source) == keys, sql  # type: ignore[attr-defined]
    assert Namespace.KEY in {c.namespace for c in source.schema.columns}
