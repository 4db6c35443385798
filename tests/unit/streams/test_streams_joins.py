"""Every join the DSL offers, through the test driver."""

from __future__ import annotations

from typing import Any

import pytest

from odradek.streams import JoinWindows, Materialized, Serdes, StreamsBuilder, TopologyException
from odradek.streams.testing import TopologyTestDriver


def _inp(driver: Any, topic: str) -> Any:
    return driver.create_input_topic(topic, Serdes.STRING, Serdes.JSON)


def _out(driver: Any, topic: str) -> list[tuple[Any, Any]]:
    return driver.create_output_topic(topic, Serdes.STRING, Serdes.JSON).read_key_values_to_list()


def _stream_stream(make_driver: Any, kind: str) -> Any:
    b = StreamsBuilder()
    left, right = b.stream("left"), b.stream("right")
    join = getattr(left, {"inner": "join", "left": "left_join", "outer": "outer_join"}[kind])
    join(right, lambda lv, rv: [lv, rv], JoinWindows.of(10), name="j").to("out")
    return make_driver(b)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("inner", [("a", ["L1", "R1"]), ("a", ["L2", "R1"])]),
        ("left", [("a", ["L1", "R1"]), ("a", ["L2", "R1"]), ("b", ["Lb", None])]),
        ("outer", [("a", ["L1", "R1"]), ("a", ["L2", "R1"]), ("b", ["Lb", None]), ("c", [None, "Rc"])]),
    ],
)
def test_stream_stream_joins(make_driver: Any, kind: str, expected: list[Any]) -> None:
    d = _stream_stream(make_driver, kind)
    left, right = _inp(d, "left"), _inp(d, "right")
    left.pipe_input("a", "L1", 100)
    right.pipe_input("a", "R1", 105)  # joins L1 (5 ms apart)
    left.pipe_input("b", "Lb", 106)  # never matched
    right.pipe_input("c", "Rc", 107)  # never matched
    left.pipe_input("a", "L2", 112)  # joins R1 (7 ms), not L1's window any more for new rights
    right.pipe_input("x", "late-clock", 200)  # advances stream time: unmatched results are due
    assert _out(d, "out") == expected


def test_stream_stream_join_window_is_asymmetric_with_before_after(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("left").join(b.stream("right"), lambda lv, rv: f"{lv}{rv}", JoinWindows.of(0).after(10)).to(
        "out"
    )
    d = make_driver(b)
    left, right = _inp(d, "left"), _inp(d, "right")
    left.pipe_input("k", "L", 100)
    right.pipe_input("k", "early", 95)  # before the left record: outside [100, 110]
    right.pipe_input("k", "ok", 108)
    assert _out(d, "out") == [("k", "Lok")]


def test_a_record_older_than_the_join_window_retention_is_dropped_and_counted(make_driver: Any) -> None:
    d = _stream_stream(make_driver, "inner")
    left, right = _inp(d, "left"), _inp(d, "right")
    right.pipe_input("a", "R1", 100)
    right.pipe_input("a", "R2", 200)  # stream time 200: the join windows keep [200 - 10 - 10, ...]
    left.pipe_input("a", "old", 105)  # would match R1, but is older than what the window keeps
    left.pipe_input(None, "no-key", 200)  # a join needs a key: dropped as well
    left.pipe_input("a", "L", 195)
    assert _out(d, "out") == [("a", ["L", "R2"])]
    assert d.metrics()["dropped_records"] == 2


def test_stream_table_join_inner_and_left(make_driver: Any) -> None:
    b = StreamsBuilder()
    users = b.table("users")
    clicks = b.stream("clicks")
    clicks.join(users, lambda c, u: {"page": c, "user": u["name"]}).to("inner")
    clicks.left_join(users, lambda c, u: {"page": c, "user": u and u["name"]}).to("left")
    d = make_driver(b)
    _inp(d, "clicks").pipe_input("u1", "/a", 1)
    _inp(d, "users").pipe_input("u1", {"name": "ann"}, 2)
    _inp(d, "clicks").pipe_input("u1", "/b", 3)
    assert _out(d, "inner") == [("u1", {"page": "/b", "user": "ann"})]
    assert _out(d, "left") == [("u1", {"page": "/a", "user": None}), ("u1", {"page": "/b", "user": "ann"})]


def test_stream_global_table_join_by_any_key(make_driver: Any) -> None:
    b = StreamsBuilder()
    products = b.global_table("products", materialized="products")
    b.stream("orders").join(
        products,
        lambda order, product: {**order, "title": product["title"]},
        key_mapper=lambda k, order: order["product"],
    ).to("enriched")
    d = make_driver(b)
    _inp(d, "products").pipe_input("p1", {"title": "lamp"}, 1)
    _inp(d, "orders").pipe_input("o1", {"product": "p1"}, 2)
    _inp(d, "orders").pipe_input("o2", {"product": "p9"}, 3)
    assert _out(d, "enriched") == [("o1", {"product": "p1", "title": "lamp"})]
    assert "Sub-topology: 1 for global store" in str(d.topology.describe())


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("join", [("k", "a1+b1"), ("k", "a2+b1"), ("k", None)]),
        ("left_join", [("k", "a1+None"), ("k", "a1+b1"), ("k", "a2+b1"), ("k", "a2+None")]),
        ("outer_join", [("k", "a1+None"), ("k", "a1+b1"), ("k", "a2+b1"), ("k", "a2+None")]),
    ],
)
def test_table_table_joins(make_driver: Any, kind: str, expected: list[Any]) -> None:
    b = StreamsBuilder()
    a, c = b.table("a"), b.table("b")
    getattr(a, kind)(c, lambda x, y: f"{x}+{y}", materialized=Materialized("joined")).to_stream().to("out")
    d = make_driver(b)
    _inp(d, "a").pipe_input("k", "a1", 1)
    _inp(d, "b").pipe_input("k", "b1", 2)
    _inp(d, "a").pipe_input("k", "a2", 3)
    _inp(d, "b").pipe_input("k", None, 4)
    assert _out(d, "out") == expected


def test_table_table_outer_join_emits_right_only_rows(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.table("a").outer_join(b.table("b"), lambda x, y: [x, y]).to_stream().to("out")
    d = make_driver(b)
    _inp(d, "b").pipe_input("k", "b1", 1)
    assert _out(d, "out") == [("k", [None, "b1"])]


def test_foreign_key_join_follows_both_sides(make_driver: Any) -> None:
    b = StreamsBuilder()
    orders = b.table("orders")
    customers = b.table("customers")
    orders.join(
        customers,
        lambda order, customer: {"order": order["id"], "customer": customer["name"]},
        foreign_key_extractor=lambda order: order["customer"],
        name="fk",
    ).to_stream().to("out")
    d = make_driver(b)
    _inp(d, "customers").pipe_input("c1", {"name": "ann"}, 1)
    _inp(d, "orders").pipe_input("o1", {"id": 1, "customer": "c1"}, 2)
    _inp(d, "customers").pipe_input("c1", {"name": "anne"}, 3)
    _inp(d, "customers").pipe_input("c2", {"name": "bob"}, 4)
    _inp(d, "orders").pipe_input("o1", {"id": 1, "customer": "c2"}, 5)
    _inp(d, "orders").pipe_input("o1", None, 6)
    assert _out(d, "out") == [
        ("o1", {"order": 1, "customer": "ann"}),
        ("o1", {"order": 1, "customer": "anne"}),
        ("o1", {"order": 1, "customer": "bob"}),
        ("o1", None),
    ]


def test_foreign_key_left_join_keeps_rows_without_a_match(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.table("orders").left_join(
        b.table("customers"), lambda o, c: [o, c], foreign_key_extractor=lambda o: o["customer"], name="fk"
    ).to_stream().to("out")
    d = make_driver(b)
    _inp(d, "orders").pipe_input("o1", {"customer": "c9"}, 1)
    assert _out(d, "out") == [("o1", [{"customer": "c9"}, None])]


def test_join_after_rekey_repartitions_both_sides(make_driver: Any) -> None:
    b = StreamsBuilder()
    left = b.stream("left").select_key(lambda k, v: v["user"])
    left.join(b.table("users"), lambda v, u: [v["n"], u]).to("out")
    d = make_driver(b)
    _inp(d, "users").pipe_input("u1", "ann", 1)
    _inp(d, "left").pipe_input("x", {"user": "u1", "n": 1}, 2)
    assert _out(d, "out") == [("u1", [1, "ann"])]


def test_co_partitioning_is_checked_against_partition_counts() -> None:
    b = StreamsBuilder()
    b.stream("clicks").join(b.table("users"), lambda c, u: c).to("out")
    topology = b.build()
    TopologyTestDriver(topology, partitions={"clicks": 3, "users": 3}).close()
    with pytest.raises(TopologyException, match=r"co-partitioning.*clicks=3.*users=4"):
        topology.check_copartitioning({"clicks": 3, "users": 4})


def test_co_partitioning_can_be_checked_at_build_time() -> None:
    b = StreamsBuilder()
    b.stream("orders").join(b.stream("payments"), lambda o, p: o, JoinWindows.of(10)).to("out")
    b.build({"orders": 4, "payments": 4})
    with pytest.raises(TopologyException, match="same number of partitions"):
        b.build({"orders": 4, "payments": 2})


def test_join_kinds_that_do_not_exist_are_refused() -> None:
    b = StreamsBuilder()
    with pytest.raises(TopologyException, match="inner or left"):
        b.stream("s").outer_join(b.table("t"), lambda a, c: a, JoinWindows.of(1))
    with pytest.raises(TopologyException, match="JoinWindows"):
        b.stream("s2").join(b.stream("s3"), lambda a, c: a)
