"""What the cleaner keeps of one batch, case by case."""

from __future__ import annotations

from odradek.protocol import compression
from odradek.protocol.records import (
    DELETE_HORIZON_BIT,
    BatchSpec,
    build_batch,
    build_control_batch,
    iter_records,
    read_header,
    set_log_append_time,
    validate_batches,
)
from odradek.storage.batch_filter import FilteredBatch, Verdict, filter_batch
from odradek.storage.offset_map import OffsetMap

NOW = 1_700_000_000_000
DAY = 86_400_000


def offsets(latest: int, **keys: int) -> OffsetMap:
    m = OffsetMap(1 << 20)
    for key, offset in keys.items():
        m.put(key.encode(), offset)
    m.update_latest_offset(latest)
    return m


def batch(pairs: list[tuple[bytes | None, bytes | None]], **spec: object) -> bytes:
    items = [(k, v, [("h", b"%d" % i)], NOW + 10 * i) for i, (k, v) in enumerate(pairs)]
    return build_batch(items, BatchSpec(base_offset=100, **spec))  # type: ignore[arg-type]


def run(
    raw: bytes, m: OffsetMap, now: int = NOW + 1000, retain_empty: bool = False, **kw: bool
) -> FilteredBatch:
    return filter_batch(
        raw, read_header(raw), m, now_ms=now, delete_retention_ms=DAY, retain_empty=retain_empty, **kw
    )


def contents(
    data: bytes | bytearray | memoryview,
) -> list[tuple[int, int, bytes | None, bytes | None, list[tuple[str, bytes | None]]]]:
    data = bytes(data)
    (header,) = validate_batches(data)
    return [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in iter_records(data, 0, header)]


def test_all_latest_is_the_original_batch() -> None:
    raw = batch([(b"a", b"1"), (b"b", b"2")])
    result = run(raw, offsets(200, a=100, b=101))
    assert (result.verdict, bytes(result.data), result.records_kept) == (Verdict.ORIGINAL, raw, 2)


def test_superseded_records_go_and_the_rest_keeps_every_field() -> None:
    raw = batch([(b"a", b"1"), (b"b", b"2"), (b"a", b"3"), (b"c", b"4")], compression=compression.SNAPPY)
    result = run(raw, offsets(200, a=102, b=150, c=103))
    assert result.verdict is Verdict.REWRITTEN
    new = read_header(result.data)
    old = read_header(raw)
    assert (new.base_offset, new.last_offset_delta, new.compression) == (100, 3, compression.SNAPPY)
    assert new.base_timestamp == old.base_timestamp and new.max_timestamp == NOW + 30
    assert contents(result.data) == [
        (102, NOW + 20, b"a", b"3", [("h", b"2")]),
        (103, NOW + 30, b"c", b"4", [("h", b"3")]),
    ]


def test_max_timestamp_follows_the_kept_records_or_the_append_time() -> None:
    raw = batch([(b"a", b"1"), (b"b", b"2")])
    assert run(raw, offsets(200, a=100, b=150)).max_timestamp == NOW
    appended = bytearray(raw)
    set_log_append_time(appended, 0, len(appended), NOW + 5000)
    result = run(bytes(appended), offsets(200, a=100, b=150))
    assert result.verdict is Verdict.REWRITTEN and read_header(result.data).max_timestamp == NOW + 5000


def test_records_beyond_the_map_are_kept_even_if_superseded() -> None:
    raw = batch([(b"a", b"1"), (b"a", b"2")])
    # The map covers offsets up to 100 only (it filled up): 100 is the latest it knows of.
    result = run(raw, offsets(100, a=100))
    assert (result.verdict, result.records_kept) == (Verdict.ORIGINAL, 2)
    # Keys the map holds beyond its latest offset still supersede older records.
    result = run(raw, offsets(100, a=101))
    assert [r[0] for r in contents(bytes(result.data))] == [101]


def test_keyless_records_go() -> None:
    raw = batch([(None, b"1"), (b"a", b"2")])
    assert [r[2] for r in contents(run(raw, offsets(200, a=101)).data)] == [b"a"]


def test_first_tombstone_clean_sets_the_delete_horizon_without_moving_timestamps() -> None:
    raw = batch([(b"a", b"1"), (b"b", None)])
    result = run(raw, offsets(200, a=100, b=101), now=NOW + 1000)
    assert result.verdict is Verdict.REWRITTEN
    new = read_header(result.data)
    assert new.attributes & DELETE_HORIZON_BIT and new.base_timestamp == NOW + 1000 + DAY
    assert contents(result.data) == contents(raw)


def test_tombstones_go_once_the_horizon_has_passed() -> None:
    raw = batch([(b"a", b"1"), (b"b", None)])
    stamped = bytes(run(raw, offsets(200, a=100, b=101), now=NOW).data)
    horizon = NOW + DAY
    again = run(stamped, offsets(200, a=100, b=101), now=horizon - 1)
    assert again.verdict is Verdict.ORIGINAL
    later = run(stamped, offsets(200, a=100, b=101), now=horizon)
    assert later.verdict is Verdict.REWRITTEN
    assert read_header(later.data).base_timestamp == horizon  # the horizon stays with the batch
    assert [(r[2], r[3]) for r in contents(later.data)] == [(b"a", b"1")]


def test_empty_batches_only_where_needed() -> None:
    raw = batch(
        [(b"a", b"1")], producer_id=9, producer_epoch=1, base_sequence=5, compression=compression.GZIP
    )
    m = offsets(200, a=150)
    assert run(raw, m).verdict is Verdict.DROPPED
    empty = run(raw, m, retain_empty=True)
    assert empty.verdict is Verdict.EMPTY
    header = read_header(empty.data)
    assert (header.record_count, header.base_sequence, header.compression, header.max_timestamp) == (
        0,
        5,
        0,
        NOW,
    )
    # An empty batch left by an earlier run stays as it is.
    assert run(bytes(empty.data), m, retain_empty=True).verdict is Verdict.ORIGINAL


def test_control_batches_are_kept_and_aborted_records_discarded() -> None:
    marker = build_control_batch(1, producer_id=3, producer_epoch=0, coordinator_epoch=0, timestamp_ms=NOW)
    assert run(marker, offsets(200)).verdict is Verdict.ORIGINAL
    raw = batch([(b"a", b"1")], producer_id=3, producer_epoch=0, base_sequence=0, is_transactional=True)
    assert run(raw, offsets(200, a=100), discard_records=True).verdict is Verdict.DROPPED
