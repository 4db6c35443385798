"""Grouping, aggregations, tables and cogroup through the test driver."""

from __future__ import annotations

from typing import Any

from odradek.streams import Change, Materialized, Serdes, StreamsBuilder


def _inp(driver: Any, topic: str) -> Any:
    return driver.create_input_topic(topic, Serdes.STRING, Serdes.JSON)


def _out(driver: Any, topic: str, value_serde: Any = Serdes.JSON) -> list[tuple[Any, Any]]:
    return driver.create_output_topic(topic, Serdes.STRING, value_serde).read_key_values_to_list()


def test_word_count_with_repartition_and_store(make_driver: Any) -> None:
    b = StreamsBuilder()
    (
        b.stream("text", value_serde=Serdes.STRING)
        .flat_map_values(str.split)
        .group_by(lambda k, w: w, name="words")
        .count(materialized="counts")
        .to_stream()
        .to("counts", value_serde=Serdes.LONG)
    )
    d = make_driver(b, {"statestore.cache.max.records": 0})
    inp = d.create_input_topic("text", Serdes.STRING, Serdes.STRING)
    inp.pipe_input(None, "a b a", 1)
    inp.pipe_input(None, "b", 2)
    assert _out(d, "counts", Serdes.LONG) == [("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    store = d.get_key_value_store("counts")
    assert store.get("a").value == 2
    assert sorted((k, v.value) for k, v in store.all()) == [("a", 2), ("b", 2)]
    assert "test-driver-words-repartition" in d.produced_topic_names()
    assert "test-driver-counts-changelog" in d.produced_topic_names()


def test_emit_cache_sends_the_latest_per_key_per_commit(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("text", value_serde=Serdes.STRING).flat_map_values(str.split).group_by(
        lambda k, w: w
    ).count().to_stream().to("counts", value_serde=Serdes.LONG)
    d = make_driver(b)  # cache on: one input record = one commit
    d.create_input_topic("text", Serdes.STRING, Serdes.STRING).pipe_input(None, "a b a", 1)
    assert _out(d, "counts", Serdes.LONG) == [("a", 2), ("b", 1)]


def test_reduce_and_aggregate_keep_the_largest_timestamp(make_driver: Any) -> None:
    b = StreamsBuilder()
    grouped = b.stream("in").group_by_key()
    grouped.reduce(lambda a, v: a + v, materialized=Materialized("sum", caching=False)).to_stream().to("sum")
    grouped.aggregate(
        lambda: {"n": 0, "max": None},
        lambda k, v, agg: {"n": agg["n"] + 1, "max": v if agg["max"] is None else max(agg["max"], v)},
        materialized=Materialized("stats", value_serde=Serdes.JSON, caching=False),
    ).to_stream().to("stats")
    d = make_driver(b)
    inp = _inp(d, "in")
    inp.pipe_input("k", 5, 10)
    inp.pipe_input("k", 7, 3)
    records = d.create_output_topic("sum", Serdes.STRING, Serdes.JSON).read_records_to_list()
    assert [(r.value, r.timestamp) for r in records] == [(5, 10), (12, 10)]
    assert _out(d, "stats") == [("k", {"n": 1, "max": 5}), ("k", {"n": 2, "max": 7})]


def test_null_keys_are_skipped_by_aggregations(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").group_by_key().count(materialized="c").to_stream().to("out", value_serde=Serdes.LONG)
    d = make_driver(b)
    inp = _inp(d, "in")
    inp.pipe_input(None, 1, 1)
    inp.pipe_input("a", 1, 2)
    assert _out(d, "out", Serdes.LONG) == [("a", 1)]


def test_table_filter_map_values_to_stream(make_driver: Any) -> None:
    b = StreamsBuilder()
    table = b.table("users", materialized="users-store")
    table.filter(lambda k, v: v["age"] >= 18).map_values(lambda v: v["name"]).to_stream().to("adults")
    d = make_driver(b)
    inp = _inp(d, "users")
    inp.pipe_input("u1", {"name": "ann", "age": 30}, 1)
    inp.pipe_input("u2", {"name": "bob", "age": 12}, 2)
    inp.pipe_input("u1", {"name": "ann", "age": 17}, 3)  # no longer matches: a delete
    inp.pipe_input("u2", None, 4)  # delete of a row that never matched: nothing
    assert _out(d, "adults") == [("u1", "ann"), ("u1", None)]
    assert d.get_key_value_store("users-store").get("u2") is None


def test_stream_to_table_and_table_source_skip_none_keys(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").to_table(materialized="latest").to_stream().to("out")
    d = make_driver(b)
    inp = _inp(d, "in")
    inp.pipe_input(None, 1, 1)
    inp.pipe_input("a", 2, 2)
    assert _out(d, "out") == [("a", 2)]
    assert d.get_key_value_store("latest").get("a").value == 2


def test_grouped_table_adds_and_subtracts(make_driver: Any) -> None:
    """Sum of balances per region, where users move between regions."""
    b = StreamsBuilder()
    (
        b.table("users")
        .group_by(lambda k, v: (v["region"], v["balance"]), name="by-region")
        .aggregate(
            lambda: 0,
            lambda k, v, a: a + v,
            lambda k, v, a: a - v,
            materialized=Materialized("regions", caching=False),
            value_serde=Serdes.LONG,
        )
        .to_stream()
        .to("totals", value_serde=Serdes.LONG)
    )
    d = make_driver(b)
    inp = _inp(d, "users")
    inp.pipe_input("u1", {"region": "eu", "balance": 10}, 1)
    inp.pipe_input("u2", {"region": "eu", "balance": 5}, 2)
    inp.pipe_input("u1", {"region": "us", "balance": 10}, 3)
    assert _out(d, "totals", Serdes.LONG) == [("eu", 10), ("eu", 15), ("eu", 5), ("us", 10)]


def test_grouped_table_count_and_reduce(make_driver: Any) -> None:
    b = StreamsBuilder()
    table = b.table("users")
    table.group_by(lambda k, v: (v, k), name="c").count(
        materialized=Materialized("cnt", caching=False)
    ).to_stream().to("count", value_serde=Serdes.LONG)
    d = make_driver(b)
    inp = _inp(d, "users")
    inp.pipe_input("u1", "red", 1)
    inp.pipe_input("u2", "red", 2)
    inp.pipe_input("u1", "blue", 3)
    assert _out(d, "count", Serdes.LONG) == [("red", 1), ("red", 2), ("red", 1), ("blue", 1)]


def test_cogroup_aggregates_several_streams_into_one_table(make_driver: Any) -> None:
    b = StreamsBuilder()
    clicks = b.stream("clicks").group_by_key()
    views = b.stream("views").group_by_key()
    (
        clicks.cogroup(lambda k, v, agg: {**agg, "clicks": agg["clicks"] + 1})
        .cogroup(views, lambda k, v, agg: {**agg, "views": agg["views"] + 1})
        .aggregate(lambda: {"clicks": 0, "views": 0}, materialized=Materialized("activity", caching=False))
        .to_stream()
        .to("activity")
    )
    d = make_driver(b)
    _inp(d, "clicks").pipe_input("u", 1, 1)
    _inp(d, "views").pipe_input("u", 1, 2)
    _inp(d, "views").pipe_input("u", 1, 3)
    assert _out(d, "activity")[-1] == ("u", {"clicks": 1, "views": 2})


def test_table_changes_carry_old_values() -> None:
    assert Change(1, None).new == 1
