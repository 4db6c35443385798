from __future__ import annotations

import uuid
from pathlib import Path

from storage_helpers import NOW, append, batch, read_all

from odradek.model.topic_partition import TopicPartition
from odradek.storage.checkpoints import read_offsets
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager, remove_paths

TOPIC_ID = uuid.UUID(int=7)
CONFIG = LogConfig(segment_bytes=1000)


def configs(topic: str) -> LogConfig:
    return CONFIG


def manager(tmp_path: Path, n_dirs: int = 3) -> LogManager:
    return LogManager([tmp_path / f"d{i}" for i in range(n_dirs)])


def test_new_partitions_go_to_the_dir_with_fewest_partitions(tmp_path: Path) -> None:
    mgr = manager(tmp_path)
    mgr.load(configs, NOW)
    d0, d1, d2 = mgr.log_dirs
    placed = []
    for i in range(4):
        mgr.create_partition(TopicPartition("a", i), TOPIC_ID, CONFIG, NOW)
        placed.append(mgr.dir_of(TopicPartition("a", i)))
    assert placed == [d0, d1, d2, d0]
    mgr.delete_partition(TopicPartition("a", 1))
    mgr.create_partition(TopicPartition("b", 0), TOPIC_ID, CONFIG, NOW)
    assert mgr.dir_of(TopicPartition("b", 0)) == d1
    assert mgr.partitions_by_dir() == {
        d0: [TopicPartition("a", 0), TopicPartition("a", 3)],
        d1: [TopicPartition("b", 0)],
        d2: [TopicPartition("a", 2)],
    }
    assert (d0 / "a-3" / "00000000000000000000.log").exists()


def test_create_is_idempotent(tmp_path: Path) -> None:
    mgr = manager(tmp_path, 1)
    mgr.load(configs, NOW)
    tp = TopicPartition("a", 0)
    log = mgr.create_partition(tp, TOPIC_ID, CONFIG, NOW)
    assert mgr.create_partition(tp, TOPIC_ID, CONFIG, NOW) is log
    assert mgr.get(tp) is log and tp in mgr


def fill(mgr: LogManager, tps: list[TopicPartition], batches: int = 20) -> dict[TopicPartition, bytes]:
    written = {}
    for tp in tps:
        log = mgr.create_partition(tp, TOPIC_ID, CONFIG, NOW)
        written[tp] = b"".join(append(log, batch(3, value_size=30))[1] for _ in range(batches))
        log.high_watermark = log.log_end_offset
    return written


def test_clean_restart_restores_every_partition_and_checkpoint(tmp_path: Path) -> None:
    mgr = manager(tmp_path)
    mgr.load(configs, NOW)
    tps = [TopicPartition("t", i) for i in range(5)]
    written = fill(mgr, tps)
    mgr.get(tps[0]).delete_records_before(6, NOW)
    mgr.close()
    for d in mgr.log_dirs:
        assert (d / ".kafka_cleanshutdown").exists()
    assert read_offsets(mgr.log_dirs[0] / "recovery-point-offset-checkpoint") == {tps[0]: 60, tps[3]: 60}
    assert read_offsets(mgr.log_dirs[0] / "log-start-offset-checkpoint") == {tps[0]: 6, tps[3]: 0}
    assert read_offsets(mgr.log_dirs[0] / "replication-offset-checkpoint") == {tps[0]: 60, tps[3]: 60}

    again = manager(tmp_path)
    report = again.load(configs, NOW)
    assert (report.partitions, report.unclean_dirs, report.recovered) == (5, [], [])
    for d in again.log_dirs:
        assert not (d / ".kafka_cleanshutdown").exists()  # a crash from now on is unclean
    for tp in tps:
        log = again.get(tp)
        assert log is not None and log.topic_id == TOPIC_ID
        assert (log.log_end_offset, log.recovery_point, log.high_watermark) == (60, 60, 60)
        start = 6 if tp == tps[0] else 0
        assert log.log_start_offset == start
        batch_size = len(written[tp]) // 20
        assert read_all(log) == written[tp][start // 3 * batch_size :]
    again.close()


def test_unclean_restart_recovers_from_the_checkpointed_recovery_point(tmp_path: Path) -> None:
    mgr = manager(tmp_path, 2)
    mgr.load(configs, NOW)
    tps = [TopicPartition("t", i) for i in range(3)]
    written = fill(mgr, tps)
    mgr.flush_all()
    mgr.checkpoint()
    more = {tp: append(mgr.get(tp), batch(2))[1] for tp in tps}
    # No close: the process "dies" with descriptors open.
    again = manager(tmp_path, 2)
    report = again.load(configs, NOW)
    assert report.unclean_dirs == again.log_dirs
    assert sorted(report.recovered) == tps
    for tp in tps:
        log = again.get(tp)
        assert read_all(log) == written[tp] + more[tp]
        assert (log.recovery_point, log.log_end_offset) == (60, 62)
    again.close()
    for _, log in mgr.items():
        log.close()


def test_delete_partition_renames_now_and_a_new_one_starts_empty(tmp_path: Path) -> None:
    mgr = manager(tmp_path, 1)
    mgr.load(configs, NOW)
    tp = TopicPartition("gone", 0)
    fill(mgr, [tp])
    old = mgr.get(tp)
    path = mgr.delete_partition(tp)
    assert path is not None and path.parent == mgr.log_dirs[0]
    assert path.name.startswith("gone-0.") and path.name.endswith("-delete")
    assert len(path.name) == len("gone-0.") + 32 + len("-delete")
    assert old.closed and mgr.get(tp) is None
    log = mgr.create_partition(tp, uuid.UUID(int=8), CONFIG, NOW)
    assert log.log_end_offset == 0 and read_all(log) == b""
    mgr.close()
    report = LogManager(mgr.log_dirs).load(configs, NOW)
    assert report.stale == [path]
    remove_paths(report.stale)
    assert not path.exists()
    assert mgr.delete_partition(TopicPartition("never", 0)) is None


def test_retention_across_partitions_and_describe(tmp_path: Path) -> None:
    mgr = manager(tmp_path, 2)
    mgr.load(configs, NOW)
    tps = [TopicPartition("t", 0), TopicPartition("t", 1)]
    fill(mgr, tps, batches=40)
    for tp in tps:
        mgr.get(tp).update_config(LogConfig(segment_bytes=1000, retention_ms=1000))
    sizes_before = {tp: mgr.get(tp).size_in_bytes for tp in tps}
    paths = mgr.run_retention(NOW + 10_000)
    assert paths and all(p.name.endswith(".deleted") for p in paths)
    remove_paths(paths)
    assert not any(p.exists() for p in paths)
    for tp in tps:
        log = mgr.get(tp)
        assert [(s.base_offset, s.size) for s in log.segments] == [(120, 0)]
        assert log.log_start_offset == 120
    described = mgr.describe_dirs()
    assert [d.path for d in described] == mgr.log_dirs
    assert [d.partition_sizes for d in described] == [{tps[0]: 0}, {tps[1]: 0}]
    assert all(d.total_bytes > 0 for d in described)
    assert all(size > 0 for size in sizes_before.values())
    mgr.close()
    again = LogManager(mgr.log_dirs)
    again.load(configs, NOW)
    assert again.get(tps[0]).log_start_offset == 120


def test_load_reports_what_recovery_cut(tmp_path: Path) -> None:
    mgr = manager(tmp_path, 1)
    mgr.load(configs, NOW)
    tp = TopicPartition("torn", 0)
    written = fill(mgr, [tp], batches=3)[tp]
    path = mgr.get(tp).active_segment.log_path
    with open(path, "ab") as f:
        f.write(written[:40])  # a torn fourth batch
    again = manager(tmp_path, 1)
    report = again.load(configs, NOW)
    assert report.truncated == {tp: 40}
    assert read_all(again.get(tp)) == written
    again.close()
    for _, log in mgr.items():
        log.close()
