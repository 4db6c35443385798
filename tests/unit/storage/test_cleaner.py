"""The log cleaner on real partition logs: what it keeps, when it runs, what it never touches."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

from cleaner_helpers import (
    DAY,
    TP,
    batch_headers,
    compact_config,
    compacted_log,
    latest_per_key,
    produce,
    produce_each,
    records,
    reload,
)
from storage_helpers import NOW, read_all

from odradek.protocol import compression
from odradek.protocol.records import DELETE_HORIZON_BIT, BatchSpec
from odradek.storage.layout import CLEANER_OFFSET_CHECKPOINT, LOG_SUFFIX, segment_path
from odradek.storage.log_cleaner import LogCleaner
from odradek.storage.log_manager import LogManager


def keyed(n: int, keys: int, prefix: bytes = b"v") -> list[tuple[bytes | None, bytes | None]]:
    return [(b"k%d" % (i % keys), prefix + b"%d" % i) for i in range(n)]


def test_latest_value_per_key_survives_with_its_offset_timestamp_and_headers(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path)
    for i, (k, v) in enumerate(keyed(40, 4)):
        produce(log, [(k, v)], ts=NOW + 10 * i, headers=[("n", b"%d" % i), ("null", None)])
    before = records(log)
    active_base = log.active_segment.base_offset
    (stats,) = manager.run_cleaner(NOW + DAY)
    assert stats.end_offset == active_base
    after = records(log)
    cleaned = [r for r in after if r.offset < active_base]
    expected = [
        r
        for r in before
        if r.offset < active_base
        and latest_per_key([b for b in before if b.offset < active_base])[r.key] == r
    ]
    assert cleaned == expected
    assert len({r.key for r in cleaned}) == len(cleaned) <= 4
    assert [r for r in after if r.offset >= active_base] == [r for r in before if r.offset >= active_base]
    assert latest_per_key(after) == latest_per_key(before)
    assert all(r.headers == [("n", b"%d" % r.offset), ("null", None)] for r in after)


def test_active_segment_is_never_touched(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path)
    produce_each(log, keyed(30, 2))
    active = log.active_segment
    path = segment_path(log.directory, active.base_offset, LOG_SUFFIX)
    inode, data = os.stat(path).st_ino, path.read_bytes()
    assert manager.run_cleaner(NOW + DAY)
    assert log.active_segment is active
    assert (os.stat(path).st_ino, path.read_bytes()) == (inode, data)
    # Duplicates inside the active segment stay until it is rolled.
    assert [r.key for r in records(log) if r.offset >= active.base_offset].count(b"k0") > 1


def test_offsets_never_change_and_stay_increasing(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path)
    produce_each(log, keyed(50, 3))
    before_batches = {h.base_offset: h for h in batch_headers(log)}
    manager.run_cleaner(NOW + DAY)
    headers = batch_headers(log)
    assert [h.base_offset for h in headers] == sorted({h.base_offset for h in headers})
    for h in headers:  # every batch left is one that was written, with the same offset range
        assert (h.base_offset, h.last_offset_delta) == (
            before_batches[h.base_offset].base_offset,
            before_batches[h.base_offset].last_offset_delta,
        )
    assert log.log_end_offset == 50
    assert [s.base_offset for s in log.segments] == sorted(s.base_offset for s in log.segments)


def test_compressed_batches_keep_their_codec(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path)
    codecs = [compression.GZIP, compression.SNAPPY, compression.LZ4, compression.ZSTD]
    for i in range(16):
        # k0 is overwritten in every batch; k1..k3 only in the last four.
        pairs = [(b"k0", b"x%d" % i), (b"k%d" % (1 + i % 3), b"y%d" % i), (b"u%d" % i, b"z")]
        produce(log, pairs, compression=codecs[i % 4], ts=NOW + i)
    before = {h.base_offset: h for h in batch_headers(log)}
    manager.run_cleaner(NOW + DAY)
    kept = [h for h in batch_headers(log) if h.base_offset < log.active_segment.base_offset]
    rewritten = [h for h in kept if h.record_count and h.record_count < before[h.base_offset].record_count]
    assert rewritten, "some batches lost records and were rewritten"
    for h in kept:
        if h.record_count:
            assert h.compression == before[h.base_offset].compression
    assert latest_per_key(records(log)).keys() >= {b"k0", b"k1", b"k2", b"k3"}


def test_dirty_ratio_must_be_exceeded(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, min_cleanable_dirty_ratio=0.5)
    produce_each(log, keyed(40, 40))  # nothing to deduplicate, but all of it dirty
    (stats,) = manager.run_cleaner(NOW + DAY)
    first_end = stats.end_offset
    size = log.size_in_bytes
    # A little more dirty data: far below half of the log.
    produce_each(log, keyed(8, 40, prefix=b"w"), ts=NOW + 100)
    todo = manager.cleaner.candidates(NOW + DAY)[0][0]
    assert todo.first_dirty_offset == first_end
    assert 0 < todo.cleanable_ratio < 0.5
    assert manager.run_cleaner(NOW + DAY) == []
    assert log.size_in_bytes > size
    log.update_config(compact_config(min_cleanable_dirty_ratio=todo.cleanable_ratio - 0.001))
    assert [s.first_dirty_offset for s in manager.run_cleaner(NOW + DAY)] == [first_end]


def test_min_compaction_lag_keeps_young_segments_dirty(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, min_compaction_lag_ms=60_000)
    produce_each(log, keyed(20, 2), ts=NOW)
    log.roll(NOW)
    young = log.active_segment.base_offset
    produce_each(log, keyed(20, 2, prefix=b"w"), ts=NOW + 50_000)
    log.roll(NOW)
    # At NOW + 70 s only the segments whose records are all older than 60 s may be cleaned.
    (stats,) = manager.run_cleaner(NOW + 70_000)
    assert stats.end_offset == young
    recs = records(log)
    assert [r.value for r in recs if r.offset < young] == [b"v18", b"v19"]
    assert len([r for r in recs if r.offset >= young]) == 20
    (stats,) = manager.run_cleaner(NOW + 120_000)
    assert stats.end_offset == log.active_segment.base_offset
    assert [r.value for r in records(log)] == [b"w18", b"w19"]


def test_max_compaction_lag_forces_a_clean_below_the_ratio(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, max_compaction_lag_ms=DAY)
    produce_each(log, keyed(30, 3), ts=NOW)
    log.update_config(compact_config(min_cleanable_dirty_ratio=1.0, max_compaction_lag_ms=DAY))
    assert manager.run_cleaner(NOW + DAY // 2) == []  # the ratio, 1.0, is not above 1.0
    todo = manager.cleaner.candidates(NOW + DAY + 5)[0][0]
    assert todo.compaction_delay_ms == 5
    (stats,) = manager.run_cleaner(NOW + DAY + 5)
    assert stats.end_offset == log.active_segment.base_offset


def test_tombstones_stay_delete_retention_ms_after_the_first_clean(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, delete_retention_ms=DAY)
    produce_each(log, keyed(10, 2))
    produce(log, [(b"k0", None)], ts=NOW + 20)  # superseded below: goes at once
    produce(log, [(b"k0", b"back")], ts=NOW + 21)
    gone = produce(log, [(b"k1", None)], ts=NOW + 22)
    log.roll(NOW)
    first = NOW + 1000
    manager.run_cleaner(first)
    assert [(r.offset, r.timestamp, r.key, r.value) for r in records(log)] == [
        (gone - 1, NOW + 21, b"k0", b"back"),
        (gone, NOW + 22, b"k1", None),
    ]
    header = next(h for h in batch_headers(log) if h.base_offset == gone)
    assert header.attributes & DELETE_HORIZON_BIT
    assert header.base_timestamp == first + DAY  # the delete horizon, set by the first clean
    # Later cleans before the horizon keep the tombstone and its horizon.
    produce(log, [(b"other", b"x")], ts=NOW + 50)
    log.roll(NOW)
    manager.run_cleaner(first + DAY - 1)
    assert any(r.offset == gone and r.value is None for r in records(log))
    assert next(h for h in batch_headers(log) if h.base_offset == gone).base_timestamp == first + DAY
    produce(log, [(b"other", b"y")], ts=NOW + 60)
    log.roll(NOW)
    manager.run_cleaner(first + DAY)
    assert [r.key for r in records(log)] == [b"k0", b"other"]


def test_keyless_records_are_dropped(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path)
    produce(log, [(None, b"a"), (b"k", b"b"), (None, b"c")])
    produce_each(log, keyed(20, 20))
    manager.run_cleaner(NOW + DAY)
    assert [r.value for r in records(log) if r.offset < 3] == [b"b"]


def test_last_batch_of_a_segment_stays_as_an_empty_batch(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, segment_bytes=1000)
    produce(log, [(b"a", b"1"), (b"b", b"1")])
    produce(log, [(b"a", b"2")])
    produce(log, [(b"b", b"2"), (b"a", b"3")])  # the last batch of the segment
    log.roll(NOW)
    produce(log, [(b"a", b"4"), (b"b", b"3" * 800)])  # too big to merge with the first segment
    log.roll(NOW)
    manager.run_cleaner(NOW + DAY)
    shapes = [(h.base_offset, h.last_offset_delta, h.record_count) for h in batch_headers(log)]
    # Offsets 0-4 are superseded by 5-6: batches 0-1 and 2 go, batch 3-4 stays without records,
    # so that the first segment still ends at offset 4.
    assert shapes == [(3, 1, 0), (5, 1, 2)]
    assert [s.base_offset for s in log.segments] == [0, 5, 7]


def test_merged_segments_keep_only_the_groups_last_batch(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, segment_bytes=100_000)
    produce(log, [(b"a", b"1"), (b"b", b"1")])
    produce(log, [(b"b", b"2"), (b"a", b"3")])
    log.roll(NOW)
    produce(log, [(b"a", b"4"), (b"b", b"3")])
    log.roll(NOW)
    manager.run_cleaner(NOW + DAY)
    assert [(h.base_offset, h.record_count) for h in batch_headers(log)] == [(4, 2)]
    assert [s.base_offset for s in log.segments] == [0, 6]


def test_producers_last_batch_stays_as_an_empty_batch(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, segment_bytes=100_000)
    spec = BatchSpec(producer_id=7, producer_epoch=2, base_sequence=0)
    produce(log, [(b"a", b"1")], spec=spec)
    spec = BatchSpec(producer_id=7, producer_epoch=2, base_sequence=1)
    produce(log, [(b"b", b"1")], spec=spec)
    produce(log, [(b"a", b"2"), (b"b", b"2")])  # no producer id
    produce(log, [(b"c", b"1")])
    log.roll(NOW)
    manager.run_cleaner(NOW + DAY)
    shapes = [(h.base_offset, h.record_count, h.producer_id, h.base_sequence) for h in batch_headers(log)]
    assert shapes == [(1, 0, 7, 1), (2, 2, -1, -1), (4, 1, -1, -1)]


def test_expired_producers_lose_their_last_batch(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, segment_bytes=100_000)
    produce(log, [(b"a", b"1")], spec=BatchSpec(producer_id=7, producer_epoch=0, base_sequence=0))
    produce(log, [(b"a", b"2")])
    produce(log, [(b"z", b"2")])
    log.roll(NOW)
    manager.run_cleaner(NOW + 8 * DAY)  # producer.id.expiration.ms is one day
    assert [h.base_offset for h in batch_headers(log)] == [1, 2]


def test_full_offset_map_cleans_a_prefix_and_the_rest_later(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path)
    manager.cleaner.config = type(manager.cleaner.config)(dedupe_buffer_size=10 * 110)  # ~10 keys
    produce_each(log, [(b"key%02d" % (i % 25), b"%d" % i) for i in range(100)])
    before = records(log)
    ends = []
    for _ in range(12):
        results = manager.run_cleaner(NOW + DAY)
        if not results:
            break
        ends.append(results[0].end_offset)
        assert latest_per_key(records(log)) == latest_per_key(before)
    assert ends == sorted(ends) and len(ends) > 2
    assert ends[-1] == log.active_segment.base_offset
    assert manager.cleaner.first_dirty_offsets()[TP] == ends[-1]
    closed = [r for r in records(log) if r.offset < ends[-1]]
    assert len(closed) == len({r.key for r in closed})


def test_cleaner_checkpoint_file_and_restart(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path)
    produce_each(log, keyed(30, 3))
    (stats,) = manager.run_cleaner(NOW + DAY)
    text = (tmp_path / CLEANER_OFFSET_CHECKPOINT).read_text()
    assert text == f"0\n1\nusers 0 {stats.end_offset}\n"
    expected = read_all(log)
    manager.close()
    manager, log = reload(tmp_path)
    assert read_all(log) == expected
    assert manager.cleaner.first_dirty_offsets() == {TP: stats.end_offset}
    assert manager.run_cleaner(NOW + DAY) == []  # nothing dirty: the active segment only


def test_reloaded_cleaned_segments_have_the_indexes_a_rebuild_gives(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, segment_bytes=3000, index_interval_bytes=60)
    produce_each(log, keyed(120, 30))
    manager.run_cleaner(NOW + DAY)
    segment = log.segments[1]
    written = (list(segment.offset_index._rel), list(segment.offset_index._pos), list(segment.time_index._ts))
    segment.recover()
    assert (
        list(segment.offset_index._rel),
        list(segment.offset_index._pos),
        list(segment.time_index._ts),
    ) == (written)
    assert len(written[0]) > 2
    # Lookups through the new indexes find every surviving record.
    for r in records(log):
        result = log.read(r.offset, 1, log.log_end_offset)
        assert b"".join(result.chunks)


def test_log_that_changed_meanwhile_is_left_alone(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, cleanup_policy=("compact", "delete"), segment_bytes=600)
    produce_each(log, keyed(40, 4))
    expected = read_all(log)
    todo = manager.cleaner.grab_filthiest(NOW + DAY)
    assert todo is not None
    job = manager.cleaner.begin(todo, NOW + DAY)
    assert job is not None
    steps = job.steps()
    next(steps).run()  # the offset map
    next(steps).run()  # the first group's .cleaned files
    log.truncate_to(log.log_end_offset - 1, NOW)  # a truncation bumps the generation
    swap = next(steps)
    assert not swap.blocking
    try:
        swap.run()
    except Exception as exc:
        manager.cleaner.failed(job, exc)
    assert read_all(log) == expected[: len(read_all(log))]
    assert not [p for p in log.directory.iterdir() if p.name.endswith((".cleaned", ".swap", ".deleted"))]
    assert TP not in manager.cleaner.uncleanable
    assert manager.run_cleaner(NOW + DAY)  # the next run starts over


def test_abort_stops_a_running_job(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path)
    produce_each(log, keyed(40, 4))
    expected = read_all(log)
    todo = manager.cleaner.grab_filthiest(NOW + DAY)
    assert todo is not None
    job = manager.cleaner.begin(todo, NOW + DAY)
    assert job is not None
    manager.cleaner.abort()
    try:
        job.run_inline()
        raise AssertionError("the job should have stopped")
    except Exception as exc:
        manager.cleaner.failed(job, exc)
    assert read_all(log) == expected
    assert manager.run_cleaner(NOW + DAY) == []
    assert TP not in manager.cleaner.uncleanable


def test_unchanged_segments_are_not_rewritten(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, segment_bytes=400)
    produce_each(log, [(b"k%d" % i, b"v") for i in range(30)])  # distinct keys
    manager.run_cleaner(NOW + DAY)
    inodes = {s.base_offset: os.stat(s.log_path).st_ino for s in log.segments[:-1]}
    produce_each(log, [(b"n%d" % i, b"v") for i in range(10)], ts=NOW + 100)
    log.roll(NOW)
    (stats,) = manager.run_cleaner(NOW + DAY)
    assert stats.groups_swapped == 0
    assert {b: os.stat(s.log_path).st_ino for s in log.segments if (b := s.base_offset) in inodes} == inodes


def test_compact_delete_gets_retention_and_compaction(tmp_path: Path) -> None:
    manager, log = compacted_log(
        tmp_path, cleanup_policy=("compact", "delete"), retention_ms=DAY, segment_bytes=400
    )
    produce_each(log, keyed(20, 2), ts=NOW - 2 * DAY)
    log.roll(NOW)
    produce_each(log, keyed(20, 2, prefix=b"w"), ts=NOW)
    log.roll(NOW)
    assert manager.run_retention(NOW)
    assert log.log_start_offset == 20
    manager.run_cleaner(NOW)
    assert [r.value for r in records(log)] == [b"w18", b"w19"]


def test_delete_only_topics_are_never_compacted(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, cleanup_policy=("delete",))
    produce_each(log, keyed(30, 2))
    expected = read_all(log)
    assert manager.run_cleaner(NOW + DAY) == []
    assert read_all(log) == expected


def test_cleaning_stops_at_the_high_watermark_and_last_stable_offset(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path, segment_bytes=300)
    produce_each(log, keyed(30, 2))
    bases = [s.base_offset for s in log.segments]
    log.high_watermark = bases[2] + 1
    (stats,) = manager.run_cleaner(NOW + DAY)
    assert stats.end_offset == bases[2]
    manager.cleaner.last_stable_offset = lambda tp, lg: bases[3]
    log.high_watermark = log.log_end_offset
    (stats,) = manager.run_cleaner(NOW + DAY)
    assert stats.end_offset == bases[3]


def test_partition_deleted_while_cleaning(tmp_path: Path) -> None:
    manager, log = compacted_log(tmp_path)
    produce_each(log, keyed(40, 4))
    todo = manager.cleaner.grab_filthiest(NOW + DAY)
    assert todo is not None
    job = manager.cleaner.begin(todo, NOW + DAY)
    assert job is not None
    steps = job.steps()
    next(steps).run()
    doomed = manager.delete_partition(TP)
    assert doomed is not None
    try:
        for step in steps:
            step.run()
        raise AssertionError("the job should have failed")
    except Exception as exc:
        manager.cleaner.failed(job, exc)
    assert TP not in manager.cleaner.uncleanable
    assert not [p for p in doomed.iterdir() if p.name.endswith((".cleaned", ".swap"))]


def test_a_flush_holding_descriptors_of_replaced_segments_is_unharmed(tmp_path: Path) -> None:
    entered, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_fsync(fd: int) -> None:
        entered.set()
        release.wait(10)
        os.fsync(fd)

    manager = LogManager([tmp_path], fsync=slow_fsync)
    log = manager.create_partition(TP, uuid.UUID(int=5), compact_config(), NOW)
    produce_each(log, keyed(40, 4))
    expected = latest_per_key(records(log))

    def flush() -> None:
        try:
            log.flush()
        except BaseException as exc:  # reported to the test thread
            errors.append(exc)

    flusher = threading.Thread(target=flush)
    flusher.start()
    assert entered.wait(10)  # the flush holds duplicates of every segment's descriptors
    (stats,) = LogCleaner(manager).run(NOW + DAY)  # the swap closes the originals
    assert stats.groups_swapped > 0
    release.set()
    flusher.join(10)
    assert errors == [] and log.recovery_point == log.log_end_offset
    assert latest_per_key(records(log)) == expected
