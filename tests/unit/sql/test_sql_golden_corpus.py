"""The golden corpus: every ksqlDB statement of corpus/*.sql against its expected parse, plan or error.

ODRADEK_SQL_GOLDEN=update rewrites the .expected files (review the diff before committing).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import sql_golden

FILES = sorted(p for p in sql_golden.CORPUS.glob("*.sql") if p.name != "setup.sql")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_corpus_file(path: Path) -> None:
    actual = sql_golden.run_file(path)
    expected_path = path.with_suffix(".expected")
    if os.environ.get("ODRADEK_SQL_GOLDEN") == "update":
        expected_path.write_text(actual)
    assert expected_path.exists(), f"run with ODRADEK_SQL_GOLDEN=update to create {expected_path.name}"
    expected = expected_path.read_text()
    if actual != expected:
        import difflib

        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(True), actual.splitlines(True), "expected", "actual", n=2
            )
        )
        pytest.fail(f"{path.name} differs from {expected_path.name}:\n{diff[:20000]}")


def test_corpus_has_at_least_150_statements() -> None:
    assert sql_golden.count_statements() >= 150


def test_every_statement_kind_is_in_the_corpus() -> None:
    text = "\n".join(p.read_text().upper() for p in FILES)
    for construct in (
        "CREATE STREAM", "CREATE TABLE", "CREATE SOURCE TABLE", "IF NOT EXISTS", "DROP STREAM", "DELETE TOPIC",
        "CREATE TYPE", "DROP TYPE", "SHOW STREAMS", "LIST TABLES", "SHOW TOPICS", "SHOW QUERIES",
        "SHOW PROPERTIES", "SHOW TYPES", "SHOW FUNCTIONS", "DESCRIBE EXTENDED", "EXPLAIN", "PRINT",
        "SET '", "UNSET", "DEFINE", "TERMINATE", "PAUSE", "RESUME", "ASSERT TOPIC", "ASSERT SCHEMA",
        "INSERT INTO", "VALUES", "CREATE OR REPLACE", "PARTITION BY", "GROUP BY", "HAVING",
        "WINDOW TUMBLING", "WINDOW HOPPING", "WINDOW SESSION", "ADVANCE BY", "RETENTION", "GRACE PERIOD",
        "WINDOWSTART", "WINDOWEND", "EMIT CHANGES", "EMIT FINAL", "LIMIT", "WITHIN (", "WITHIN 1 HOUR",
        "LEFT JOIN", "FULL OUTER JOIN", "->", "ARRAY[", "MAP(", "CASE", "CAST(", "TRANSFORM(", "FILTER(",
        "REDUCE(", "EXPLODE(", "COUNT_DISTINCT", "TOPK", "HISTOGRAM", "LATEST_BY_OFFSET", "COLLECT_SET",
        "KEY_FORMAT", "TIMESTAMP=", "WRAP_SINGLE_VALUE", "HEADERS", "HEADER(",
    ):  # fmt: skip
        assert construct in text.replace("TIMESTAMP='", "TIMESTAMP="), construct
