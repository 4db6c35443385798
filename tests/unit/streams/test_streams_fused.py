"""The fused per-record path (stateless operators as stages, no `Record` between nodes) gives the same
outputs, handler calls and metrics as the general path (`forward` from node to node)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from odradek.streams import Serdes, StreamsBuilder
from odradek.streams.engine import fused
from odradek.streams.errors import StreamsException
from odradek.streams.handlers import ErrorHandlerContext, HandlerResult
from odradek.streams.testing import TopologyTestDriver

DEFAULTS = {"default.key.serde": "string", "default.value.serde": "json"}
OUTPUTS = ["evens", "odds", "parsed", "mapped", "peeked", "branch-small", "branch-big", "counts"]


class Recorder:
    """A processing exception handler that notes what it was given, then continues."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def handle(self, context: ErrorHandlerContext, record: Any, exception: Exception) -> HandlerResult:
        self.calls.append(
            (
                context.processor_node_id,
                context.offset,
                context.source_raw_value,
                record.key,
                record.value,
                record.timestamp,
                type(exception).__name__,
            )
        )
        return HandlerResult.continue_()


def parse(raw: str) -> list[Any]:
    """The seed's pattern: a record that does not parse becomes zero records."""
    try:
        return [json.loads(raw)]
    except ValueError:
        return []


def topology(seen: list[Any]) -> StreamsBuilder:
    b = StreamsBuilder()
    raw = b.stream("raw", value_serde=Serdes.STRING)
    values = raw.flat_map_values(parse, name="parse")
    values.to("parsed", value_serde=Serdes.JSON)
    numbers = values.filter(lambda k, v: isinstance(v, dict), name="objects").map_values(
        lambda v: 100 // v["n"],
        name="divide",  # n == 0 raises in the middle of the chain
    )
    numbers.filter(lambda k, v: v % 2 == 0).to("evens", value_serde=Serdes.JSON)
    numbers.filter_not(lambda k, v: v % 2 == 0).to("odds", value_serde=Serdes.JSON)
    numbers.map(lambda k, v: (k.upper(), [v, v]), name="pair").flat_map(
        lambda k, v: [(k, x) for x in v]
    ).map_values(lambda k, v: f"{k}={v}", with_key=True).to("mapped", value_serde=Serdes.STRING)
    numbers.select_key(lambda k, v: str(v % 3)).peek(lambda k, v: seen.append((k, v))).merge(
        raw.filter(lambda k, v: v.startswith("x")).map_values(len)
    ).to("peeked", value_serde=Serdes.JSON)
    numbers.foreach(lambda k, v: seen.append(("foreach", 1 // (v - 50))))  # v == 50 raises
    branches = numbers.split().branch(lambda k, v: v < 30, name="small").default_branch(name="big")
    for name, stream in branches.items():
        stream.map_values(lambda v: v * 2).to(f"branch-{name.rsplit('-', 1)[-1]}", value_serde=Serdes.JSON)
    numbers.group_by_key().count(materialized="counts").to_stream().to("counts", value_serde=Serdes.LONG)
    return b


INPUT = ['{"n": 1}', "not json", '{"n": 0}', '{"n": 2}', "[1, 2]", "xyz", '{"n": 4}', '{"n": 3}', '{"n": 7}']


def run(fuse: bool, monkeypatch: pytest.MonkeyPatch, config: dict[str, Any] | None = None) -> Any:
    monkeypatch.setattr(fused, "FUSE_STATELESS", fuse)
    seen: list[Any] = []
    handler = Recorder()
    settings = {**DEFAULTS, "processing.exception.handler": handler, **(config or {})}
    with TopologyTestDriver(topology(seen).build(), settings) as driver:
        assert (driver.task._stages is not None) is fuse
        inp = driver.create_input_topic("raw", Serdes.STRING, Serdes.STRING)
        for i, text in enumerate(INPUT):
            inp.pipe_input(f"k{i % 2}", text, 1000 + i)
        outputs: dict[str, Any] = {}
        for topic in OUTPUTS:
            serde = Serdes.LONG if topic == "counts" else Serdes.STRING
            out = driver.create_output_topic(topic, Serdes.STRING, serde)
            outputs[topic] = [(r.key, r.value, r.timestamp) for r in out.read_records_to_list()]
        return outputs, handler.calls, seen, driver.metrics(), driver.task.node_counts()


def test_fused_and_general_paths_give_the_same_outputs_and_handler_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    general = run(False, monkeypatch)
    fast = run(True, monkeypatch)
    outputs, calls, seen, metrics, _ = fast
    assert outputs == general[0]
    assert calls == general[1]
    assert seen == general[2]
    assert metrics == general[3]
    # the workload really exercised the paths compared: "not json" and "xyz" parse to no record
    assert [v for _, v, _ in outputs["parsed"]] == [
        '{"n":1}',
        '{"n":0}',
        '{"n":2}',
        "[1,2]",
        '{"n":4}',
        '{"n":3}',
        '{"n":7}',
    ]
    nodes = sorted({c[0] for c in calls})
    assert "divide" in nodes
    assert any(c[0].startswith("KSTREAM-FOREACH-") for c in calls)  # 1 // (50 - 50)
    divide = [c for c in calls if c[0] == "divide"]
    assert [(c[1], c[2], c[4], c[6]) for c in divide] == [(2, b'{"n": 0}', {"n": 0}, "ZeroDivisionError")]
    assert outputs["evens"] == [("k0", "100", 1000), ("k1", "50", 1003), ("k0", "14", 1008)]
    assert outputs["branch-small"] == [("k0", "50", 1006), ("k0", "28", 1008)]
    assert outputs["peeked"][2] == ("k1", "3", 1005)  # the merged second parent ("xyz")
    assert outputs["counts"][-1] == ("k0", 3, 1008)
    assert outputs["counts"]
    assert metrics["processed"] == len(INPUT)


def test_per_node_counts_turn_fusion_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """`metrics.recording.level=DEBUG` counts records per node, which needs the general path."""
    monkeypatch.setattr(fused, "FUSE_STATELESS", True)
    with TopologyTestDriver(topology([]).build(), {**DEFAULTS, "metrics.recording.level": "DEBUG"}) as driver:
        assert driver.task._stages is None


def test_a_fail_handler_stops_both_paths_at_the_same_record(monkeypatch: pytest.MonkeyPatch) -> None:
    for fuse in (False, True):
        monkeypatch.setattr(fused, "FUSE_STATELESS", fuse)
        b = StreamsBuilder()
        b.stream("in").map_values(lambda v: 10 // v).filter(lambda k, v: v > 1).to("out")
        with TopologyTestDriver(b.build(), DEFAULTS) as driver:
            inp = driver.create_input_topic("in", Serdes.STRING, Serdes.JSON)
            inp.pipe_input("a", 2, 1)
            with pytest.raises(StreamsException, match="processing exception handler said FAIL"):
                inp.pipe_input("b", 0, 2)
            out = driver.create_output_topic("out", Serdes.STRING, Serdes.JSON)
            assert out.read_key_values_to_list() == [("a", 5)]


def test_serialization_errors_go_to_the_production_handler_on_both_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    results = []
    for fuse in (False, True):
        monkeypatch.setattr(fused, "FUSE_STATELESS", fuse)
        b = StreamsBuilder()
        b.stream("in").map_values(lambda v: {1, 2} if v == "set" else {1: v} if v == "int" else v).to("out")
        with TopologyTestDriver(b.build(), {**DEFAULTS, "production.exception.handler": "continue"}) as d:
            inp = d.create_input_topic("in", Serdes.STRING, Serdes.JSON)
            for i, value in enumerate(["a", "set", None, "int", "b"]):
                inp.pipe_input("k", value, i)
            out = d.create_output_topic("out", Serdes.STRING, Serdes.STRING)
            results.append([(r.key, r.value) for r in out.read_records_to_list()])
    # a set cannot be JSON: skipped; a dict with an int key: orjson refuses, the standard library writes it
    assert results[0] == results[1] == [("k", '"a"'), ("k", None), ("k", '{"1":"int"}'), ("k", '"b"')]
