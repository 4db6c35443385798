"""A segment too small to have index entries (most partitions of a broker with thousands of them) is
closed without index files: a start reads it in one scan anyway. Loads, clean or not, thread or
worker process, give it empty indexes that are written once it grows and is sealed."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from storage_helpers import NOW, append, batch, new_log, read_all, reopen

from odradek.model.topic_partition import TopicPartition
from odradek.storage import log_loader
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager
from odradek.storage.partition_log import PartitionLog

STAMPS = [NOW, NOW + 10, NOW + 20]


def small_log(directory: Path) -> tuple[PartitionLog, bytes]:
    log = new_log(directory, index_interval_bytes=4096)
    raws = [append(log, batch(1, ts=ts))[1] for ts in STAMPS]
    log.high_watermark = log.log_end_offset
    return log, b"".join(raws)


def index_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.suffix in (".index", ".timeindex"))


def check(log: PartitionLog, written: bytes) -> None:
    assert read_all(log) == written
    assert log.log_end_offset == 3
    assert log.offset_for_timestamp(NOW + 15) == (2, NOW + 20, 0)
    assert log.max_timestamp_entry() == (2, NOW + 20, 0)


@pytest.mark.parametrize("clean", [True, False])
def test_a_small_active_segment_is_closed_without_index_files(tmp_path: Path, clean: bool) -> None:
    log, written = small_log(tmp_path)
    check(log, written)
    log.close()
    assert index_files(log.directory) == []
    again = reopen(log, clean=clean, high_watermark=3)
    check(again, written)
    info, raw = append(again, batch(1, ts=NOW + 30))
    assert info.first_offset == 3
    again.close()
    third = reopen(again, clean=True, high_watermark=4)
    assert read_all(third) == written + raw
    third.close()


def test_a_segment_with_index_entries_still_writes_them_at_close(tmp_path: Path) -> None:
    log = new_log(tmp_path, index_interval_bytes=100)
    raws = [append(log, batch(2, value_size=100))[1] for _ in range(5)]
    entries = log.active_segment.offset_index.entries
    assert entries > 0
    log.close()
    assert len(index_files(log.directory)) == 2
    again = reopen(log, clean=True, high_watermark=10)
    assert again.active_segment.offset_index.entries == entries
    assert read_all(again, 4).startswith(raws[2])
    again.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_recovered_active_indexes_come_back_from_threads_and_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    config = LogConfig(segment_bytes=100_000, index_interval_bytes=100)
    tps = [TopicPartition("t", i) for i in range(3)]
    mgr = LogManager([tmp_path])
    mgr.load(lambda _: config, NOW)
    written: dict[TopicPartition, list[bytes]] = {}
    entries = {}
    for tp in tps:
        log = mgr.create_partition(tp, uuid.UUID(int=3), config, NOW)
        written[tp] = [append(log, batch(2, value_size=100))[1] for _ in range(6)]
        entries[tp] = log.active_segment.offset_index.entries
    mgr.files.close_all()  # kill -9: nothing sealed, no index file of the active segments
    assert all(index_files(tmp_path / f"t-{tp.partition}") == [] for tp in tps)
    monkeypatch.setattr(log_loader, "PROCESS_MIN_PARTITIONS", 2)  # workers > 1: processes
    again = LogManager([tmp_path], recovery_threads_per_dir=workers)
    report = again.load(lambda _: config, NOW)
    assert set(report.recovered) == set(tps)
    for tp in tps:
        log = again.get(tp)
        assert log is not None
        assert log.active_segment.offset_index.entries == entries[tp]  # rebuilt, held in memory
        assert read_all(log) == b"".join(written[tp])
        assert read_all(log, 6) == b"".join(written[tp][3:])  # found through the index
    again.close()
    for tp in tps:  # sealed at close: written now
        assert len(index_files(tmp_path / f"t-{tp.partition}")) == 2
