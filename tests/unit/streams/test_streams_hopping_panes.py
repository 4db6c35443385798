"""Pane-based time windows driven as the runtime drives a task: many records per commit, real
RocksDB stores, changelogs captured. The fused stage and the general path (`forward` from node to
node) give the same outputs, store contents and changelog; commits every record and every few
records leave the same store and the same last value of every window (a window that closes between
two commits is emitted as it closes, as Kafka Streams' record cache forwards it at the commit);
counts follow Kafka Streams' rules window by window; windows whose size is not a multiple of the
advance start at multiples of the advance; the changelog restores the same store."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from odradek.streams import (
    EmitStrategy,
    Materialized,
    Serdes,
    StreamsBuilder,
    StreamsConfig,
    TimeWindows,
    Window,
    Windowed,
)
from odradek.streams.engine import fused
from odradek.streams.engine.task import Task
from odradek.streams.internal_serdes import WindowedSerde
from odradek.streams.operators.pending_windows import PendingWindows
from odradek.streams.state.factory import open_store
from odradek.streams.state.segmented import WindowStore

WSTRING = WindowedSerde(Serdes.STRING)
Build = Callable[[StreamsBuilder], None]


def _count(windows: TimeWindows, **kwargs: Any) -> Build:
    def build(b: StreamsBuilder) -> None:
        b.stream("in").group_by_key().windowed_by(windows).count(
            materialized=Materialized("w", **kwargs), late_records_topic="late"
        ).to_stream().to("out", value_serde=Serdes.LONG)

    return build


def _reduce(b: StreamsBuilder) -> None:  # panes merged by a user function, not the built-in sum
    b.stream("in").group_by_key().windowed_by(TimeWindows.hopping(30_000, 10_000, grace_ms=4_000)).reduce(
        lambda a, c: a + c, materialized="w"
    ).to_stream().to("out", value_serde=Serdes.JSON)


def _old_values(b: StreamsBuilder) -> None:  # a table filter needs old values: the merge-both path
    b.stream("in").group_by_key().windowed_by(TimeWindows.hopping(30_000, 10_000)).count(
        materialized="w"
    ).filter(lambda k, v: v % 3 != 0).to_stream().to("out", value_serde=Serdes.LONG)


def _windows_mode(b: StreamsBuilder) -> None:  # aggregate without a merger: one entry per window
    b.stream("in").group_by_key().windowed_by(TimeWindows.hopping(20_000, 10_000, grace_ms=2_000)).aggregate(
        lambda: 0, lambda k, v, agg: agg + v, materialized="w"
    ).to_stream().to("out", value_serde=Serdes.JSON)


def _emit_final(b: StreamsBuilder) -> None:
    b.stream("in").group_by_key().windowed_by(
        TimeWindows.hopping(30_000, 10_000, grace_ms=3_000)
    ).emit_strategy(EmitStrategy.ON_WINDOW_CLOSE).count(materialized="w").to_stream().to(
        "out", value_serde=Serdes.LONG
    )


WORKLOADS: dict[str, Build] = {
    "count": _count(TimeWindows.hopping(30_000, 10_000, grace_ms=5_000)),
    "count-no-grace": _count(TimeWindows.hopping(30_000, 10_000)),
    "count-size-not-multiple": _count(TimeWindows.hopping(10_000, 4_000, grace_ms=1_000)),
    "tumbling": _count(TimeWindows.tumbling(10_000, grace_ms=2_000)),
    "count-uncached": _count(TimeWindows.hopping(30_000, 10_000, grace_ms=5_000), caching=False),
    "reduce": _reduce,
    "old-values": _old_values,
    "windows-mode": _windows_mode,
    "emit-final": _emit_final,
}


def events(seed: int = 11, n: int = 300) -> list[tuple[str | None, int | None, int]]:
    """Mostly in order, ~5 minutes of event time (several store segments' worth of retention), with
    out-of-order records (some late for every window), None keys and None values."""
    rng = random.Random(seed)
    out: list[tuple[str | None, int | None, int]] = []
    for i in range(n):
        ts = max(0, i * 1_000 + rng.choice([0, 0, 0, 0, -3_000, -9_000, -40_000, 700]))
        key: str | None = rng.choice("abcdefg")
        value: int | None = rng.randrange(1, 5)
        if i % 97 == 5:
            key = None
        if i % 89 == 7:
            value = None
        out.append((key, value, ts))
    return out


class _Collector:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, int]] = []

    def send(self, topic: str, key: Any, value: Any, timestamp: int, headers: Any, partition: Any) -> None:
        self.sent.append((topic, key, value, timestamp))

    def partitions_for(self, topic: str) -> int | None:
        return 1


def run(
    build: Build,
    items: list[tuple[str | None, int | None, int]],
    commit_every: int,
    directory: Path,
    cache: int = 10_000,
) -> dict[str, Any]:
    b = StreamsBuilder()
    build(b)
    topology = b.build()
    config = StreamsConfig(
        {
            "application.id": "panes",
            "default.key.serde": "string",
            "default.value.serde": "json",
            "statestore.cache.max.records": cache,
        }
    )
    changelog: list[tuple[bytes, bytes | None]] = []
    stores = {}
    for name, spec in topology.stores.items():
        # a small read cache: reads go to RocksDB too
        store = open_store(spec, directory, Serdes.STRING, Serdes.JSON, 50)
        store.changelog = lambda k, v, ts: changelog.append((k, v))
        stores[name] = store
    collector = _Collector()
    task = Task("0_0", topology, list(topology.nodes), stores, collector, config, lambda: 0, lambda t: t)
    for offset, (key, value, ts) in enumerate(items):
        kb = None if key is None else key.encode()
        vb = None if value is None else json.dumps(value).encode()
        task.process("in", 0, offset, ts, kb, vb)
        if (offset + 1) % commit_every == 0:
            task.commit()
    task.commit()
    store = stores["w"]
    assert isinstance(store, WindowStore)
    result = {
        "out": [(WSTRING.deserialize("out", k), v, t) for topic, k, v, t in collector.sent if topic == "out"],
        "late": [(k, ts) for topic, k, _, ts in collector.sent if topic == "late"],
        "store": store.all(),
        "changelog": changelog,
        "dropped": task.dropped_records,
        "fused": any(getattr(p, "children_stage", None) is not None for p in task.processors.values()),
        "spec": topology.stores["w"],
    }
    task.close()
    return result


def latest(out: list[tuple[Windowed, bytes | None, int]]) -> dict[tuple[str, int, int], bytes | None]:
    found: dict[tuple[str, int, int], bytes | None] = {}
    for windowed, value, _ in out:
        found[(windowed.key, windowed.window.start, windowed.window.end)] = value
    return found


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_fused_and_general_paths_agree(
    workload: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = events()
    monkeypatch.setattr(fused, "FUSE_STATELESS", True)
    fast = run(WORKLOADS[workload], items, 37, tmp_path / "fused")
    monkeypatch.setattr(fused, "FUSE_STATELESS", False)
    general = run(WORKLOADS[workload], items, 37, tmp_path / "general")
    assert fast["out"] == general["out"]
    assert fast["late"] == general["late"]
    assert fast["store"] == general["store"]
    assert fast["changelog"] == general["changelog"]
    assert fast["dropped"] == general["dropped"]
    assert fast["out"], "the workload emitted something"
    assert fast["fused"] and not general["fused"]


@pytest.mark.parametrize("workload", sorted(WORKLOADS))
def test_commit_cadence_leaves_the_same_store_and_final_values(workload: str, tmp_path: Path) -> None:
    items = events(seed=5)
    every = run(WORKLOADS[workload], items, 1, tmp_path / "every")
    batched = run(WORKLOADS[workload], items, 53, tmp_path / "batched")
    assert every["store"] == batched["store"]
    assert every["late"] == batched["late"]
    # a commit emits a window's value as of then: one of the values it had with a commit per record
    had: dict[Any, list[Any]] = {}
    for windowed, value, _ in every["out"]:
        had.setdefault(windowed, []).append(value)
    for windowed, value, _ in batched["out"]:
        assert value in had[windowed], windowed
    # and the last value of every window is the same: no window's final update is lost (a table
    # filter's deletes depend on the values it was shown, so only its store is compared)
    if workload != "old-values":
        assert latest(batched["out"]) == latest(every["out"])
    if workload not in ("count-uncached", "emit-final"):
        assert len(batched["out"]) < len(every["out"])  # the emit cache folded updates
    # the compacted changelog is the store: the last record of each key is what a restore keeps
    assert dict(every["changelog"]) == dict(batched["changelog"])


def exact_events(size: int, grace: int, n: int = 500) -> list[tuple[str | None, int | None, int]]:
    """Out of order only within the grace (on time for every window containing the record) or
    beyond size + grace (late for all): then pane sums are the per-window counts exactly (a record
    late for one window and on time for a newer one sharing its pane would count in the pane)."""
    rng = random.Random(size + grace)
    out: list[tuple[str | None, int | None, int]] = []
    for i in range(n):
        now = i * 500
        draw = rng.random()
        if draw < 0.1 and grace:
            ts = max(0, now - rng.randrange(0, grace))
        elif draw < 0.15:
            ts = max(0, now - size - grace - rng.randrange(1_000, 5_000))
        else:
            ts = now
        out.append((None if i % 61 == 3 else rng.choice("abc"), 1, ts))
    return out


def _brute_force_counts(
    items: list[tuple[str | None, int | None, int]], size: int, advance: int, grace: int
) -> tuple[dict[tuple[str, int, int], int], list[int]]:
    """Kafka Streams' rules window by window: a record counts in each window containing it that
    is open (end + grace > stream time) when it arrives; a record late for all is dropped."""
    counts: dict[tuple[str, int, int], int] = {}
    late: list[int] = []
    stream_time = -1
    for key, value, ts in items:
        stream_time = max(stream_time, ts)
        if key is None or value is None:
            continue
        starts = [s for s in range(0, ts + 1, advance) if s <= ts < s + size]
        open_starts = [s for s in starts if s + size + grace > stream_time]
        if not open_starts:
            late.append(ts)
            continue
        for s in open_starts:
            counts[(key, s, s + size)] = counts.get((key, s, s + size), 0) + 1
    return counts, late


@pytest.mark.parametrize(
    ("size", "advance", "grace"), [(30_000, 10_000, 0), (30_000, 10_000, 5_000), (10_000, 4_000, 1_000)]
)
def test_counts_follow_kafka_streams_rules_window_by_window(
    size: int, advance: int, grace: int, tmp_path: Path
) -> None:
    items = exact_events(size, grace)
    result = run(_count(TimeWindows.hopping(size, advance, grace_ms=grace)), items, 1, tmp_path)
    expected, late = _brute_force_counts(items, size, advance, grace)
    got = {w: Serdes.LONG.deserialize("out", v) for w, v in latest(result["out"]).items()}
    assert got == expected
    assert [ts for _, ts in result["late"]] == late
    for windowed, _, _ in result["out"]:
        assert windowed.window.start % advance == 0
        assert windowed.window.end - windowed.window.start == size


def test_the_changelog_restores_the_same_store(tmp_path: Path) -> None:
    result = run(WORKLOADS["count"], events(seed=9), 41, tmp_path / "app")
    spec = result["spec"]
    fresh = open_store(spec, tmp_path / "restored", Serdes.STRING, Serdes.JSON, 50)
    fresh.restore(result["changelog"])
    assert isinstance(fresh, WindowStore)
    assert fresh.all() == result["store"]
    fresh.close()


@pytest.mark.parametrize("commit_every", [20, 200])
@pytest.mark.parametrize(("size", "advance", "grace"), [(30_000, 10_000, 0), (10_000, 4_000, 1_000)])
def test_a_window_closing_between_commits_gets_its_final_count(
    commit_every: int, size: int, advance: int, grace: int, tmp_path: Path
) -> None:
    """With emit caching and many records per commit, a window that closes in between is emitted
    as it closes, with the count of every record that arrived while it was open."""
    items = exact_events(size, grace)
    windows = TimeWindows.hopping(size, advance, grace_ms=grace)
    result = run(_count(windows), items, commit_every, tmp_path)
    expected, _ = _brute_force_counts(items, size, advance, grace)
    got = {w: Serdes.LONG.deserialize("out", v) for w, v in latest(result["out"]).items()}
    assert got == expected


def test_fetch_many_reads_what_fetch_reads(tmp_path: Path) -> None:
    b = StreamsBuilder()
    WORKLOADS["count"](b)
    spec = b.build().stores["w"]
    store = open_store(spec, tmp_path, Serdes.STRING, Serdes.JSON, 4)
    assert isinstance(store, WindowStore)
    for t in range(0, 200_000, 1_000):
        store.put("k", t // 1000, t)
        if t % 7_000 == 0:
            store.put("k", None, t)  # deleted
        if t % 50_000 == 0:
            store.flush()  # some from RocksDB, some from the buffer; the read cache holds 4
    first, last = 0, 260_000
    expected = [store.fetch("k", t) for t in range(first, last + 1, 1_000)]
    assert store.fetch_many("k", first, last, 1_000) == expected
    assert store.fetch_many("other", first, last, 1_000) == [None] * 261
    store.close()


def test_window_starts_are_multiples_of_the_advance() -> None:
    windows = TimeWindows.hopping(10, 4)
    for ts in range(0, 40):
        assert windows.windows_for(ts) == [Window(s, s + 10) for s in range(0, 40, 4) if s <= ts < s + 10]
    assert windows.first_start_for(13) == 4
    assert windows.first_start_for(3) == 0


def test_pending_windows_keep_ranges_per_key_and_give_closed_ones() -> None:
    pending = PendingWindows(size_ms=30, advance_ms=10, keep_old_values=True)
    assert not pending
    pending.note("a", "a", 40, None, 35)  # the windows containing pane 40: 20, 30, 40
    pending.note("a", "a", 50, 7, 45)  # extends to 50
    pending.note("a", "a", 30, 3, 55)  # out of order: only window 30 is still open (30 + 30 > 55)
    pending.note("a", "a", 120, 1, 115)  # a gap: 100-120
    pending.note("b", "b", 110, None, 116)  # 90-110 (80 + 30 <= 116: closed)
    olds = {40: None, 50: 7, 30: 3, 120: 1}
    assert pending.closed_of("a", 69) == ("a", [20, 30], olds)  # start + 30 <= 69
    assert pending.closed_of("a", 69) is None
    assert pending.closed_of("b", 119) is None
    assert pending.closed_of("c", 200) is None
    assert pending.closed_of("a", 85) == ("a", [40, 50], olds)
    assert pending.drain() == [("a", [100, 110, 120], olds), ("b", [90, 100, 110], {110: None})]
    assert not pending


def test_pending_windows_merge_an_out_of_order_range_before_the_others() -> None:
    pending = PendingWindows(size_ms=20, advance_ms=5, keep_old_values=False)
    pending.note("k", "k", 100, None, 90)  # 85..100
    pending.note("k", "k", 200, None, 190)  # 185..200
    pending.note("k", "k", 60, None, 50)  # 45..60, before both
    pending.note("k", "k", 180, None, 170)  # 165..180 joins 185..200
    assert pending.drain() == [
        ("k", [45, 50, 55, 60, 85, 90, 95, 100, 165, 170, 175, 180, 185, 190, 195, 200], None)
    ]
