"""The Processor API: stores, forwarding to named children, punctuators on stream and wall-clock time,
record metadata and headers; and the error handlers (KIP-1033/1034)."""

from __future__ import annotations

from typing import Any

import pytest

from odradek.streams import (
    HandlerResult,
    Processor,
    PunctuationType,
    Record,
    Serdes,
    Stores,
    StreamsBuilder,
    StreamsException,
)


class Dedup(Processor):
    def init(self, context: Any) -> None:
        self.context = context
        self.seen = context.get_state_store("seen")
        context.schedule(10, PunctuationType.STREAM_TIME, self.on_stream_time)
        context.schedule(1000, PunctuationType.WALL_CLOCK_TIME, self.on_wall_clock)

    def process(self, record: Record[Any, Any]) -> None:
        meta = self.context.record_metadata()
        if self.seen.get(record.key) is None:
            self.seen.put(record.key, record.value)
            self.context.forward(record.with_value({"v": record.value, "offset": meta.offset}))

    def on_stream_time(self, ts: int) -> None:
        self.context.forward(Record("tick", {"stream": ts}, ts))

    def on_wall_clock(self, ts: int) -> None:
        self.context.forward(Record("tick", {"wall": ts}, ts))


def test_processor_with_store_and_punctuators(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.add_state_store(Stores.key_value("seen", Serdes.STRING, Serdes.JSON, persistent=False))
    b.stream("in").process(Dedup, stores=["seen"]).to("out")
    d = make_driver(b)
    inp = d.create_input_topic("in", Serdes.STRING, Serdes.JSON)
    out = d.create_output_topic("out", Serdes.STRING, Serdes.JSON)
    inp.pipe_input("a", 1, 5)
    inp.pipe_input("a", 2, 6)
    inp.pipe_input("b", 3, 25)  # stream time passes 10 and 20: one stream-time punctuation (at 25)
    assert out.read_key_values_to_list() == [
        ("a", {"v": 1, "offset": 0}),
        ("b", {"v": 3, "offset": 2}),
        ("tick", {"stream": 25}),
    ]
    d.advance_wall_clock_time(999)
    assert out.is_empty()
    d.advance_wall_clock_time(1)
    assert out.read_key_values_to_list() == [("tick", {"wall": 1000})]


def test_processor_without_store_access_gets_a_clear_error(make_driver: Any) -> None:
    class Reader(Processor):
        def process(self, record: Record[Any, Any]) -> None:
            self.context.get_state_store("other")

    b = StreamsBuilder()
    b.add_state_store(Stores.key_value("other", persistent=False))
    b.stream("in").process(Reader)
    d = make_driver(b)
    with pytest.raises(StreamsException, match="no access to state store 'other'"):
        d.create_input_topic("in", Serdes.STRING, Serdes.JSON).pipe_input("a", 1, 1)


def test_headers_pass_through_to_sinks(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").map_values(lambda v: v + 1).to("out")
    d = make_driver(b)
    d.create_input_topic("in", Serdes.STRING, Serdes.JSON).pipe_input("a", 1, 1, headers=[("trace", b"x")])
    record = d.create_output_topic("out", Serdes.STRING, Serdes.JSON).read_record()
    assert record.headers == [("trace", b"x")]


# -- error handlers ---------------------------------------------------------------------------------


def _doubling(make_driver: Any, config: dict[str, Any]) -> Any:
    b = StreamsBuilder()
    b.stream("in").map_values(lambda v: 100 // v).to("out")
    return make_driver(b, config)


def test_deserialization_error_fails_by_default(make_driver: Any) -> None:
    d = _doubling(make_driver, {})
    with pytest.raises(StreamsException, match="deserialization exception handler said FAIL"):
        d.pipe("in", b"k", b"{not json", 1)


def test_deserialization_error_log_and_continue_with_dead_letter_queue(make_driver: Any) -> None:
    d = _doubling(
        make_driver,
        {
            "deserialization.exception.handler": "log_and_continue",
            "errors.dead.letter.queue.topic.name": "dlq",
        },
    )
    d.pipe("in", b"k", b"{not json", 7, headers=[("h", b"1")])
    d.pipe("in", b"k", b"4", 8)
    assert d.create_output_topic("out", Serdes.STRING, Serdes.JSON).read_key_values_to_list() == [("k", 25)]
    dead = d.create_output_topic("dlq", Serdes.BYTES, Serdes.BYTES).read_record()
    assert (dead.key, dead.value, dead.timestamp) == (b"k", b"{not json", 7)
    headers = dict(dead.headers)
    assert headers["h"] == b"1"
    assert headers["__streams.errors.exception"] == b"SerializationError"
    assert headers["__streams.errors.topic"] == b"in"
    assert headers["__streams.errors.partition"] == b"0"
    assert headers["__streams.errors.offset"] == b"0"
    assert b"Traceback" in headers["__streams.errors.stacktrace"]
    assert d.metrics()["dropped_records"] == 1


def test_processing_error_fails_by_default_and_nothing_after_it_is_processed(make_driver: Any) -> None:
    d = _doubling(make_driver, {})
    inp = d.create_input_topic("in", Serdes.STRING, Serdes.JSON)
    with pytest.raises(StreamsException, match="processing exception handler said FAIL"):
        inp.pipe_input("k", 0, 1)


def test_processing_error_continue_sends_the_source_record_to_the_dlq(make_driver: Any) -> None:
    d = _doubling(
        make_driver,
        {"processing.exception.handler": "log_and_continue", "errors.dead.letter.queue.topic.name": "dlq"},
    )
    inp = d.create_input_topic("in", Serdes.STRING, Serdes.JSON)
    inp.pipe_input("k", 0, 1)
    inp.pipe_input("k", 5, 2)
    assert d.create_output_topic("out", Serdes.STRING, Serdes.JSON).read_values_to_list() == [20]
    dead = d.create_output_topic("dlq", Serdes.BYTES, Serdes.BYTES).read_record()
    assert dead.value == b"0"
    assert dict(dead.headers)["__streams.errors.exception"] == b"ZeroDivisionError"


def test_custom_processing_handler_sees_the_context(make_driver: Any) -> None:
    seen: list[Any] = []

    class Handler:
        def handle(self, context: Any, record: Any, exception: Exception) -> HandlerResult:
            seen.append((context.processor_node_id, context.offset, context.task_id, record.value))
            return HandlerResult.continue_()

    d = _doubling(make_driver, {"processing.exception.handler": Handler()})
    d.create_input_topic("in", Serdes.STRING, Serdes.JSON).pipe_input("k", 0, 1)
    assert seen == [("KSTREAM-MAPVALUES-0000000001", 0, "0_0", 0)]


def test_production_error_continue_drops_the_unserializable_record(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").map_values(lambda v: object() if v == 0 else v).to("out")
    d = make_driver(b, {"production.exception.handler": "continue"})
    inp = d.create_input_topic("in", Serdes.STRING, Serdes.JSON)
    inp.pipe_input("k", 0, 1)
    inp.pipe_input("k", 1, 2)
    assert d.create_output_topic("out", Serdes.STRING, Serdes.JSON).read_values_to_list() == [1]


def test_negative_timestamps_are_skipped_and_counted(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in", timestamp_extractor=lambda k, v, ts, pt: v).to("out")
    d = make_driver(b)
    inp = d.create_input_topic("in", Serdes.STRING, Serdes.JSON)
    inp.pipe_input("k", -5, 1)
    inp.pipe_input("k", 9, 2)
    records = d.create_output_topic("out", Serdes.STRING, Serdes.JSON).read_records_to_list()
    assert [(r.value, r.timestamp) for r in records] == [(9, 9)]
    assert d.metrics()["dropped_records"] == 1


def test_node_metrics_at_debug_recording_level(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in", name="src").filter(lambda k, v: v > 0, name="positive").to("out", name="sink")
    d = make_driver(b, {"metrics.recording.level": "DEBUG"})
    inp = d.create_input_topic("in", Serdes.STRING, Serdes.JSON)
    for v in (1, -1, 2):
        inp.pipe_input("k", v, v + 5)
    nodes = d.metrics()["nodes"]
    assert nodes["positive"] == (3, 2)
    assert nodes["sink"] == (2, 0)
