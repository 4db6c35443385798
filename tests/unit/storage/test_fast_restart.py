"""Fast restarts: a clean start reads one state file per log directory and no partition directory;
after a crash only what is past the recovery point is re-read, by threads or worker processes."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from storage_helpers import NOW, append, batch, read_all

from odradek.model.topic_partition import TopicPartition
from odradek.protocol.records import BatchSpec, build_batch, validate_batches
from odradek.storage import log_loader, recovery
from odradek.storage.errors import ProducerStateError
from odradek.storage.layout import CLEAN_SHUTDOWN_FILE
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager
from odradek.storage.log_state import LOG_STATE_FILE
from odradek.storage.partition_log import AppendInfo, PartitionLog

CONFIG = LogConfig(segment_bytes=700, index_interval_bytes=100)
TOPIC_ID = uuid.UUID(int=9)
TPS = [TopicPartition("t", i) for i in range(6)]
PID = 4000


def idempotent(log: PartitionLog, seq: int) -> tuple[AppendInfo, bytes]:
    spec = BatchSpec(producer_id=PID, producer_epoch=0, base_sequence=seq)
    buf = bytearray(build_batch([(b"k", b"v" * 50, [], NOW)], spec))
    info = log.append(buf, validate_batches(buf), 0, NOW)
    return info, bytes(buf)


def written_manager(directory: Path) -> tuple[LogManager, dict[TopicPartition, bytes]]:
    mgr = LogManager([directory])
    mgr.load(lambda _: CONFIG, NOW)
    written = {}
    for n, tp in enumerate(TPS):
        log = mgr.create_partition(tp, TOPIC_ID, CONFIG, NOW)
        log.leader_epoch_cache.assign(3, 0)
        data = [append(log, batch(2, value_size=60), epoch=3)[1] for _ in range(4 + n)]
        data += [idempotent(log, seq)[1] for seq in range(n % 3)]
        log.high_watermark = log.log_end_offset
        written[tp] = b"".join(data)
    return mgr, written


def describe(mgr: LogManager) -> dict[TopicPartition, tuple[object, ...]]:
    out = {}
    for tp, log in mgr.items():
        last = log.producer_state.last_entry(PID)
        out[tp] = (
            log.topic_id,
            log.log_start_offset,
            log.log_end_offset,
            log.high_watermark,
            [(s.base_offset, s.size) for s in log.segments],
            log.leader_epoch_cache.entries,
            None if last is None else (last.producer_epoch, last.last_seq),
        )
    return out


def test_a_clean_start_reads_no_partition_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mgr, written = written_manager(tmp_path)
    expected = describe(mgr)
    mgr.close()
    assert (tmp_path / LOG_STATE_FILE).exists() and (tmp_path / CLEAN_SHUTDOWN_FILE).exists()

    def no_listing(directory: Path) -> recovery.DirectoryListing:
        raise AssertionError(f"{directory} was listed")

    monkeypatch.setattr(recovery, "list_partition_dir", no_listing)
    again = LogManager([tmp_path])
    report = again.load(lambda _: CONFIG, NOW)
    assert report.partitions == len(TPS) and not report.recovered
    assert describe(again) == expected
    assert len(again.files) == 0  # nothing opened
    assert not (tmp_path / LOG_STATE_FILE).exists()  # it goes with the marker
    for tp, data in written.items():
        log = again.get(tp)
        assert log is not None and read_all(log) == data
        info, _ = append(log, batch(1))
        assert info.first_offset == expected[tp][2]
    log = again.get(TPS[2])
    assert log is not None
    assert idempotent(log, 1)[0].duplicate  # the producer's state came back too
    with pytest.raises(ProducerStateError):
        idempotent(log, 5)  # a sequence gap


def test_a_damaged_state_file_is_ignored(tmp_path: Path) -> None:
    mgr, written = written_manager(tmp_path)
    expected = describe(mgr)
    mgr.close()
    path = tmp_path / LOG_STATE_FILE
    path.write_bytes(path.read_bytes()[:-40] + b"\n")
    again = LogManager([tmp_path])
    again.load(lambda _: CONFIG, NOW)
    assert describe(again) == expected
    assert all(read_all(again.get(tp)) == data for tp, data in written.items())  # type: ignore[arg-type]


def test_the_state_file_is_trusted_only_with_the_marker(tmp_path: Path) -> None:
    mgr, _ = written_manager(tmp_path)
    mgr.close()
    (tmp_path / CLEAN_SHUTDOWN_FILE).unlink()  # as if a crash had happened after it was written
    log = PartitionLog.load(
        tmp_path / "t-0", TPS[0], CONFIG, recovery_point=0, log_start_offset=0, high_watermark=0,
        clean=False, now_ms=NOW,
    )  # fmt: skip
    end = log.log_end_offset
    log.close()
    again = LogManager([tmp_path])
    report = again.load(lambda _: CONFIG, NOW)
    assert set(report.recovered) == set(TPS)
    assert again.get(TPS[0]).log_end_offset == end  # type: ignore[union-attr]


@pytest.mark.parametrize("workers", [1, 2])
def test_after_a_crash_threads_and_processes_recover_the_same_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    mgr, written = written_manager(tmp_path)
    for log in (mgr.get(tp) for tp in TPS):
        assert log is not None
        log.flush(log.segments[-1].base_offset)  # the recovery point: the active segment's start
    mgr.checkpoint()
    expected = describe(mgr)
    recovery_points = {tp: mgr.get(tp).recovery_point for tp in TPS}  # type: ignore[union-attr]
    torn = mgr.get(TPS[5])
    assert torn is not None
    torn_path, torn_size = torn.active_segment.log_path, torn.active_segment.size
    mgr.files.close_all()  # kill -9: no close, no marker, no state file
    with torn_path.open("r+b") as f:
        f.truncate(torn_size - 7)  # a torn last batch
    monkeypatch.setattr(log_loader, "PROCESS_MIN_PARTITIONS", 2)  # workers > 1: processes
    again = LogManager([tmp_path], recovery_threads_per_dir=workers)
    report = again.load(lambda _: CONFIG, NOW)
    assert len(again.files) == 0  # the loaders' descriptors are all closed
    assert set(report.recovered) == set(TPS) and list(report.truncated) == [TPS[5]]
    got = describe(again)
    for tp in TPS[:5]:
        assert got[tp][1:3] == expected[tp][1:3] and got[tp][4:] == expected[tp][4:]
        log = again.get(tp)
        assert log is not None and read_all(log) == written[tp]
        assert log.recovery_point == recovery_points[tp]
    log = again.get(TPS[5])
    assert log is not None and log.log_end_offset < expected[TPS[5]][2]
    assert written[TPS[5]].startswith(read_all(log))
    info, _ = append(log, batch(1))
    assert info.first_offset == log.log_end_offset - 1
