"""Tumbling, hopping (panes), sliding and session windows; grace, late records, emit-final, suppress."""

from __future__ import annotations

import random
from typing import Any

import pytest

from odradek.streams import (
    EmitStrategy,
    Materialized,
    Serdes,
    SessionWindows,
    SlidingWindows,
    StreamsBuilder,
    Suppressed,
    TimeWindows,
    Window,
    Windowed,
)
from odradek.streams.internal_serdes import WindowedSerde

WSTRING = WindowedSerde(Serdes.STRING)


def _windowed_out(driver: Any, topic: str, value_serde: Any = Serdes.LONG) -> list[tuple[Any, Any]]:
    out = driver.create_output_topic(topic, WSTRING, value_serde).read_key_values_to_list()
    return [((k.key, k.window.start, k.window.end), v) for k, v in out]


def _pipe(driver: Any, topic: str, items: list[tuple[str, Any, int]]) -> None:
    inp = driver.create_input_topic(topic, Serdes.STRING, Serdes.JSON)
    for key, value, ts in items:
        inp.pipe_input(key, value, ts)


def test_tumbling_count_with_grace_and_late_side_output(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").group_by_key().windowed_by(TimeWindows.tumbling(10, grace_ms=5)).count(
        materialized=Materialized("c", caching=False), late_records_topic="late"
    ).to_stream().to("out", value_serde=Serdes.LONG)
    d = make_driver(b)
    _pipe(
        d,
        "in",
        [("a", 1, 1), ("a", 1, 9), ("a", 1, 12), ("a", 1, 14), ("a", 1, 8), ("a", 1, 16), ("a", 1, 3)],
    )
    assert _windowed_out(d, "out") == [
        (("a", 0, 10), 1),
        (("a", 0, 10), 2),
        (("a", 10, 20), 1),
        (("a", 10, 20), 2),
        (("a", 0, 10), 3),  # ts 8 at stream time 14: window [0,10) closes at 15, still open
        (("a", 10, 20), 3),
    ]
    late = d.create_output_topic("late", Serdes.STRING, Serdes.JSON).read_records_to_list()
    assert [(r.key, r.timestamp) for r in late] == [("a", 3)]  # stream time 16 >= 10 + 5: closed
    assert d.metrics()["dropped_records"] == 1  # the late record counts as dropped (task metric)
    store = d.get_window_store("c")
    assert store.fetch("a", 10) == 3


@pytest.mark.parametrize(("caching", "grace"), [(False, 1000), (True, 1000), (True, 0)])
def test_hopping_count_matches_a_brute_force_count(make_driver: Any, caching: bool, grace: int) -> None:
    rng = random.Random(7)
    events = sorted((rng.choice("xyz"), 1, rng.randrange(0, 200)) for _ in range(60))
    events.sort(key=lambda e: e[2])
    b = StreamsBuilder()
    b.stream("in").group_by_key().windowed_by(TimeWindows.hopping(30, 10, grace_ms=grace)).count(
        materialized=Materialized("hop", caching=caching)
    ).to_stream().to("out", value_serde=Serdes.LONG)
    d = make_driver(b)
    _pipe(d, "in", events)
    latest: dict[tuple[str, int, int], int] = {}
    for key, value in _windowed_out(d, "out"):
        latest[key] = value
    expected: dict[tuple[str, int, int], int] = {}
    for key, _, ts in events:
        for start in range(0, 200, 10):
            if start <= ts < start + 30:
                expected[(key, start, start + 30)] = expected.get((key, start, start + 30), 0) + 1
    assert latest == expected


def test_hopping_aggregate_without_merger_updates_each_window(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").group_by_key().windowed_by(TimeWindows.hopping(10, 5)).aggregate(
        lambda: [], lambda k, v, agg: [*agg, v], materialized=Materialized("lists", caching=False)
    ).to_stream().to("out", value_serde=Serdes.JSON)
    d = make_driver(b)
    _pipe(d, "in", [("a", 1, 7), ("a", 2, 8)])
    assert _windowed_out(d, "out", Serdes.JSON) == [
        (("a", 0, 10), [1]),
        (("a", 5, 15), [1]),
        (("a", 0, 10), [1, 2]),
        (("a", 5, 15), [1, 2]),
    ]


def test_emit_final_sends_each_window_once_when_it_closes(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").group_by_key().windowed_by(TimeWindows.hopping(10, 5, grace_ms=2)).emit_strategy(
        EmitStrategy.ON_WINDOW_CLOSE
    ).count(materialized="final").to_stream().to("out", value_serde=Serdes.LONG)
    d = make_driver(b)
    _pipe(d, "in", [("a", 1, 1), ("b", 1, 4), ("a", 1, 6), ("a", 1, 11), ("a", 1, 30)])
    assert _windowed_out(d, "out") == [
        (("a", 0, 10), 2),
        (("b", 0, 10), 1),  # closed at stream time 12 (ts 30 arrives)
        (("a", 5, 15), 2),
        (("a", 10, 20), 1),
    ]


def test_sliding_windows_follow_kip_450(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").group_by_key().windowed_by(SlidingWindows.of(10, grace_ms=100)).count(
        materialized=Materialized("sliding", caching=False)
    ).to_stream().to("out", value_serde=Serdes.LONG)
    d = make_driver(b)
    _pipe(d, "in", [("a", 1, 10), ("a", 1, 15), ("a", 1, 30)])
    results: dict[tuple[str, int, int], int] = {}
    for key, value in _windowed_out(d, "out"):
        results[key] = value
    assert results == {
        ("a", 0, 10): 1,  # left window of 10
        ("a", 5, 15): 2,  # left window of 15: [5, 15] holds 10 and 15
        ("a", 11, 21): 1,  # right window of 10: (10, 21] holds 15
        ("a", 20, 30): 1,  # left window of 30
    }


def test_session_windows_merge_and_emit_tombstones(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").group_by_key().windowed_by(SessionWindows.with_inactivity_gap(5)).count(
        materialized=Materialized("sessions", caching=False)
    ).to_stream().to("out", value_serde=Serdes.LONG)
    d = make_driver(b)
    _pipe(d, "in", [("u", 1, 0), ("u", 1, 10), ("u", 1, 5), ("u", 1, 16)])
    assert _windowed_out(d, "out") == [
        (("u", 0, 0), 1),
        (("u", 10, 10), 1),
        (("u", 0, 0), None),
        (("u", 10, 10), None),
        (("u", 0, 10), 3),  # 5 bridges both sessions
        (("u", 16, 16), 1),  # 6 ms after the last record: a new session
    ]
    store = d.get_session_store("sessions")
    assert store.fetch("u") == [(0, 10, 3), (16, 16, 1)]


def test_session_late_record_is_dropped(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").group_by_key().windowed_by(SessionWindows.with_inactivity_gap(5, grace_ms=0)).count(
        materialized=Materialized("s", caching=False), late_records_topic="late"
    ).to_stream().to("out", value_serde=Serdes.LONG)
    d = make_driver(b)
    _pipe(d, "in", [("u", 1, 100), ("u", 1, 10)])
    assert d.create_output_topic("late", Serdes.STRING, Serdes.JSON).get_queue_size() == 1


def test_suppress_until_window_closes_gives_final_results(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").group_by_key().windowed_by(TimeWindows.tumbling(10, grace_ms=5)).count(
        materialized=Materialized("c", caching=False)
    ).suppress(Suppressed.until_window_closes(), name="final").to_stream().to("out", value_serde=Serdes.LONG)
    d = make_driver(b)
    _pipe(d, "in", [("a", 1, 1), ("a", 1, 2), ("b", 1, 3), ("a", 1, 14)])
    assert _windowed_out(d, "out") == []
    _pipe(d, "in", [("a", 1, 15)])
    assert _windowed_out(d, "out") == [(("a", 0, 10), 2), (("b", 0, 10), 1)]


def test_suppress_until_time_limit_and_full_buffer(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").group_by_key().count(materialized=Materialized("c", caching=False)).suppress(
        Suppressed.until_time_limit(10, max_records=2), name="rate"
    ).to_stream().to("out", value_serde=Serdes.LONG)
    d = make_driver(b)
    _pipe(d, "in", [("a", 1, 0), ("a", 1, 1), ("b", 1, 2)])
    out = d.create_output_topic("out", Serdes.STRING, Serdes.LONG)
    assert out.is_empty()
    _pipe(d, "in", [("c", 1, 3)])  # a third key: buffer of 2 emits its oldest early
    assert out.read_key_values_to_list() == [("a", 2)]
    _pipe(d, "in", [("d", 1, 20)])
    assert out.read_key_values_to_list() == [("b", 1), ("c", 1)]


def test_idle_timeout_closes_windows_on_an_idle_partition(make_driver: Any) -> None:
    b = StreamsBuilder()
    b.stream("in").group_by_key().windowed_by(TimeWindows.tumbling(1000)).emit_strategy(
        EmitStrategy.ON_WINDOW_CLOSE
    ).count(materialized="idle").to_stream().to("out", value_serde=Serdes.LONG)
    d = make_driver(b, {"stream.time.idle.timeout.ms": 5000})
    _pipe(d, "in", [("a", 1, 100)])
    d.advance_wall_clock_time(4000)
    assert _windowed_out(d, "out") == []
    d.advance_wall_clock_time(2000)  # idle 6 s: stream time follows the wall clock to 6100
    assert _windowed_out(d, "out") == [(("a", 0, 1000), 1)]


def test_window_definitions_validate() -> None:
    with pytest.raises(ValueError):
        TimeWindows.hopping(10, 20)
    with pytest.raises(ValueError):
        SessionWindows.with_inactivity_gap(0)
    assert TimeWindows.hopping(10, 4).pane_ms == 2
    assert TimeWindows.hopping(10, 5).windows_for(7) == [Window(0, 10), Window(5, 15)]
    assert repr(Windowed("k", Window(0, 5))) == "['k'@0/5]"


def test_queries_of_a_pane_store_see_windows(make_driver: Any) -> None:
    from odradek.streams.runtime.queries import LocalStoreView

    b = StreamsBuilder()
    b.stream("in").group_by_key().windowed_by(TimeWindows.hopping(10, 5)).count(
        materialized=Materialized("hop", retention_ms=1000)
    )
    d = make_driver(b)
    _pipe(d, "in", [("a", 1, 3), ("a", 1, 7), ("a", 1, 12)])
    view = LocalStoreView("hop", lambda: [d.get_window_store("hop")], d.topology.stores["hop"].panes)
    assert view.fetch("a", 0, 10) == [(0, 2), (5, 2), (10, 1)]
    assert sorted(view.all()) == [(("a", 0), 2), (("a", 5), 2), (("a", 10), 1)]
