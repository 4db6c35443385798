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
from odradek.streams.engine.context import FailedProcessingException
from odradek.streams.engine.sink import SinkProcessor
from odradek.streams.engine.task import Task
from odradek.streams.errors import SerializationError
from odradek.streams.testing import _Collector as Collector
from odradek.streams.testing import _Stored as Stored
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


# -- one generated function per query: decode, WHERE, projection, encode ----------------------------------

PLAIN = (
    "CREATE STREAM plain (id INT KEY, customer STRING, amount DOUBLE, big BIGINT, ok BOOLEAN)"
    " WITH (kafka_topic='plain', value_format='JSON', partitions=1);"
)
PLAIN_QUERIES = [
    "SELECT id, customer, amount * 2 AS doubled FROM plain WHERE amount >= 0",
    "SELECT id, UCASE(customer) AS who, big FROM plain WHERE amount > 1 OR ok",
    "SELECT id, amount FROM plain WHERE NO_BOB(customer) IS NOT NULL AND amount > 0",  # WHERE raises
    "SELECT id, NO_BOB(customer) AS c, big FROM plain WHERE amount IS NOT NULL",  # projection raises
    "SELECT * FROM plain WHERE customer IS NOT NULL",
    "SELECT id, ROWTIME AS t, amount FROM plain WHERE amount < 100",
    "SELECT id, big * 10000000000000 AS huge FROM plain WHERE amount > 0",  # no int64: not encoded
]
PLAIN_RECORDS: list[tuple[bytes | None, bytes | None, int]] = [
    (b"\0\0\0\1", b'{"CUSTOMER": "ada", "AMOUNT": 20.0, "BIG": 7, "OK": true}', 1000),
    (b"\0\0\0\2", b'{"CUSTOMER": "bob", "AMOUNT": 5.0, "BIG": null, "OK": false}', 1001),  # the UDF raises
    (b"\0\0\0\3", b'{"customer": "cy", "amount": 30}', 1002),  # lower-case names, an int for a DOUBLE
    (None, b'{"CUSTOMER": null, "AMOUNT": -1.5, "BIG": 1, "OK": true}', 1003),  # null key
    (b"\0\0\0\5", b'{"AMOUNT": "12.5", "CUSTOMER": 7, "BIG": 1, "OK": true}', 1004),  # values to convert
    (b"\0\0\0\6", b"[1, 2]", 1005),  # not an object: a deserialization error
    (b"\0\0\0\7", b"not json", 1006),
    (b"\0\0\0\10", b'{"CUSTOMER": "dee", "AMOUNT": true, "BIG": 1, "OK": true}', 1007),  # no DOUBLE
    (b"\0\0\0\11", b'{"CUSTOMER": "eve"}', 1008),  # no AMOUNT: WHERE on it is NULL
    (b"\0\0\0\12", b'{"CUSTOMER": "fay", "AMOUNT": 3.0, "BIG": 99999999999999999999, "OK": true}', 1009),
    (b"\0\0\0\13", b'{"CUSTOMER": "boom", "AMOUNT": 4.0, "BIG": 2, "OK": true}', 1010),  # the send raises
    (b"\0\0\0\14", None, 1011),  # a tombstone: no row
    (b"\0\0\0\15", b'{"CUSTOMER": "gil", "AMOUNT": 6.0, "BIG": 3, "OK": true}', -1),  # negative: skipped
    (b"\0\0", b'{"CUSTOMER": "hal", "AMOUNT": 6.0, "BIG": 4, "OK": true}', 1012),  # a key of the wrong size
    (b"\0\0\0\16", b'{"CUSTOMER": "ivy", "AMOUNT": 8.0, "BIG": null, "OK": null}', 900),  # stream time stays
    (b"\0\0\0\17", b'{"CUSTOMER": "jo", "AMOUNT": 9.0, "BIG": 10000000, "OK": false}', 2000),
    (b"\0\0\0\20", b'{"CUSTOMER": "kim", "AMOUNT": 1.0, "BIG": 6, "OK": false}', 2001),
]


def plain_run(query: str, registry: Any, fuse: bool) -> dict[str, Any]:
    """What a query does with PLAIN_RECORDS: the output records (bytes, timestamps, headers), what
    reached the exception handlers (kind, node, record, exception class), stream time, counters."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        return _plain_run(query, registry, monkeypatch, fuse)


def _plain_run(query: str, registry: Any, monkeypatch: pytest.MonkeyPatch, fuse: bool) -> dict[str, Any]:
    monkeypatch.setattr(fused, "FUSE_STATELESS", fuse)
    seen: list[Any] = []
    handle, processing_failed = Task._handle, Task.processing_failed

    def on_handle(task: Task, result: Any, what: str, exc: Exception) -> None:
        seen.append((what, type(exc).__name__, str(exc)))
        handle(task, result, what, exc)

    def on_processing(task: Task, node: str, record: Any, exc: Exception) -> None:
        seen.append(("node", node, record.key, record.value, record.timestamp, record.headers))
        processing_failed(task, node, record, exc)

    def send(collector: Any, topic: str, *rest: Any) -> None:
        if rest[1] is not None and b"BOOM" in rest[1].upper():
            raise RuntimeError("the producer refused it")
        collector.driver._append(topic, Stored(*rest))

    monkeypatch.setattr(Task, "_handle", on_handle)
    monkeypatch.setattr(Task, "processing_failed", on_processing)
    monkeypatch.setattr(Collector, "send", send)
    with SqlTestDriver(registry) as sql:
        sql.execute(PLAIN)
        sql.execute(f"CREATE STREAM out WITH (kafka_topic='out') AS {query};")
        [run] = sql.queries.values()
        task = run.driver.task
        generated = task._inputs["plain"][9] is not None
        for i, (key, value, ts) in enumerate(PLAIN_RECORDS):
            try:
                run.driver.pipe("plain", key, value, ts, [("h", str(i).encode())])
            except FailedProcessingException as exc:
                seen.append(("failed", str(exc)))
            seen.append(("stream time", task.stream_time, task.processed, task.dropped_records))
        out = []
        while (stored := run.driver.read_raw("out")) is not None:
            out.append((stored.key, stored.value, stored.timestamp, stored.headers, stored.partition))
        return {
            "generated": generated,
            "out": out,
            "seen": seen,
            "stream_time": task.stream_time,
            "processed": task.processed,
            "dropped": task.dropped_records,
            "sent": [p.sent for p in task.processors.values() if isinstance(p, SinkProcessor)],
        }


@pytest.mark.parametrize("query", PLAIN_QUERIES)
def test_the_generated_query_function_does_what_the_general_path_does(query: str, registry: Any) -> None:
    general = plain_run(query, registry, fuse=False)
    fast = plain_run(query, registry, fuse=True)
    assert fast["generated"] and not general["generated"]
    assert fast == {**general, "generated": True}
    assert general["out"] and general["seen"]


@pytest.mark.parametrize(
    ("query", "generated"),
    [
        ("SELECT id, customer FROM plain WHERE amount > 1", True),
        ("SELECT * FROM plain", False),  # no WHERE
        ("SELECT id, ROWOFFSET AS o FROM plain WHERE amount > 1", False),  # metadata
        ("SELECT customer, id FROM plain WHERE amount > 1 PARTITION BY customer", False),
    ],
)
def test_one_function_per_query_only_where_it_is_equivalent(query: str, generated: bool) -> None:
    with SqlTestDriver() as sql:
        sql.execute(PLAIN)
        sql.execute(ORDERS)  # an ARRAY column: no straight-line decoder
        sql.execute(f"CREATE STREAM out WITH (kafka_topic='out') AS {query};")
        sql.execute("CREATE STREAM out2 WITH (kafka_topic='out2') AS SELECT id FROM orders WHERE amount > 1;")
        function = [run.driver.task._inputs[t][9] for run in sql.queries.values() for t in run.inputs]
        assert [f is not None for f in function] == [generated, False]
        if generated:
            assert "def _query(k, data, timestamp, headers)" in (function[0].__doc__ or "")
