"""Every stateless DSL operator through the test driver."""

from __future__ import annotations

import json
from typing import Any

import pytest

from odradek.streams import Serdes, StreamsBuilder, TopologyException


def _pipe(driver: Any, topic: str, pairs: list[tuple[Any, Any]], start: int = 0) -> None:
    inp = driver.create_input_topic(topic, Serdes.STRING, Serdes.JSON)
    for i, (k, v) in enumerate(pairs):
        inp.pipe_input(k, v, start + i)


def _out(driver: Any, topic: str) -> list[tuple[Any, Any]]:
    return driver.create_output_topic(topic, Serdes.STRING, Serdes.JSON).read_key_values_to_list()


def test_map_filter_and_friends(make_driver: Any) -> None:
    b = StreamsBuilder()
    s = b.stream("in")
    s.filter(lambda k, v: v % 2 == 0).to("even")
    s.filter_not(lambda k, v: v % 2 == 0).to("odd")
    s.map(lambda k, v: (f"{k}!", v * 10)).to("mapped")
    s.map_values(lambda v: v + 1).to("plus1")
    s.map_values(lambda k, v: f"{k}:{v}", with_key=True).to("withkey")
    s.select_key(lambda k, v: str(v)).to("rekeyed")
    s.flat_map(lambda k, v: [(k, v), (k, -v)]).to("flat")
    d = make_driver(b)
    _pipe(d, "in", [("a", 1), ("b", 2)])
    assert _out(d, "even") == [("b", 2)]
    assert _out(d, "odd") == [("a", 1)]
    assert _out(d, "mapped") == [("a!", 10), ("b!", 20)]
    assert _out(d, "plus1") == [("a", 2), ("b", 3)]
    assert _out(d, "withkey") == [("a", "a:1"), ("b", "b:2")]
    assert _out(d, "rekeyed") == [("1", 1), ("2", 2)]
    assert _out(d, "flat") == [("a", 1), ("a", -1), ("b", 2), ("b", -2)]


def test_flat_map_values_turns_a_parse_error_into_no_record(make_driver: Any) -> None:
    """The seed's pattern: a record that does not parse becomes zero records, not a crash."""

    def parse(raw: str) -> list[Any]:
        try:
            return [json.loads(raw)]
        except ValueError:
            return []

    b = StreamsBuilder()
    b.stream("raw", value_serde=Serdes.STRING).flat_map_values(parse).to("parsed")
    d = make_driver(b)
    inp = d.create_input_topic("raw", Serdes.STRING, Serdes.STRING)
    for i, text in enumerate(['{"a": 1}', "not json {", '{"a": 2}']):
        inp.pipe_input("k", text, i)
    assert _out(d, "parsed") == [("k", {"a": 1}), ("k", {"a": 2})]
    assert d.metrics()["processed"] == 3


def test_peek_foreach_merge_and_timestamps(make_driver: Any) -> None:
    seen: list[tuple[str, int]] = []
    b = StreamsBuilder()
    a = b.stream("a")
    c = b.stream("c")
    merged = a.merge(c).peek(lambda k, v: seen.append((k, v)))
    merged.foreach(lambda k, v: seen.append(("each", v)))
    merged.to("out")
    d = make_driver(b)
    _pipe(d, "a", [("x", 1)], start=5)
    _pipe(d, "c", [("y", 2)], start=7)
    records = d.create_output_topic("out", Serdes.STRING, Serdes.JSON).read_records_to_list()
    assert [(r.key, r.value, r.timestamp) for r in records] == [("x", 1, 5), ("y", 2, 7)]
    assert seen == [("x", 1), ("each", 1), ("y", 2), ("each", 2)]


def test_split_sends_each_record_to_the_first_matching_branch(make_driver: Any) -> None:
    b = StreamsBuilder()
    branches = (
        b.stream("in")
        .split(name="route-")
        .branch(lambda k, v: v < 10, name="small")
        .branch(lambda k, v: v < 100, name="medium", chain=lambda s: s.map_values(lambda v: v * 2))
        .default_branch(name="large")
    )
    for name, stream in branches.items():
        stream.to(name)
    d = make_driver(b)
    _pipe(d, "in", [("a", 5), ("b", 50), ("c", 500)])
    assert _out(d, "route--small") == [("a", 5)]
    assert _out(d, "route--medium") == [("b", 100)]
    assert _out(d, "route--large") == [("c", 500)]


def test_branch_old_style(make_driver: Any) -> None:
    b = StreamsBuilder()
    neg, pos = b.stream("in").branch(lambda k, v: v < 0, lambda k, v: v >= 0)
    neg.to("neg")
    pos.to("pos")
    d = make_driver(b)
    _pipe(d, "in", [("a", -1), ("b", 1)])
    assert _out(d, "neg") == [("a", -1)]
    assert _out(d, "pos") == [("b", 1)]


def test_repartition_and_through_round_trip_through_topics(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").select_key(lambda k, v: v["user"]).repartition(name="by-user").to("out")
    b.stream("in2").through("mid").map_values(lambda v: v * 2).to("out2")
    d = make_driver(b, {"application.id": "app"})
    _pipe(d, "in", [("k", {"user": "u1"})])
    _pipe(d, "in2", [("k", 4)])
    assert _out(d, "out") == [("u1", {"user": "u1"})]
    assert _out(d, "app-by-user-repartition") == [("u1", {"user": "u1"})]
    assert _out(d, "out2") == [("k", 8)]
    assert _out(d, "mid") == [("k", 4)]


def test_to_with_topic_extractor_and_partitioner(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").to(lambda k, v, meta: f"out-{v['kind']}", partitioner=lambda t, k, v, kb, n: 0)
    d = make_driver(b)
    _pipe(d, "in", [("a", {"kind": "x"}), ("b", {"kind": "y"})])
    assert _out(d, "out-x") == [("a", {"kind": "x"})]
    assert _out(d, "out-y") == [("b", {"kind": "y"})]


def test_describe_prints_sub_topologies_like_kafka_streams() -> None:
    b = StreamsBuilder()
    b.stream("in", name="source").filter(lambda k, v: True, name="keep").to("out", name="sink")
    text = str(b.build().describe())
    assert text == (
        "Topologies:\n"
        "   Sub-topology: 0\n"
        "    Source: source (topics: [in])\n"
        "      --> keep\n"
        "    Processor: keep (stores: [])\n"
        "      --> sink\n"
        "      <-- source\n"
        "    Sink: sink (topic: out)\n"
        "      <-- keep\n"
    )


def test_topology_errors_are_clear() -> None:
    b = StreamsBuilder()
    b.stream("in")
    with pytest.raises(TopologyException, match="already read by source"):
        b.stream("in")
    with pytest.raises(TopologyException, match="unknown parent"):
        b.build().add_processor("p", lambda: None, "nope")  # type: ignore[arg-type, return-value]


def test_explicit_internal_names_are_enforced() -> None:
    b = StreamsBuilder(explicit_internal_names=True)
    grouped = b.stream("in").group_by(lambda k, v: v)
    with pytest.raises(TopologyException, match="explicit name"):
        grouped.count()
    b.stream("in2").group_by(lambda k, v: v, name="by-value").count(materialized="counts")
