"""Pull queries over a snapshot: the Python evaluator and the DuckDB translation agree."""

from __future__ import annotations

import decimal
from typing import Any

import pytest

from odradek.sql.engine.engine import Engine, NoKafka, Session
from odradek.sql.errors import KsqlAnalysisError, KsqlError
from odradek.sql.functions import builtin_registry
from odradek.sql.parser import ast
from odradek.sql.plan.logical import JoinNode
from odradek.sql.pull import duckdb_engine
from odradek.sql.pull.executor import _key_lookup, _parts, evaluate, joined_rows
from odradek.sql.pull.snapshot import Row
from odradek.sql.schema import Namespace
from odradek.sql.types import BIGINT

ROWS: list[Row] = [
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
    translated = None if planned.input_order else duckdb_engine.translate(planned, stmt, _parts(planned.root))
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
        # ORDER BY source columns that are not selected (sorted before the projection)
        ("SELECT id FROM users ORDER BY age DESC;", [["u4"], ["u2"], ["u1"], ["u3"]]),
        ("SELECT id FROM users WHERE region = 'eu' ORDER BY price DESC LIMIT 1;", [["u2"]]),
        (
            "SELECT UCASE(id) AS u FROM users ORDER BY score NULLS FIRST, ROWTIME DESC;",
            [["U3"], ["U4"], ["U1"], ["U2"]],
        ),
    ],
)
def test_python_and_duckdb_agree(engine: Engine, sql: str, expected: list[list[Any]]) -> None:
    python_rows, duck_rows = both(engine, sql)
    assert python_rows == expected
    if duck_rows is not None:
        assert duck_rows == expected


def test_order_by_in_aggregates_names_output_columns(engine: Engine) -> None:
    [stmt] = engine.parse("SELECT region, COUNT(*) AS n FROM users GROUP BY region ORDER BY age;", Session())
    assert isinstance(stmt, ast.Query)
    with pytest.raises(KsqlError, match="AGE"):
        engine.plan_query(stmt)


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


def test_pull_queries_join_two_tables() -> None:
    e = Engine(builtin_registry())
    session = Session()
    for text in (
        "CREATE TABLE users (id STRING PRIMARY KEY, region STRING, age INT) WITH (kafka_topic='users', partitions=1);",
        "CREATE TABLE regions (code STRING PRIMARY KEY, rname STRING) WITH (kafka_topic='regions', partitions=1);",
        "CREATE TABLE ages (id STRING PRIMARY KEY, bucket STRING) WITH (kafka_topic='ages', partitions=1);",
    ):
        [stmt] = e.parse(text, session)
        out = e.execute(stmt, session, NoKafka({"users": 1, "regions": 1, "ages": 1}))
        assert out.command is not None
        e.apply(out.command, 0)
    data: dict[str, list[Row]] = {
        "USERS": [
            (("u1",), {"REGION": "eu", "AGE": 31}, 1, None, None),
            (("u2",), {"REGION": "mars", "AGE": 9}, 2, None, None),
        ],
        "REGIONS": [(("eu",), {"RNAME": "Europe"}, 3, None, None)],
        "AGES": [(("u1",), {"BUCKET": "30s"}, 4, None, None), (("u9",), {"BUCKET": "90s"}, 5, None, None)],
    }

    def run(sql: str) -> list[list[Any]]:
        [stmt] = e.parse(sql, Session())
        assert isinstance(stmt, ast.Query)
        planned = e.plan_query(stmt)
        node = _parts(planned.root)["source"]
        assert isinstance(node, JoinNode)
        rows = joined_rows(node, lambda source: list(data[source.name]))
        return evaluate(planned, stmt, rows, e)[2]

    # foreign-key join (users.region -> regions.code), inner and left
    assert run("SELECT u.id, r.rname FROM users u JOIN regions r ON u.region = r.code;") == [["u1", "Europe"]]
    assert run("SELECT u.id, r.rname FROM users u LEFT JOIN regions r ON u.region = r.code ORDER BY id;") == [
        ["u1", "Europe"],
        ["u2", None],
    ]
    # primary-key joins: every join type, WHERE and aggregates over the joined rows
    assert run("SELECT u.id, a.bucket FROM users u JOIN ages a ON u.id = a.id;") == [["u1", "30s"]]
    assert run("SELECT a.id, u.age FROM users u RIGHT JOIN ages a ON u.id = a.id ORDER BY id;") == [
        ["u1", 31],
        ["u9", None],
    ]
    assert run("SELECT COUNT(*) AS n FROM users u FULL OUTER JOIN ages a ON u.id = a.id;") == [[3]]
    assert run("SELECT u.id FROM users u LEFT JOIN ages a ON u.id = a.id WHERE a.bucket IS NULL;") == [["u2"]]


def test_pull_queries_join_more_than_two_tables() -> None:
    e = Engine(builtin_registry())
    session = Session()
    for text in (
        "CREATE TABLE users (id STRING PRIMARY KEY, region STRING, age INT) WITH (kafka_topic='users', partitions=1);",
        "CREATE TABLE regions (code STRING PRIMARY KEY, rname STRING) WITH (kafka_topic='regions', partitions=1);",
        "CREATE TABLE ages (id STRING PRIMARY KEY, bucket STRING) WITH (kafka_topic='ages', partitions=1);",
        "CREATE TABLE scores (id STRING PRIMARY KEY, score INT) WITH (kafka_topic='scores', partitions=1);",
        "CREATE STREAM clicks (id STRING KEY, n INT) WITH (kafka_topic='clicks', partitions=1);",
    ):
        [stmt] = e.parse(text, session)
        out = e.execute(
            stmt, session, NoKafka({"users": 1, "regions": 1, "ages": 1, "scores": 1, "clicks": 1})
        )
        assert out.command is not None
        e.apply(out.command, 0)
    data: dict[str, list[Row]] = {
        "USERS": [
            (("u1",), {"REGION": "eu", "AGE": 31}, 1, None, None),
            (("u2",), {"REGION": "mars", "AGE": 9}, 2, None, None),
            (("u3",), {"REGION": "eu", "AGE": 52}, 3, None, None),
        ],
        "REGIONS": [(("eu",), {"RNAME": "Europe"}, 3, None, None)],
        "AGES": [(("u1",), {"BUCKET": "30s"}, 4, None, None), (("u9",), {"BUCKET": "90s"}, 5, None, None)],
        "SCORES": [(("u1",), {"SCORE": 7}, 6, None, None), (("u3",), {"SCORE": 5}, 7, None, None)],
    }
    read: list[str] = []

    def rows_of(source: Any) -> list[Row]:
        read.append(source.name)
        return list(data[source.name])

    def run(sql: str) -> list[list[Any]]:
        [stmt] = e.parse(sql, Session())
        assert isinstance(stmt, ast.Query)
        planned = e.plan_query(stmt)
        node = _parts(planned.root)["source"]
        assert isinstance(node, JoinNode) and isinstance(node.left, JoinNode)
        return evaluate(planned, stmt, joined_rows(node, rows_of), e)[2]

    # three tables on the primary key: inner, then a left join keeps the rows without a match
    assert run(
        "SELECT u.id, a.bucket, s.score FROM users u JOIN ages a ON u.id = a.id JOIN scores s ON u.id = s.id;"
    ) == [["u1", "30s", 7]]
    assert read == ["USERS", "AGES", "SCORES"]
    assert run(
        "SELECT u.id, a.bucket, s.score FROM users u LEFT JOIN ages a ON u.id = a.id "
        "LEFT JOIN scores s ON u.id = s.id ORDER BY id;"
    ) == [["u1", "30s", 7], ["u2", None, None], ["u3", None, 5]]
    # a full outer join after an inner one: the right-only row has NULLs for every column before it
    assert run(
        "SELECT a.bucket, u.age, s.score FROM users u JOIN scores s ON u.id = s.id "
        "FULL OUTER JOIN ages a ON u.id = a.id ORDER BY u.age;"
    ) == [["30s", 31, 7], [None, 52, 5], ["90s", None, None]]
    # a foreign-key join on a column of the first table, then aggregates over all four tables
    assert run(
        "SELECT u.id, r.rname, s.score FROM users u JOIN scores s ON u.id = s.id "
        "LEFT JOIN regions r ON u.region = r.code ORDER BY id;"
    ) == [["u1", "Europe", 7], ["u3", "Europe", 5]]
    assert run(
        "SELECT r.rname, COUNT(*) AS n, SUM(s.score) AS total FROM users u JOIN scores s ON u.id = s.id "
        "LEFT JOIN ages a ON u.id = a.id JOIN regions r ON u.region = r.code GROUP BY r.rname;"
    ) == [["Europe", 2, 12]]
    # a stream anywhere in the join is refused, with the reason
    [stmt] = e.parse(
        "SELECT c.id FROM clicks c JOIN users u ON c.id = u.id JOIN ages a ON c.id = a.id;", Session()
    )
    assert isinstance(stmt, ast.Query)
    with pytest.raises(KsqlAnalysisError, match="Pull queries join tables only"):
        _parts(e.plan_query(stmt).root)
