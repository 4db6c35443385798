"""The log manager's background passes cost nothing per partition that did not change: the
checkpoints are not rewritten while no offset moved, and the log cleaner looks only at compacted
logs. Each still acts on the partition that changed."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from storage_helpers import NOW, append, batch

from odradek.model.topic_partition import TopicPartition
from odradek.storage.checkpoints import read_offsets
from odradek.storage.layout import (
    LOG_START_OFFSET_CHECKPOINT,
    RECOVERY_POINT_CHECKPOINT,
    REPLICATION_OFFSET_CHECKPOINT,
)
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager

TOPIC_ID = uuid.UUID(int=7)
DELETE = LogConfig(segment_bytes=1000)
COMPACT = LogConfig(segment_bytes=1000, cleanup_policy=("compact",))
CHECKPOINTS = (RECOVERY_POINT_CHECKPOINT, LOG_START_OFFSET_CHECKPOINT, REPLICATION_OFFSET_CHECKPOINT)


def loaded(tmp_path: Path, dirs: int = 1) -> LogManager:
    mgr = LogManager([tmp_path / f"d{i}" for i in range(dirs)])
    mgr.load(lambda _topic: DELETE, NOW)
    return mgr


def inodes(log_dir: Path) -> list[int]:
    """Each checkpoint file's inode: a rewrite (temporary file renamed over it) changes it."""
    return [(log_dir / name).stat().st_ino for name in CHECKPOINTS]


def test_checkpoints_are_rewritten_only_in_the_directory_whose_offsets_moved(tmp_path: Path) -> None:
    mgr = loaded(tmp_path, 2)
    d0, d1 = mgr.log_dirs
    moved, still = TopicPartition("t", 0), TopicPartition("t", 1)  # placed in d0 and d1
    for tp in (moved, still):
        log = mgr.create_partition(tp, TOPIC_ID, DELETE, NOW)
        append(log, batch(3))
        log.high_watermark = log.log_end_offset
    mgr.flush_all()
    mgr.checkpoint()
    before = {d: inodes(d) for d in (d0, d1)}

    mgr.checkpoint()  # nothing moved: nothing written
    assert {d: inodes(d) for d in (d0, d1)} == before

    log = mgr.get(moved)
    assert log is not None
    append(log, batch(2))
    log.high_watermark = log.log_end_offset  # only the high watermark moved (not flushed yet)
    mgr.checkpoint()
    assert inodes(d0) != before[d0] and inodes(d1) == before[d1]
    assert read_offsets(d0 / REPLICATION_OFFSET_CHECKPOINT) == {moved: 5}
    assert read_offsets(d0 / RECOVERY_POINT_CHECKPOINT) == {moved: 3}

    log.flush()  # and now the recovery point
    mgr.checkpoint()
    assert read_offsets(d0 / RECOVERY_POINT_CHECKPOINT) == {moved: 5}
    assert read_offsets(d1 / RECOVERY_POINT_CHECKPOINT) == {still: 3}
    mgr.close()


def test_a_checkpoint_that_failed_is_written_by_the_next_pass(tmp_path: Path) -> None:
    mgr = loaded(tmp_path)
    (log_dir,) = mgr.log_dirs
    tp = TopicPartition("t", 0)
    log = mgr.create_partition(tp, TOPIC_ID, DELETE, NOW)
    append(log, batch(3))
    log.flush()
    (log_dir / RECOVERY_POINT_CHECKPOINT).mkdir()  # the rename over it fails
    with pytest.raises(OSError):
        mgr.checkpoint()
    (log_dir / RECOVERY_POINT_CHECKPOINT).rmdir()
    mgr.checkpoint()  # the same offsets: written, as the last pass did not
    assert read_offsets(log_dir / RECOVERY_POINT_CHECKPOINT) == {tp: 3}
    mgr.close()


def test_the_cleaner_looks_only_at_compacted_logs_and_follows_config_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mgr = loaded(tmp_path)
    logs = {}
    for i in range(5):
        tp = TopicPartition("t", i)
        logs[tp] = mgr.create_partition(tp, TOPIC_ID, COMPACT if i == 0 else DELETE, NOW)
    compacted, altered = TopicPartition("t", 0), TopicPartition("t", 1)

    def every_partition() -> list[tuple[TopicPartition, object]]:
        raise AssertionError("the cleaner's pass went over every partition")

    monkeypatch.setattr(mgr, "items", every_partition)
    assert [todo.tp for todo, _ in mgr.cleaner.candidates(NOW)] == [compacted]

    logs[altered].update_config(COMPACT)  # AlterConfigs cleanup.policy=compact
    assert sorted(todo.tp for todo, _ in mgr.cleaner.candidates(NOW)) == [compacted, altered]

    logs[compacted].update_config(DELETE)
    monkeypatch.undo()
    mgr.delete_partition(altered)
    assert mgr.cleaner.candidates(NOW) == [] and mgr.compacted_items() == []
    again = mgr.create_partition(altered, uuid.UUID(int=8), DELETE, NOW)  # same name, not compacted
    assert mgr.compacted_items() == []
    again.update_config(COMPACT)
    assert mgr.compacted_items() == [(altered, again)]
    mgr.close()
