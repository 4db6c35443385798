"""Every query kind end to end on the streams TopologyTestDriver: SQL in, topic records out."""

from __future__ import annotations

from typing import Any

import pytest
from raising_udf import registry_with_no_bob

from odradek.sql.errors import KsqlError
from odradek.sql.testing import SqlTestDriver

ORDERS = "CREATE STREAM orders (id INT KEY, customer STRING, amount DOUBLE, tags ARRAY<STRING>) WITH (kafka_topic='orders', value_format='JSON', partitions=1);"


@pytest.fixture
def sql() -> Any:
    with SqlTestDriver() as driver:
        driver.execute(ORDERS)
        yield driver


def order(
    sql: SqlTestDriver,
    id_: int,
    customer: str | None,
    amount: float | None,
    ts: int,
    tags: list[str] | None = None,
) -> None:
    sql.produce("orders", {"ID": id_}, {"CUSTOMER": customer, "AMOUNT": amount, "TAGS": tags}, timestamp=ts)


def test_filter_and_project_with_nulls(sql: SqlTestDriver) -> None:
    sql.execute(
        "CREATE STREAM big AS SELECT id, UCASE(customer) AS who, amount * 2 AS doubled FROM orders WHERE amount > 10;"
    )
    order(sql, 1, "ada", 20.0, 1)
    order(sql, 2, "bob", 5.0, 2)
    order(sql, 3, None, 30.0, 3)
    order(sql, 4, "cy", None, 4)  # NULL > 10 is not TRUE: filtered out
    assert sql.read("big") == [
        ({"ID": 1}, {"WHO": "ADA", "DOUBLED": 40.0}),
        ({"ID": 3}, {"WHO": None, "DOUBLED": 60.0}),
    ]


def test_partition_by_rekeys_and_moves_the_old_key_into_the_value(sql: SqlTestDriver) -> None:
    sql.execute("CREATE STREAM by_customer AS SELECT customer, id, amount FROM orders PARTITION BY customer;")
    order(sql, 1, "ada", 1.0, 1)
    assert sql.read("by_customer") == [({"CUSTOMER": "ada"}, {"ID": 1, "AMOUNT": 1.0})]


def test_explode_emits_one_row_per_element(sql: SqlTestDriver) -> None:
    sql.execute("CREATE STREAM tags AS SELECT id, EXPLODE(tags) AS tag FROM orders;")
    order(sql, 1, "ada", 1.0, 1, ["a", "b"])
    order(sql, 2, "bob", 1.0, 2, [])
    assert sql.read("tags") == [({"ID": 1}, {"TAG": "a"}), ({"ID": 1}, {"TAG": "b"})]


def test_aggregate_updates_the_table(sql: SqlTestDriver) -> None:
    sql.execute(
        "CREATE TABLE totals AS SELECT customer, COUNT(*) AS n, SUM(amount) AS total, COLLECT_LIST(id) AS ids FROM orders GROUP BY customer;"
    )
    order(sql, 1, "ada", 20.0, 1)
    order(sql, 2, "bob", 5.0, 2)
    order(sql, 3, "ada", 7.0, 3)
    assert sql.read("totals") == [
        ({"CUSTOMER": "ada"}, {"N": 1, "TOTAL": 20.0, "IDS": [1]}),
        ({"CUSTOMER": "bob"}, {"N": 1, "TOTAL": 5.0, "IDS": [2]}),
        ({"CUSTOMER": "ada"}, {"N": 2, "TOTAL": 27.0, "IDS": [1, 3]}),
    ]


def test_having_turns_rows_into_tombstones(sql: SqlTestDriver) -> None:
    sql.execute(
        "CREATE TABLE small AS SELECT customer, SUM(amount) AS total FROM orders GROUP BY customer HAVING SUM(amount) < 10;"
    )
    order(sql, 1, "ada", 4.0, 1)
    order(sql, 2, "ada", 8.0, 2)
    assert sql.read("small") == [({"CUSTOMER": "ada"}, {"TOTAL": 4.0}), ({"CUSTOMER": "ada"}, None)]


def test_tumbling_window_late_records_are_dropped(sql: SqlTestDriver) -> None:
    sql.execute(
        "CREATE TABLE per_min AS SELECT customer, COUNT(*) AS n FROM orders WINDOW TUMBLING (SIZE 1 MINUTE, GRACE PERIOD 10 SECONDS) GROUP BY customer;"
    )
    order(sql, 1, "ada", 1.0, 1_000)
    order(sql, 2, "ada", 1.0, 65_000)  # next window; stream time 65 s
    order(sql, 3, "ada", 1.0, 59_000)  # first window, within grace (ends 60 s + 10 s)
    order(sql, 4, "ada", 1.0, 80_000)  # stream time 80 s: the first window is closed
    order(sql, 5, "ada", 1.0, 2_000)  # late: dropped
    rows = sql.read("per_min")
    assert rows == [
        (({"CUSTOMER": "ada"}, 0, 60_000), {"N": 1}),
        (({"CUSTOMER": "ada"}, 60_000, 120_000), {"N": 1}),
        (({"CUSTOMER": "ada"}, 0, 60_000), {"N": 2}),
        (({"CUSTOMER": "ada"}, 60_000, 120_000), {"N": 2}),
    ]


def test_emit_final_emits_each_window_once_when_it_closes(sql: SqlTestDriver) -> None:
    sql.execute(
        "CREATE TABLE final_counts AS SELECT customer, COUNT(*) AS n FROM orders WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 0 SECONDS) GROUP BY customer EMIT FINAL;"
    )
    for i, ts in enumerate((1_000, 2_000, 3_000)):
        order(sql, i, "ada", 1.0, ts)
    assert sql.read("final_counts") == []
    order(sql, 9, "ada", 1.0, 10_500)  # stream time passes the window's end: it closes
    assert sql.read("final_counts") == [(({"CUSTOMER": "ada"}, 0, 10_000), {"N": 3})]


def test_hopping_windows(sql: SqlTestDriver) -> None:
    sql.execute(
        "CREATE TABLE hops AS SELECT customer, COUNT(*) AS n FROM orders WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 5 SECONDS, GRACE PERIOD 0 SECONDS) GROUP BY customer;"
    )
    order(sql, 1, "ada", 1.0, 7_000)
    windows = sorted((k[1], k[2], v["N"]) for k, v in sql.read("hops"))
    assert windows == [(0, 10_000, 1), (5_000, 15_000, 1)]


def test_session_windows_merge(sql: SqlTestDriver) -> None:
    sql.execute(
        "CREATE TABLE sessions AS SELECT customer, COUNT(*) AS n FROM orders WINDOW SESSION (10 SECONDS, GRACE PERIOD 30 SECONDS) GROUP BY customer;"
    )
    order(sql, 1, "ada", 1.0, 1_000)
    order(sql, 2, "ada", 1.0, 18_000)  # 17 s later: a second session
    order(sql, 3, "ada", 1.0, 9_000)  # within 10 s of both: bridges them into one
    rows = sql.read("sessions")
    assert rows[-1] == (({"CUSTOMER": "ada"}, 1_000, 18_000), {"N": 3})
    # the two sessions the bridge merged are deleted (tombstones for their windows)
    assert (({"CUSTOMER": "ada"}, 18_000, 18_000), None) in rows


def test_stream_table_left_join_with_missing_rows(sql: SqlTestDriver) -> None:
    sql.execute("""
        CREATE TABLE customers (cid STRING PRIMARY KEY, name STRING) WITH (kafka_topic='customers', value_format='JSON', partitions=1);
        CREATE STREAM enriched AS SELECT o.customer, o.id, c.name FROM orders o LEFT JOIN customers c ON o.customer = c.cid;
        CREATE STREAM matched AS SELECT o.customer, o.id, c.name FROM orders o JOIN customers c ON o.customer = c.cid;
    """)
    sql.produce("customers", {"CID": "ada"}, {"NAME": "Ada"}, timestamp=1)
    order(sql, 1, "ada", 1.0, 10)
    order(sql, 2, "bob", 1.0, 11)
    assert sql.read("enriched") == [
        ({"CUSTOMER": "ada"}, {"ID": 1, "NAME": "Ada"}),
        ({"CUSTOMER": "bob"}, {"ID": 2, "NAME": None}),
    ]
    assert sql.read("matched") == [({"CUSTOMER": "ada"}, {"ID": 1, "NAME": "Ada"})]


def test_stream_stream_join_within_and_outer_nulls(sql: SqlTestDriver) -> None:
    sql.execute("""
        CREATE STREAM payments (pid INT KEY, orderid INT, paid DOUBLE) WITH (kafka_topic='payments', value_format='JSON', partitions=1);
        CREATE STREAM paid AS SELECT o.id, o.amount, p.paid FROM orders o JOIN payments p WITHIN 1 MINUTE ON o.id = p.orderid;
        CREATE STREAM maybe_paid AS SELECT o.id, p.paid FROM orders o LEFT JOIN payments p WITHIN 10 SECONDS GRACE PERIOD 0 SECONDS ON o.id = p.orderid;
    """)
    order(sql, 1, "ada", 20.0, 1_000)
    order(sql, 2, "bob", 5.0, 2_000)
    sql.produce("payments", {"PID": 100}, {"ORDERID": 1, "PAID": 20.0}, timestamp=3_000)
    sql.produce(
        "payments", {"PID": 101}, {"ORDERID": 2, "PAID": 5.0}, timestamp=200_000
    )  # too late for order 2
    assert sql.read("paid") == [({"ID": 1}, {"AMOUNT": 20.0, "PAID": 20.0})]
    # the left join emits order 2 with NULL once its window closed (no spurious early NULL for order 1)
    assert sql.read("maybe_paid") == [({"ID": 1}, {"PAID": 20.0}), ({"ID": 2}, {"PAID": None})]


def test_table_table_join_and_tombstones(sql: SqlTestDriver) -> None:
    sql.execute("""
        CREATE TABLE a (k STRING PRIMARY KEY, x INT) WITH (kafka_topic='a', value_format='JSON', partitions=1);
        CREATE TABLE b (k STRING PRIMARY KEY, y INT) WITH (kafka_topic='b', value_format='JSON', partitions=1);
        CREATE TABLE ab AS SELECT a.k, a.x, b.y FROM a LEFT JOIN b ON a.k = b.k;
    """)
    sql.produce("a", {"K": "1"}, {"X": 10}, timestamp=1)
    sql.produce("b", {"K": "1"}, {"Y": 20}, timestamp=2)
    sql.produce("b", {"K": "1"}, None, timestamp=3)  # tombstone on the right: the row keeps a NULL y
    sql.produce("a", {"K": "1"}, None, timestamp=4)  # tombstone on the left: the joined row is deleted
    assert sql.read("ab") == [
        ({"K": "1"}, {"X": 10, "Y": None}),
        ({"K": "1"}, {"X": 10, "Y": 20}),
        ({"K": "1"}, {"X": 10, "Y": None}),
        ({"K": "1"}, None),
    ]


def test_right_joins_keep_every_right_row(sql: SqlTestDriver) -> None:
    sql.execute("""
        CREATE TABLE a (k STRING PRIMARY KEY, x INT) WITH (kafka_topic='a', value_format='JSON', partitions=1);
        CREATE TABLE b (k STRING PRIMARY KEY, y INT) WITH (kafka_topic='b', value_format='JSON', partitions=1);
        CREATE TABLE ab AS SELECT b.k, a.x, b.y FROM a RIGHT JOIN b ON a.k = b.k;
        CREATE STREAM payments (pid INT KEY, orderid INT, paid DOUBLE) WITH (kafka_topic='payments', value_format='JSON', partitions=1);
        CREATE STREAM paid AS SELECT p.orderid, o.amount, p.paid FROM orders o RIGHT JOIN payments p WITHIN (1 SECOND, 10 SECONDS) GRACE PERIOD 0 SECONDS ON o.id = p.orderid;
    """)
    sql.produce("a", {"K": "1"}, {"X": 10}, timestamp=1)  # no right row yet: nothing
    sql.produce("b", {"K": "1"}, {"Y": 20}, timestamp=2)
    sql.produce("b", {"K": "2"}, {"Y": 30}, timestamp=3)  # no left row: a NULL x
    sql.produce("a", {"K": "1"}, None, timestamp=4)  # the left row goes: the right row stays
    assert sql.read("ab") == [
        ({"K": "1"}, {"X": 10, "Y": 20}),
        ({"K": "2"}, {"X": None, "Y": 30}),
        ({"K": "1"}, {"X": None, "Y": 20}),
    ]
    # WITHIN (before 1 s, after 10 s): a payment matches orders from 10 s before to 1 s after it
    order(sql, 1, "ada", 20.0, 10_000)
    sql.produce("payments", {"PID": 100}, {"ORDERID": 1, "PAID": 20.0}, timestamp=15_000)
    order(sql, 2, "bob", 5.0, 30_000)
    sql.produce("payments", {"PID": 101}, {"ORDERID": 2, "PAID": 5.0}, timestamp=28_000)  # 2 s early
    sql.produce("payments", {"PID": 102}, {"ORDERID": 9, "PAID": 1.0}, timestamp=100_000)  # closes windows
    assert sql.read("paid") == [
        ({"ORDERID": 1}, {"AMOUNT": 20.0, "PAID": 20.0}),
        ({"ORDERID": 2}, {"AMOUNT": None, "PAID": 5.0}),
    ]
    with pytest.raises(KsqlError, match="Right outer joins between a stream and a table"):
        sql.execute("CREATE STREAM bad AS SELECT o.id, a.x FROM orders o RIGHT JOIN a ON o.customer = a.k;")


def test_table_aggregation_undoes_updates_and_deletes(sql: SqlTestDriver) -> None:
    sql.execute("""
        CREATE TABLE users (id STRING PRIMARY KEY, region STRING) WITH (kafka_topic='users', value_format='JSON', partitions=1);
        CREATE TABLE per_region AS SELECT region, COUNT(*) AS n FROM users GROUP BY region;
    """)
    sql.produce("users", {"ID": "u1"}, {"REGION": "eu"}, timestamp=1)
    sql.produce("users", {"ID": "u2"}, {"REGION": "eu"}, timestamp=2)
    sql.produce("users", {"ID": "u1"}, {"REGION": "us"}, timestamp=3)  # moves: eu -1, us +1
    sql.produce("users", {"ID": "u2"}, None, timestamp=4)  # deleted: eu -1
    final: dict[str, Any] = {}
    for key, value in sql.read("per_region"):
        final[key["REGION"]] = value
    assert final == {"eu": {"N": 0}, "us": {"N": 1}}


def test_table_filter_deletes_rows_that_stop_matching(sql: SqlTestDriver) -> None:
    sql.execute("""
        CREATE TABLE users (id STRING PRIMARY KEY, region STRING) WITH (kafka_topic='users', value_format='JSON', partitions=1);
        CREATE TABLE eu_users AS SELECT id, region FROM users WHERE region = 'eu';
    """)
    sql.produce("users", {"ID": "u1"}, {"REGION": "eu"}, timestamp=1)
    sql.produce("users", {"ID": "u1"}, {"REGION": "us"}, timestamp=2)
    assert sql.read("eu_users") == [({"ID": "u1"}, {"REGION": "eu"}), ({"ID": "u1"}, None)]


def test_foreign_key_join_follows_the_right_side(sql: SqlTestDriver) -> None:
    sql.execute("""
        CREATE TABLE customers (cid STRING PRIMARY KEY, name STRING, country STRING) WITH (kafka_topic='customers', value_format='JSON', partitions=1);
        CREATE TABLE countries (code STRING PRIMARY KEY, cname STRING) WITH (kafka_topic='countries', value_format='JSON', partitions=1);
        CREATE TABLE cc AS SELECT c.cid, c.name, k.cname FROM customers c LEFT JOIN countries k ON c.country = k.code;
    """)
    sql.produce("customers", {"CID": "c1"}, {"NAME": "Ada", "COUNTRY": "UK"}, timestamp=1)
    sql.produce("countries", {"CODE": "UK"}, {"CNAME": "United Kingdom"}, timestamp=2)
    sql.produce("countries", {"CODE": "UK"}, {"CNAME": "Britain"}, timestamp=3)
    assert [v["CNAME"] for _, v in sql.read("cc")] == [None, "United Kingdom", "Britain"]


def test_chained_queries_and_timestamp_column() -> None:
    with SqlTestDriver() as sql:
        sql.execute("""
            CREATE STREAM events (id STRING KEY, event_ts BIGINT, v INT) WITH (kafka_topic='events', value_format='JSON', partitions=1, timestamp='event_ts');
            CREATE STREAM doubled AS SELECT id, v * 2 AS v2, ROWTIME AS rt FROM events;
            CREATE STREAM quadrupled AS SELECT id, v2 * 2 AS v4, rt FROM doubled;
        """)
        sql.produce("events", {"ID": "e"}, {"EVENT_TS": 123_456, "V": 3}, timestamp=1)
        assert sql.read("quadrupled", with_timestamps=True) == [
            ({"ID": "e"}, {"V4": 12, "RT": 123_456}, 123_456)
        ]


def test_multi_column_keys_in_json(sql: SqlTestDriver) -> None:
    sql.execute(
        "CREATE TABLE by_two AS SELECT customer, id, COUNT(*) AS n FROM orders GROUP BY customer, id;"
    )
    order(sql, 7, "ada", 1.0, 1)
    raw_key = sql.topics["BY_TWO"].records[0][0]
    assert raw_key == b'{"CUSTOMER":"ada","ID":7}'
    assert sql.read("by_two") == [({"CUSTOMER": "ada", "ID": 7}, {"N": 1})]


def test_a_raising_udf_skips_the_record_under_log_and_continue() -> None:
    registry = registry_with_no_bob("udf_fails_on_bob")
    with SqlTestDriver(registry) as sql:
        sql.execute(ORDERS)
        sql.execute("CREATE STREAM checked AS SELECT id, NO_BOB(customer) AS c FROM orders;")
        order(sql, 1, "bob", 1.0, 1)
        order(sql, 2, "ada", 1.0, 2)
        assert sql.read("checked") == [({"ID": 2}, {"C": "ada"})]


def test_insert_values_and_insert_into(sql: SqlTestDriver) -> None:
    sql.execute("""
        CREATE STREAM all_orders (id INT KEY, customer STRING, amount DOUBLE, tags ARRAY<STRING>) WITH (kafka_topic='all', value_format='JSON', partitions=1);
        INSERT INTO all_orders SELECT * FROM orders;
        INSERT INTO orders (id, customer, amount) VALUES (5, 'eve', 1.5);
    """)
    assert sql.read("all_orders") == [({"ID": 5}, {"CUSTOMER": "eve", "AMOUNT": 1.5, "TAGS": None})]


def test_terminate_stops_a_query(sql: SqlTestDriver) -> None:
    sql.execute("CREATE STREAM copy AS SELECT * FROM orders;")
    sql.execute("TERMINATE CSAS_COPY_0;")
    order(sql, 1, "ada", 1.0, 1)
    assert sql.read("copy") == []
