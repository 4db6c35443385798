"""The per-record fast paths of persistent stream queries give what the general paths give.

- `RowStage.fused` (WHERE, table functions, PARTITION BY and the projection as one stage calling the
  sink's stage; a plain WHERE + projection as one generated function) against `RowStage.process` (a
  `Record` forwarded through the node contexts): the same output bytes, and a failing expression
  skips the same records.
- `JsonRowSerde.fast_decode` (straight-line code per schema) against `from_bytes` (the per-column
  loop with its conversions and case-insensitive field names), and the KAFKA key serde's
  one-argument encode/decode against `serialize`/`deserialize`.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from raising_udf import registry_with_no_bob

from odradek.sql import types as t
from odradek.sql.compiler.processors import RowStage
from odradek.sql.compiler.serdes import JsonRowSerde, KeySerde, source_serdes
from odradek.sql.schema import Column, Namespace
from odradek.sql.testing import SqlTestDriver
from odradek.streams.engine import fused
from odradek.streams.errors import SerializationError
from odradek.streams.windows import Window, Windowed

ORDERS = (
    "CREATE STREAM orders (id INT KEY, customer STRING, amount DOUBLE, tags ARRAY<STRING>, note STRING)"
    " WITH (kafka_topic='orders', value_format='JSON', partitions=1);"
)
WINDOWED = (
    "CREATE STREAM per_window (customer STRING KEY, n BIGINT) WITH (kafka_topic='per_window',"
    " value_format='JSON', window_type='TUMBLING', window_size='10 SECONDS', partitions=1);"
)
QUERIES = [
    "SELECT id, customer, amount * 2 AS doubled FROM orders WHERE amount >= 0",
    "SELECT id, UCASE(customer) AS who FROM orders WHERE amount > 10",
    "SELECT * FROM orders",
    "SELECT id, amount FROM orders WHERE customer IS NULL",
    "SELECT id, EXPLODE(tags) AS tag FROM orders WHERE amount > 1",
    "SELECT customer, id, amount FROM orders PARTITION BY customer",
    "SELECT id, ROWTIME AS ts, ROWPARTITION AS p, ROWOFFSET AS o FROM orders",
    "SELECT id, NO_BOB(customer) AS c FROM orders WHERE amount IS NOT NULL",
    "SELECT id, amount FROM orders WHERE NO_BOB(customer) IS NOT NULL AND amount > 0",  # WHERE raises
]
RAW_VALUES = [
    b'{"CUSTOMER": "ada", "AMOUNT": 20.0, "TAGS": ["a", "b"], "NOTE": "x"}',
    b'{"CUSTOMER": "bob", "AMOUNT": 5.0, "TAGS": [], "NOTE": null}',
    b'{"customer": "cy", "amount": 30}',  # lower-case names, an int for a DOUBLE
    b'{"CUSTOMER": null, "AMOUNT": -1.5}',
    b'{"AMOUNT": "12.5", "CUSTOMER": 7}',  # values to convert
    b'{"CUSTOMER": "bob", "AMOUNT": 2.0, "TAGS": ["z"]}',  # the UDF raises on bob
    b"[1, 2]",  # not an object: a deserialization error
    b"not json",
    b'{"CUSTOMER": "dee", "AMOUNT": true}',  # a bool is no DOUBLE
    b'{"CUSTOMER": "eve"}',  # no AMOUNT: a WHERE on it is NULL, not TRUE
    None,  # a tombstone: no row
]


@pytest.fixture(scope="module")
def registry() -> Any:
    return registry_with_no_bob("udf_fused_rows_no_bob")


def outputs(query: str, registry: Any) -> list[tuple[bytes | None, bytes | None, int]]:
    with SqlTestDriver(registry) as sql:
        sql.execute(ORDERS)
        sql.execute(f"CREATE STREAM out WITH (kafka_topic='out') AS {query};")
        for i, value in enumerate(RAW_VALUES):
            key = None if i == 3 else i.to_bytes(4, "big")
            sql.produce_raw("orders", key, value, timestamp=1000 + i)
        return sql.raw("out")


@pytest.mark.parametrize("query", QUERIES)
def test_the_fused_row_stage_writes_what_the_general_path_writes(
    query: str, registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fused, "FUSE_STATELESS", False)
    general = outputs(query, registry)
    monkeypatch.setattr(fused, "FUSE_STATELESS", True)
    fast = outputs(query, registry)
    assert fast == general
    assert general  # each query writes something from these records


def row_stages(query: str) -> list[RowStage]:
    with SqlTestDriver(registry_with_no_bob("udf_fused_rows_stages")) as sql:
        sql.execute(ORDERS)
        sql.execute(f"CREATE STREAM out WITH (kafka_topic='out') AS {query};")
        [run] = sql.queries.values()
        return [p for p in run.driver.task.processors.values() if isinstance(p, RowStage)]


@pytest.mark.parametrize(
    ("query", "combined"),
    [
        ("SELECT id, customer, amount * 2 AS doubled FROM orders WHERE amount >= 0", True),
        ("SELECT id, amount FROM orders WHERE NO_BOB(customer) IS NOT NULL AND amount > 0", True),
        ("SELECT * FROM orders", False),  # no WHERE
        ("SELECT id, EXPLODE(tags) AS tag FROM orders WHERE amount > 1", False),
        ("SELECT customer, id FROM orders WHERE amount > 1 PARTITION BY customer", False),
        ("SELECT id, ROWOFFSET AS o FROM orders WHERE amount > 1", False),  # metadata: general path
    ],
)
def test_where_and_projection_are_one_function_only_for_a_plain_filter(query: str, combined: bool) -> None:
    [stage] = row_stages(query)[-1:]
    assert (stage.filter_project is not None) == combined
    if combined:  # None when WHERE is not TRUE, else the projected row
        assert stage.predicate is not None
        fn = stage.filter_project
        assert fn is not None and "if (" in (fn.__doc__ or "")


def test_a_failing_udf_skips_the_same_record_on_both_paths(
    registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = "SELECT id, NO_BOB(customer) AS c FROM orders"
    for fuse in (False, True):
        monkeypatch.setattr(fused, "FUSE_STATELESS", fuse)
        values = [orjson.loads(v) for _, v, _ in outputs(query, registry) if v is not None]
        assert {"C": "bob"} not in values
        assert {"C": "ada"} in values and {"C": "cy"} in values


def test_windowed_keys_pass_through_the_fused_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    results = []
    for fuse in (False, True):
        monkeypatch.setattr(fused, "FUSE_STATELESS", fuse)
        with SqlTestDriver() as sql:
            sql.execute(WINDOWED)
            sql.execute(
                "CREATE STREAM big AS SELECT customer, n, WINDOWSTART AS ws FROM per_window WHERE n > 1;"
            )
            k_serde, _ = source_serdes(sql.source("per_window"))
            for n, start in ((2, 0), (1, 10_000), (3, 20_000)):
                key = k_serde.serialize("per_window", Windowed(("a",), Window(start, start + 10_000)))
                sql.produce_raw("per_window", key, orjson.dumps({"N": n}), timestamp=start + 1)
            results.append(sql.raw("BIG"))
    assert results[0] == results[1] and len(results[0]) == 2


COLUMNS = (
    Column("ID", t.BIGINT, Namespace.VALUE),
    Column("AMOUNT", t.DOUBLE, Namespace.VALUE),
    Column("OK", t.BOOLEAN, Namespace.VALUE),
    Column("NOTE", t.STRING, Namespace.VALUE),
)
DOCUMENTS = [
    b'{"ID": 1, "AMOUNT": 2.5, "OK": true, "NOTE": "n"}',
    b'{"ID": 1, "AMOUNT": 2.5, "OK": true, "NOTE": "n", "EXTRA": [1]}',
    b'{"ID": null, "AMOUNT": null, "OK": null, "NOTE": null}',
    b'{"ID": 1}',  # missing fields are NULL
    b"{}",
    b'{"id": 3, "Amount": 1.0, "ok": false, "note": "lower"}',  # case-insensitive names
    b'{"ID": 1, "id": 2, "AMOUNT": 1.0, "OK": true, "NOTE": "both"}',
    b'{"ID": "42", "AMOUNT": 3, "OK": "true", "NOTE": 5}',  # values to convert
    b'{"ID": true, "AMOUNT": 1.0, "OK": true, "NOTE": "x"}',  # a bool is no BIGINT
    b'{"ID": 1.5, "AMOUNT": 1.0, "OK": true, "NOTE": "x"}',
    b'{"ID": 1, "AMOUNT": 1.0, "OK": 1, "NOTE": "x"}',
    b'{"ID": 99999999999999999999, "AMOUNT": 1.0, "OK": true, "NOTE": "x"}',
    b'{"ID": 1, "AMOUNT": 1.0, "OK": true, "NOTE": {"a": 1}}',
    b"[1, 2]",
    b"null",
    b'"text"',
    b"{not json",
    b"",
]


def decoded(fn: Any, data: bytes) -> Any:
    try:
        return ("row", fn(data))
    except Exception:
        return ("error",)


@pytest.mark.parametrize("data", DOCUMENTS)
def test_the_straight_line_json_decoder_equals_the_general_one(data: bytes) -> None:
    serde = JsonRowSerde(COLUMNS)
    assert serde.fast_decode != serde.from_bytes  # the generated decoder is in use
    assert decoded(serde.fast_decode, data) == decoded(serde.from_bytes, data)
    if decoded(serde.fast_decode, data)[0] == "row":
        # the keys come in the columns' order, as from the general path
        assert list(serde.fast_decode(data)) == [c.name for c in COLUMNS]


def test_rows_with_types_json_has_no_class_for_keep_the_general_decoder() -> None:
    serde = JsonRowSerde((Column("D", t.decimal(4, 2), Namespace.VALUE),))
    assert serde.fast_decode == serde.from_bytes
    unwrapped = JsonRowSerde((Column("N", t.BIGINT, Namespace.VALUE),), wrap=False)
    assert unwrapped.fast_decode == unwrapped.from_bytes
    assert unwrapped.fast_decode(b"5") == {"N": 5}


@pytest.mark.parametrize(
    ("sql_type", "keys"),
    [
        (t.STRING, [("a",), ("",), ("é",), (None,), (5,)]),
        (t.BIGINT, [(1,), (-(2**63),), (None,), ("x",), (2**64,)]),
        (t.INTEGER, [(1,), (None,), (2**40,)]),
        (t.DOUBLE, [(1.5,), (None,), ("x",)]),
    ],
)
def test_the_kafka_key_fast_paths_equal_serialize_and_deserialize(sql_type: Any, keys: list[Any]) -> None:
    serde = KeySerde((Column("K", sql_type, Namespace.KEY),), "KAFKA")
    for key in keys:
        try:
            expected: Any = serde.serialize("t", key)
        except SerializationError:
            expected = "error"
        try:
            got: Any = serde.fast_encode(key)
        except Exception:
            got = "error"
        assert got == expected, key
        if isinstance(expected, bytes) and expected:
            assert serde.fast_decode(expected) == serde.deserialize("t", expected)
    for data in (b"", b"\x00", b"\xff" * 3):
        assert decoded(serde.fast_decode, data)[0] == decoded(lambda d: serde.deserialize("t", d), data)[0]
