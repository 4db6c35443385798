"""Properties of the log cleaner on random logs, against a model of what compaction must keep."""

from __future__ import annotations

import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parents[1] / "unit" / "storage"))

from cleaner_helpers import Rec, batch_headers, records
from storage_helpers import append, read_all

from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import BatchSpec, build_batch
from odradek.storage.log_cleaner import CleanerConfig
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager
from odradek.storage.partition_log import PartitionLog

NOW = 1_700_000_000_000
DAY = 86_400_000
TP = TopicPartition("model", 0)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

record = st.tuples(
    st.one_of(st.integers(0, 7), st.integers(0, 7), st.integers(0, 7), st.none()),  # mostly keyed
    st.one_of(st.binary(max_size=30), st.binary(max_size=30), st.none()),  # a third are tombstones
    st.integers(0, 2),  # headers
)
step = st.one_of(
    st.tuples(st.just("batch"), st.lists(record, min_size=1, max_size=4), st.integers(0, 4)),
    st.tuples(st.just("batch"), st.lists(record, min_size=1, max_size=4), st.integers(0, 4)),
    st.tuples(st.just("roll"), st.just([]), st.just(0)),
    st.tuples(st.just("clean"), st.just([]), st.integers(0, 2 * DAY)),
)


@dataclass
class Model:
    produced: dict[int, Rec]  # every record ever written, by offset
    codec: dict[int, int]  # batch base offset -> codec
    shape: dict[int, int]  # batch base offset -> lastOffsetDelta
    batch_of: dict[int, int]  # offset -> batch base offset
    alive: set[int]  # offsets still in the log
    horizon: dict[int, int]  # batch base offset -> delete horizon

    def clean(self, end: int, now: int, delete_retention_ms: int) -> None:
        """What one clean of [0, end) at `now` must leave."""
        below = sorted(o for o in self.alive if o < end)
        last_of_key: dict[bytes | None, int] = {}
        for o in below:
            last_of_key[self.produced[o].key] = o
        kept = set()
        for o in below:
            r = self.produced[o]
            if r.key is None or last_of_key[r.key] != o:
                continue
            horizon = self.horizon.get(self.batch_of[o])
            if r.value is None and horizon is not None and now >= horizon:
                continue
            kept.add(o)
        for o in kept:
            batch = self.batch_of[o]
            if self.produced[o].value is None and batch not in self.horizon:
                self.horizon[batch] = now + delete_retention_ms
        self.alive = kept | {o for o in self.alive if o >= end}


def write(
    log: PartitionLog, model: Model, recs: list[tuple[int | None, bytes | None, int]], codec: int
) -> None:
    base = log.log_end_offset
    ts0 = NOW + base
    items = []
    for i, (key, value, n_headers) in enumerate(recs):
        k = None if key is None else b"key%d" % key
        headers: list[tuple[str, bytes | None]] = [(f"h{j}", b"%d" % (base + i)) for j in range(n_headers)]
        items.append((k, value, headers, ts0 + i))
        model.produced[base + i] = Rec(base + i, ts0 + i, k, value, headers)
        model.batch_of[base + i] = base
        model.alive.add(base + i)
    info, _ = append(log, build_batch(items, BatchSpec(compression=codec)), now_ms=NOW)
    assert info.first_offset == base
    log.high_watermark = log.log_end_offset
    model.codec[base] = codec
    model.shape[base] = len(recs) - 1


def check_against_model(log: PartitionLog, model: Model) -> None:
    assert records(log) == [model.produced[o] for o in sorted(model.alive)]
    headers = batch_headers(log)
    assert [h.base_offset for h in headers] == sorted({h.base_offset for h in headers})
    for h in headers:
        assert h.last_offset_delta == model.shape[h.base_offset]
        if h.record_count:
            assert h.compression == model.codec[h.base_offset]


@SETTINGS
@given(
    steps=st.lists(step, min_size=5, max_size=60),
    segment_bytes=st.integers(250, 900),
    delete_retention_ms=st.sampled_from([0, DAY // 2, DAY]),
)
def test_cleaning_keeps_exactly_what_the_model_keeps(
    steps: list[tuple[str, list[tuple[int | None, bytes | None, int]], int]],
    segment_bytes: int,
    delete_retention_ms: int,
) -> None:
    config = LogConfig(
        segment_bytes=segment_bytes,
        index_interval_bytes=64,
        cleanup_policy=("compact",),
        min_cleanable_dirty_ratio=0.0,
        delete_retention_ms=delete_retention_ms,
    )
    with tempfile.TemporaryDirectory() as d:
        manager = LogManager([Path(d)])
        log = manager.create_partition(TP, uuid.UUID(int=7), config, NOW)
        model = Model({}, {}, {}, {}, set(), {})
        now = NOW
        # Always end with everything closed, cleaned, and cleaned again past every horizon.
        finale = [("roll", [], 0), ("clean", [], 0), ("batch", [(0, b"x", 0)], 0), ("roll", [], 0)]
        for kind, recs, arg in [*steps, *finale, ("clean", [], 2 * DAY)]:
            if kind == "batch":
                write(log, model, recs, arg)
            elif kind == "roll":
                log.roll(NOW)
            else:
                now += arg
                active = log.active_segment
                active_bytes = active.read(0, active.size)
                results = manager.run_cleaner(now)
                assert log.active_segment is active
                assert active.read(0, active.size) == active_bytes
                if results:
                    (stats,) = results
                    assert stats.end_offset == active.base_offset
                    horizons = len(model.horizon)
                    tombstones = sum(model.produced[o].value is None for o in model.alive)
                    model.clean(stats.end_offset, now, delete_retention_ms)
                    if sum(model.produced[o].value is None for o in model.alive) < tombstones:
                        event("a clean removed tombstones")
                    if len(model.horizon) > horizons:
                        event("a clean set delete horizons")
                    removed = "some" if stats.records_kept < stats.records_read else "no"
                    event(f"a clean removed {removed} records")
                    event(f"a clean swapped {min(stats.groups_swapped, 3)}+ groups")
            check_against_model(log, model)
        # And all of it survives a restart with recovery.
        expected = read_all(log)
        log.close()
        reloaded = PartitionLog.load(
            log.directory,
            TP,
            config,
            recovery_point=0,
            log_start_offset=0,
            high_watermark=0,
            clean=False,
            now_ms=now,
        )
        assert read_all(reloaded) == expected
        reloaded.close()


@SETTINGS
@given(
    steps=st.lists(step, min_size=1, max_size=40),
    budget_entries=st.integers(1, 6),
)
def test_a_small_offset_map_never_changes_what_consumers_end_with(
    steps: list[tuple[str, list[tuple[int | None, bytes | None, int]], int]], budget_entries: int
) -> None:
    config = LogConfig(
        segment_bytes=400,
        cleanup_policy=("compact",),
        min_cleanable_dirty_ratio=0.0,
        delete_retention_ms=DAY,
    )
    with tempfile.TemporaryDirectory() as d:
        manager = LogManager([Path(d)], cleaner_config=CleanerConfig(dedupe_buffer_size=budget_entries * 110))
        log = manager.create_partition(TP, uuid.UUID(int=7), config, NOW)
        model = Model({}, {}, {}, {}, set(), {})
        now = NOW
        ends = [0]
        for kind, recs, arg in steps:
            if kind == "batch":
                write(log, model, recs, arg)
            elif kind == "roll":
                log.roll(NOW)
            else:
                now += arg
                for stats in manager.run_cleaner(now):
                    assert stats.end_offset >= ends[-1]
                    ends.append(stats.end_offset)
            final: dict[bytes, Rec] = {}
            for o in sorted(model.produced):
                r = model.produced[o]
                if r.key is not None:
                    final[r.key] = r
            got: dict[bytes, Rec] = {}
            for r in records(log):
                assert r == model.produced[r.offset]
                if r.key is not None:
                    got[r.key] = r
            for key, r in final.items():
                if r.value is not None:
                    assert got[key] == r
                else:
                    assert got.get(key, r) == r  # a tombstone, or nothing once it expired
