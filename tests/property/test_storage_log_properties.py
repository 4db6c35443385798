"""Properties of partition logs: reads against a model, and crash recovery at any byte."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import BatchSpec, build_batch, validate_batches
from odradek.storage.log_config import LogConfig
from odradek.storage.partition_log import PartitionLog

NOW = 1_700_000_000_000
TP = TopicPartition("p", 0)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass
class Written:
    first: int
    last: int
    raw: bytes
    timestamps: list[int]


@contextmanager
def temp_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


batch_shapes = st.lists(
    st.tuples(st.integers(1, 5), st.integers(0, 120), st.integers(0, 3)),  # records, value size, compression
    min_size=1,
    max_size=40,
)
configs = st.builds(
    LogConfig,
    segment_bytes=st.integers(800, 4000),
    index_interval_bytes=st.sampled_from([0, 50, 200, 4096]),
)


def write_log(
    directory: Path, config: LogConfig, shapes: list[tuple[int, int, int]]
) -> tuple[PartitionLog, list[Written]]:
    log = PartitionLog.create(directory / "p-0", TP, uuid.UUID(int=1), config, now_ms=NOW)
    written = []
    for i, (count, size, compression) in enumerate(shapes):
        stamps = [NOW + (i * 7 + k * 13) % 50 for k in range(count)]
        records = [(b"k", bytes([k]) * size, [], ts) for k, ts in enumerate(stamps)]
        buf = bytearray(build_batch(records, BatchSpec(compression=compression)))
        info = log.append(buf, validate_batches(buf), i % 3, NOW)
        written.append(Written(info.first_offset, info.last_offset, bytes(buf), stamps))
    return log, written


def expected_read(
    written: list[Written], fetch: int, max_bytes: int, max_offset: int, min_one: bool
) -> bytes:
    eligible = [w for w in written if w.last >= fetch and w.last < max_offset]
    out, total = [], 0
    for w in eligible:
        if total + len(w.raw) > max_bytes:
            break
        out.append(w.raw)
        total += len(w.raw)
    if not out and eligible and min_one:
        out = [eligible[0].raw]
    return b"".join(out)


@SETTINGS
@given(config=configs, shapes=batch_shapes, data=st.data())
def test_reads_match_the_model(
    config: LogConfig, shapes: list[tuple[int, int, int]], data: st.DataObject
) -> None:
    with temp_dir() as d:
        log, written = write_log(d, config, shapes)
        leo = written[-1].last + 1
        assert log.log_end_offset == leo
        for _ in range(10):
            fetch = data.draw(st.integers(0, leo))
            max_bytes = data.draw(st.integers(0, 3000))
            max_offset = data.draw(st.integers(0, leo + 2))
            min_one = data.draw(st.booleans())
            got = b"".join(log.read(fetch, max_bytes, max_offset, min_one).chunks)
            assert got == expected_read(written, fetch, max_bytes, max_offset, min_one)
        target = data.draw(st.integers(NOW - 1, NOW + 51))
        matches = [(w.first + k, ts) for w in written for k, ts in enumerate(w.timestamps) if ts >= target]
        found = log.offset_for_timestamp(target)
        assert (found[:2] if found else None) == (matches[0] if matches else None)
        log.close()


def reopen_unclean(log: PartitionLog, recovery_point: int) -> PartitionLog:
    return PartitionLog.load(
        log.directory,
        TP,
        log.config,
        recovery_point=recovery_point,
        log_start_offset=0,
        high_watermark=0,
        clean=False,
        now_ms=NOW,
    )


def survivors(written: list[Written], damaged_at: int) -> list[Written]:
    """Batches lying wholly before byte `damaged_at` of the log seen as one file."""
    out, pos = [], 0
    for w in written:
        if pos + len(w.raw) > damaged_at:
            break
        out.append(w)
        pos += len(w.raw)
    return out


def check_recovered(log: PartitionLog, kept: list[Written], active_base: int) -> None:
    leo = kept[-1].last + 1 if kept else active_base
    assert log.log_end_offset == leo
    result = log.read(0, 1 << 30, leo)
    assert b"".join(result.chunks) == b"".join(w.raw for w in kept)
    # The log takes appends again where it ends.
    buf = bytearray(build_batch([(None, b"again", [], NOW)]))
    assert log.append(buf, validate_batches(buf), 9, NOW).first_offset == leo


@SETTINGS
@given(config=configs, shapes=batch_shapes, data=st.data())
def test_truncated_active_segment_keeps_every_whole_batch(
    config: LogConfig, shapes: list[tuple[int, int, int]], data: st.DataObject
) -> None:
    with temp_dir() as d:
        log, written = write_log(d, config, shapes)
        active = log.active_segment
        before = sum(s.size for s in log.segments[:-1])
        cut = data.draw(st.integers(0, active.size))
        flushed = data.draw(st.booleans())
        recovery_point = active.base_offset if flushed else 0
        path = active.log_path
        log.close()
        os.truncate(path, cut)
        log = reopen_unclean(log, recovery_point)
        check_recovered(log, survivors(written, before + cut), active.base_offset)
        log.close()


@SETTINGS
@given(config=configs, shapes=batch_shapes, data=st.data())
def test_corrupt_byte_in_the_active_segment_cuts_from_its_batch(
    config: LogConfig, shapes: list[tuple[int, int, int]], data: st.DataObject
) -> None:
    with temp_dir() as d:
        log, written = write_log(d, config, shapes)
        active = log.active_segment
        before = sum(s.size for s in log.segments[:-1])
        # Bytes the checks cover: length (8-11), magic (16), CRC and everything it covers (17-end).
        # baseOffset and partitionLeaderEpoch are outside the CRC, in Kafka's format as in ours.
        in_active = [w for w in written if w.first >= active.base_offset]
        if not in_active:
            log.close()
            return
        index = data.draw(st.integers(0, len(in_active) - 1))
        victim = in_active[index]
        start = sum(len(w.raw) for w in in_active[:index])
        offset_in_batch = data.draw(st.sampled_from([*range(8, 12), *range(16, len(victim.raw))]))
        flip = data.draw(st.integers(1, 255))
        path = active.log_path
        log.close()
        raw = bytearray(path.read_bytes())
        raw[start + offset_in_batch] ^= flip
        path.write_bytes(bytes(raw))
        log = reopen_unclean(log, 0)
        check_recovered(log, survivors(written, before + start), active.base_offset)
        log.close()


@SETTINGS
@given(shapes=batch_shapes, garbage=st.binary(min_size=1, max_size=300))
def test_garbage_after_the_last_batch_is_dropped(shapes: list[tuple[int, int, int]], garbage: bytes) -> None:
    with temp_dir() as d:
        log, written = write_log(d, LogConfig(segment_bytes=2000), shapes)
        path = log.active_segment.log_path
        base = log.active_segment.base_offset
        log.close()
        with open(path, "ab") as f:
            f.write(garbage)
        log = reopen_unclean(log, 0)
        check_recovered(log, written, base)
        log.close()
