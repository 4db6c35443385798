"""The log layer when disk space runs out or a disk fails, on real file systems (tmpfs, loop ext4)."""

from __future__ import annotations

import errno
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "unit" / "storage"))
from storage_helpers import NOW, append, batch, read_all

from odradek.model.errors import ErrorCode
from odradek.model.topic_partition import TopicPartition
from odradek.storage.errors import StorageError
from odradek.storage.layout import CLEAN_SHUTDOWN_FILE
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager
from odradek.storage.partition_log import PartitionLog
from odradek.testing.filesystems import FailingDisk, MountUnavailable, failing_ext4, small_tmpfs

CONFIG = LogConfig(segment_bytes=64 * 1024)
TOPIC_ID = uuid.UUID(int=5)


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    try:
        with small_tmpfs(tmp_path / "small", 256 * 1024) as directory:
            yield directory
    except MountUnavailable as exc:
        pytest.skip(str(exc))


@pytest.fixture
def failing_disk(tmp_path: Path) -> Iterator[FailingDisk]:
    try:
        with failing_ext4(tmp_path / "disk") as disk:
            yield disk
    except MountUnavailable as exc:
        pytest.skip(str(exc))


def test_a_full_disk_fails_the_append_and_keeps_the_log(full_disk: Path) -> None:
    mgr = LogManager([full_disk])
    mgr.load(lambda _: CONFIG, NOW)
    log = mgr.create_partition(TopicPartition("t", 0), TOPIC_ID, CONFIG, NOW)
    written = []
    with pytest.raises(StorageError) as full:
        for _ in range(1000):
            written.append(append(log, batch(4, value_size=1000))[1])
    assert full.value.error_code is ErrorCode.KAFKA_STORAGE_ERROR and "No space" in str(full.value)
    assert read_all(log) == b"".join(written)  # nothing torn, nothing lost
    assert not mgr.offline_dirs and not log.offline  # a full disk is not a failed one
    with pytest.raises(OSError) as no_room:
        mgr.create_partitions([(TopicPartition("u", i), TOPIC_ID, CONFIG, 0) for i in range(200)], NOW)
    assert no_room.value.errno == errno.ENOSPC
    assert sorted(p.name for p in full_disk.iterdir() if p.is_dir()) == ["t-0"]  # all or none
    mgr.delete_partition(TopicPartition("t", 0))  # room again
    for path in full_disk.iterdir():
        if path.name.endswith("-delete"):
            for child in path.iterdir():
                child.unlink()
            path.rmdir()
    other = mgr.create_partition(TopicPartition("v", 0), TOPIC_ID, CONFIG, NOW)
    assert append(other, batch(1))[0].first_offset == 0


def test_create_partitions_is_all_or_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mgr = LogManager([tmp_path])
    mgr.load(lambda _: CONFIG, NOW)
    real_create = PartitionLog.create
    calls = []

    def failing_create(*args: object, **kwargs: object) -> PartitionLog:
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.EMFILE, "Too many open files")
        return real_create(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(PartitionLog, "create", failing_create)
    with pytest.raises(OSError):
        mgr.create_partitions([(TopicPartition("t", i), TOPIC_ID, CONFIG, 0) for i in range(5)], NOW)
    assert [p for p in tmp_path.iterdir() if p.is_dir()] == [] and mgr.items() == []


def test_a_failing_disk_takes_its_directory_offline_and_the_others_keep_working(
    tmp_path: Path, failing_disk: FailingDisk
) -> None:
    healthy = tmp_path / "healthy"
    mgr = LogManager([failing_disk.directory, healthy])
    mgr.load(lambda _: CONFIG, NOW)
    offline_heard: list[Path] = []
    mgr.on_dir_offline.append(offline_heard.append)
    on_failing = mgr.create_partition(TopicPartition("t", 0), TOPIC_ID, CONFIG, NOW)
    on_healthy = mgr.create_partition(TopicPartition("t", 1), TOPIC_ID, CONFIG, NOW)
    assert mgr.dir_of(on_failing.tp) == failing_disk.directory
    data = append(on_healthy, batch(2))[1]
    append(on_failing, batch(2))
    failing_disk.fail()
    with pytest.raises(StorageError) as failed:
        append(on_failing, batch(2))
    assert failed.value.error_code is ErrorCode.KAFKA_STORAGE_ERROR
    assert mgr.offline_dirs == {failing_disk.directory} and offline_heard == [failing_disk.directory]
    assert on_failing.offline
    with pytest.raises(StorageError):
        on_failing.read(0, 1000, 2)
    data += append(on_healthy, batch(2))[1]
    assert read_all(on_healthy) == data
    created = mgr.create_partition(TopicPartition("t", 2), TOPIC_ID, CONFIG, NOW)
    assert mgr.dir_of(created.tp) == healthy
    [failing_desc, healthy_desc] = mgr.describe_dirs()
    assert failing_desc.offline and not healthy_desc.offline
    mgr.close()
    assert (healthy / CLEAN_SHUTDOWN_FILE).exists()
