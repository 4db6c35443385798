"""Pull key lookups of one shape share a plan: shapes, which plans qualify, cache generations."""

from __future__ import annotations

from odradek.sql.engine.engine import Session
from odradek.sql.parser import ast
from odradek.sql.pull import prepared
from odradek.sql.testing import SqlTestDriver


def test_shape_replaces_string_literals_and_refuses_what_it_cannot_see_through() -> None:
    shape, literals = prepared.shape_of("SELECT * FROM t WHERE k = 'a' OR k = 'it''s';") or ("", [])
    assert literals == ["a", "it's"] and "'a'" not in shape and shape.count("odradek-param-") == 2
    assert prepared.shape_of("SELECT * FROM t WHERE k = 'b';") == (shape_b := _shape("b"), ["b"])
    assert prepared.shape_of("SELECT * FROM t WHERE k = 'zz';") == (shape_b, ["zz"])
    assert prepared.shape_of("SELECT * FROM t;") is None  # nothing to share
    assert prepared.shape_of("SELECT * FROM t WHERE k = 'a'; -- 'x'") is None
    assert prepared.shape_of("SELECT * FROM t WHERE k = '${key}';") is None
    assert prepared.shape_of("SELECT * FROM t WHERE k = 'unclosed;") is None
    assert prepared.shape_of("SELECT `it's`, `a'b` FROM t WHERE k = 'x';") is None


def _shape(key: str) -> str:
    shaped = prepared.shape_of(f"SELECT * FROM t WHERE k = '{key}';")
    assert shaped is not None
    return shaped[0]


def _lookup(sql: SqlTestDriver, text: str) -> prepared.Lookup | None:
    shape, literals = prepared.shape_of(text) or ("", [])
    [stmt] = sql.engine.parse(shape, Session())
    assert isinstance(stmt, ast.Query)
    return prepared.as_lookup(stmt, sql.engine.plan_query(stmt), len(literals))


def test_only_plain_key_lookups_on_materialized_string_keyed_tables_qualify() -> None:
    with SqlTestDriver() as sql:
        sql.execute(
            "CREATE STREAM s (k STRING KEY, v INT) WITH (kafka_topic='s', partitions=1);"
            "CREATE TABLE t AS SELECT k, SUM(v) AS total FROM s GROUP BY k;"
            "CREATE TABLE raw (k STRING PRIMARY KEY, v INT) WITH (kafka_topic='raw', partitions=1);"
            "CREATE STREAM n (id INT KEY, v INT) WITH (kafka_topic='n', partitions=1);"
            "CREATE TABLE by_id AS SELECT id, COUNT(*) AS c FROM n GROUP BY id;"
        )
        lookup = _lookup(sql, "SELECT * FROM t WHERE k = 'a';")
        assert lookup is not None and lookup.query_id.startswith("CTAS_T")
        assert _lookup(sql, "SELECT k, total * 2 AS twice FROM t WHERE k IN ('a', 'b') LIMIT 1;") is not None
        # anything more than the key equality, or a literal elsewhere, plans per request
        assert _lookup(sql, "SELECT * FROM t WHERE k = 'a' AND total > 1;") is None
        assert _lookup(sql, "SELECT k, 'x' AS tag FROM t WHERE k = 'a';") is None
        assert _lookup(sql, "SELECT * FROM t WHERE k > 'a';") is None
        assert _lookup(sql, "SELECT * FROM t WHERE k = 'a' ORDER BY total;") is None
        assert _lookup(sql, "SELECT * FROM raw WHERE k = 'a';") is None  # not materialized here
        assert _lookup(sql, "SELECT * FROM by_id WHERE CAST(id AS STRING) = '1';") is None


def test_cache_forgets_every_shape_when_the_metastore_changes() -> None:
    cache = prepared.LookupCache()
    assert cache.get(1, ("shape", "")) == (False, None)
    cache.put(1, ("shape", ""), None)
    assert cache.get(1, ("shape", "")) == (True, None)
    assert cache.get(2, ("shape", "")) == (False, None)  # a command was applied since
    cache.put(1, ("late", ""), None)  # planned against the old metastore: not kept
    assert cache.get(2, ("late", "")) == (False, None)
