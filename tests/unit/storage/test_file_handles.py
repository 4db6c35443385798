"""Open file handles: one LRU-bounded `.log` descriptor per segment in use, none for indexes."""

from __future__ import annotations

import errno
import os
import uuid
from pathlib import Path

import pytest
from storage_helpers import NOW, append, batch, new_log, read_all

from odradek.model.topic_partition import TopicPartition
from odradek.storage.file_cache import MIN_CAPACITY, FileCache
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager
from odradek.storage.partition_log import PartitionLog

CONFIG = LogConfig(segment_bytes=600, index_interval_bytes=100)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Holder:
    def __init__(self) -> None:
        self.released = 0

    def release_fd(self) -> None:
        self.released += 1


def test_the_least_recently_used_descriptor_is_closed_first() -> None:
    cache = FileCache(MIN_CAPACITY)
    holders = [Holder() for _ in range(MIN_CAPACITY + 2)]
    for holder in holders[:MIN_CAPACITY]:
        cache.open(holder, lambda: 3)
    cache.touch(holders[0])
    cache.open(holders[MIN_CAPACITY], lambda: 3)
    cache.open(holders[MIN_CAPACITY + 1], lambda: 3)
    assert [h.released for h in holders] == [0, 1, 1] + [0] * (len(holders) - 3)
    assert len(cache) == MIN_CAPACITY and cache.evictions == 2


def test_emfile_closes_half_the_cache_and_retries_once() -> None:
    cache = FileCache(100)
    holders = [Holder() for _ in range(10)]
    for holder in holders:
        cache.open(holder, lambda: 3)
    attempts = []

    def opener() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError(errno.EMFILE, "Too many open files")
        return 4

    assert cache.open(Holder(), opener) == 4
    assert sum(h.released for h in holders) == 5

    def always_emfile() -> int:
        raise OSError(errno.EMFILE, "Too many open files")

    with pytest.raises(OSError):
        cache.open(Holder(), always_emfile)


def test_hundreds_of_partitions_served_through_eight_descriptors(tmp_path: Path) -> None:
    before = open_fds()
    mgr = LogManager([tmp_path], max_open_files=8)
    mgr.load(lambda _: CONFIG, NOW)
    tps = [TopicPartition("t", i) for i in range(300)]
    written: dict[TopicPartition, list[bytes]] = {tp: [] for tp in tps}
    for round_ in range(3):  # every partition rolls at least once, so closed segments are read too
        for tp in tps:
            log = mgr.get(tp) or mgr.create_partition(tp, uuid.UUID(int=1), CONFIG, NOW)
            written[tp].append(append(log, batch(2, value_size=100 + round_))[1])
            assert open_fds() - before <= 8
    assert len(mgr.files) <= 8
    for tp in tps:
        log = mgr.get(tp)
        assert log is not None and len(log.segments) >= 2
        assert read_all(log) == b"".join(written[tp])
    assert open_fds() - before <= 8
    mgr.close()
    assert open_fds() == before


def test_indexes_hold_no_descriptor_and_the_active_ones_are_written_when_sealed(tmp_path: Path) -> None:
    before = open_fds()
    log = new_log(tmp_path, segment_bytes=600, index_interval_bytes=100)
    raws = [append(log, batch(2, value_size=100))[1] for _ in range(12)]
    assert open_fds() - before == 1  # the active segment's .log
    active = log.active_segment
    sealed = log.segments[0]
    assert sealed.offset_index.path.stat().st_size > 0
    assert not active.offset_index.path.exists()  # written when sealed
    assert active.offset_index.entries > 0 and read_all(log) == b"".join(raws)
    log.close()
    assert active.offset_index.path.stat().st_size == 8 * active.offset_index.entries
    assert open_fds() == before


def test_an_evicted_closed_segment_forgets_its_indexes_and_reads_them_again(tmp_path: Path) -> None:
    mgr = LogManager([tmp_path], max_open_files=MIN_CAPACITY)
    log = mgr.create_partition(TopicPartition("t", 0), uuid.UUID(int=1), CONFIG, NOW)
    raws = [append(log, batch(2, value_size=100))[1] for _ in range(12)]
    first = log.segments[0]
    assert read_all(log) == b"".join(raws) and first.offset_index.loaded
    for i in range(MIN_CAPACITY):  # other partitions push the first segment out of the cache
        other = mgr.create_partition(TopicPartition("u", i), uuid.UUID(int=2), CONFIG, NOW)
        append(other, batch(1))
    assert not first._offset_index.loaded
    assert log.read(2, 1 << 20, log.log_end_offset).chunks[0].startswith(raws[1])
    assert first.offset_index.loaded


def test_an_append_keeps_its_segment_the_most_recently_used(tmp_path: Path) -> None:
    """An append through an open descriptor counts as a use: the next descriptor opened evicts
    another segment's, not the one just written."""
    files = FileCache(MIN_CAPACITY)
    logs = [
        PartitionLog.create(
            tmp_path / f"t-{i}", TopicPartition("t", i), uuid.UUID(int=1), CONFIG, now_ms=NOW, files=files
        )
        for i in range(MIN_CAPACITY + 1)
    ]
    for log in logs[:MIN_CAPACITY]:
        append(log, batch(1))  # each opens its active segment's descriptor, the first one first
    append(logs[0], batch(1))  # the least recently used, used again
    append(logs[MIN_CAPACITY], batch(1))  # a ninth descriptor: one is closed
    assert logs[0].active_segment._fd is not None
    assert logs[1].active_segment._fd is None
    for log in logs:
        log.close()
