from __future__ import annotations

import asyncio
import errno
import os
import threading
import uuid
from pathlib import Path

import pytest
from storage_helpers import NOW, append, batch

from odradek.model.topic_partition import TopicPartition
from odradek.storage.errors import LogClosedError, StorageError
from odradek.storage.flusher import LogFlusher
from odradek.storage.log_config import LogConfig
from odradek.storage.log_manager import LogManager
from odradek.testing.clock import FakeClock

TP = TopicPartition("t", 0)
HOUR = 3600 * 1000


class FsyncCounter:
    def __init__(self) -> None:
        self.calls = 0
        self.fail = False
        self.errno = errno.EIO
        self.lock = threading.Lock()

    def __call__(self, fd: int) -> None:
        with self.lock:
            self.calls += 1
        if self.fail:
            raise OSError(self.errno, os.strerror(self.errno))


def setup(tmp_path: Path, **config: object) -> tuple[LogManager, FsyncCounter]:
    fsync = FsyncCounter()
    mgr = LogManager([tmp_path], fsync=fsync)
    mgr.load(lambda topic: LogConfig(), NOW)
    mgr.create_partition(TP, uuid.UUID(int=1), LogConfig(**config), NOW)  # type: ignore[arg-type]
    return mgr, fsync


def test_one_fsync_round_serves_many_waiters(tmp_path: Path) -> None:
    mgr, fsync = setup(tmp_path)
    log = mgr.get(TP)
    append(log, batch(1))
    # new partition: its directory and the log dir, the epoch file, the .log (the active segment's
    # indexes are written when it is sealed: recovery rebuilds them after a crash)
    log.flush()
    assert (fsync.calls, log.recovery_point) == (4, 1)
    fsync.calls = 0
    last_offsets = [append(log, batch(2))[0].last_offset for _ in range(50)]

    async def main() -> int:
        flusher = LogFlusher(mgr, FakeClock(NOW), check_interval_ms=HOUR)
        await flusher.start()
        await asyncio.gather(*(flusher.wait_durable(TP, offset) for offset in last_offsets))
        await flusher.stop()
        return flusher.rounds

    assert asyncio.run(main()) == 1
    assert fsync.calls == 1  # the .log, once for all 50 waiters
    assert log.recovery_point == 101


def test_durable_offsets_return_at_once_and_rounds_follow_each_other(tmp_path: Path) -> None:
    mgr, _fsync = setup(tmp_path)
    log = mgr.get(TP)

    async def main() -> list[int]:
        flusher = LogFlusher(mgr, FakeClock(NOW), check_interval_ms=HOUR)
        await flusher.start()
        rounds = []
        for _ in range(3):
            info, _ = append(log, batch(1))
            await flusher.wait_durable(TP, info.last_offset)
            await flusher.wait_durable(TP, info.last_offset)  # already durable: no round
            rounds.append(flusher.rounds)
        await flusher.stop()
        return rounds

    assert asyncio.run(main()) == [1, 2, 3]
    assert log.recovery_point == 3


def test_after_append_waits_only_once_flush_messages_accumulated(tmp_path: Path) -> None:
    mgr, _fsync = setup(tmp_path, flush_messages=3)
    log = mgr.get(TP)

    async def main() -> list[tuple[int, int]]:
        flusher = LogFlusher(mgr, FakeClock(NOW), check_interval_ms=HOUR)
        await flusher.start()
        seen = []
        for _ in range(4):
            info, _ = append(log, batch(1))
            await flusher.after_append(TP, info.last_offset)
            seen.append((flusher.rounds, log.recovery_point))
        await flusher.stop()
        return seen

    assert asyncio.run(main()) == [(0, 0), (0, 0), (1, 3), (1, 3)]


def test_due_logs_flush_ms_and_rolled_segments(tmp_path: Path) -> None:
    mgr, _ = setup(tmp_path, flush_ms=1000)
    log = mgr.get(TP)
    flusher = LogFlusher(mgr, FakeClock(NOW))
    assert flusher.due(NOW) == {}
    append(log, batch(2))
    assert flusher.due(NOW + 999) == {}
    assert flusher.due(NOW + 1000) == {TP: 2}

    mgr2, _ = setup(tmp_path / "other")  # flush.ms = never
    log2 = mgr2.get(TP)
    flusher2 = LogFlusher(mgr2, FakeClock(NOW))
    append(log2, batch(2))
    assert flusher2.due(NOW + 10 * HOUR) == {}
    log2.roll(NOW)
    append(log2, batch(1))
    assert flusher2.due(NOW) == {TP: 2}  # the rolled segment, not the active one
    log2.flush(2)
    assert flusher2.due(NOW) == {}


def test_periodic_round_flushes_due_logs(tmp_path: Path) -> None:
    mgr, _fsync = setup(tmp_path, flush_ms=1000)
    log = mgr.get(TP)
    clock = FakeClock(NOW)

    async def main() -> None:
        flusher = LogFlusher(mgr, clock)
        flusher.due(clock.now_ms())  # first sight of the log
        append(log, batch(2))
        await flusher.run_round()
        assert log.recovery_point == 0
        clock.advance(1000)
        await flusher.run_round()
        assert log.recovery_point == 2

    asyncio.run(main())


def test_an_fsync_io_error_fails_the_waiters_and_takes_the_directory_offline(tmp_path: Path) -> None:
    mgr, fsync = setup(tmp_path)
    log = mgr.get(TP)
    info, _ = append(log, batch(1))
    fsync.fail = True

    async def main() -> None:
        flusher = LogFlusher(mgr, FakeClock(NOW), check_interval_ms=HOUR)
        await flusher.start()
        with pytest.raises(StorageError):
            await flusher.wait_durable(TP, info.last_offset)
        await flusher.stop()

    asyncio.run(main())
    assert log.recovery_point == 0
    assert log.offline and mgr.offline_dirs == {tmp_path}  # as Kafka: a failing fsync fails the disk
    with pytest.raises(StorageError):
        append(log, batch(1))


def test_a_full_disk_at_fsync_fails_the_waiters_only(tmp_path: Path) -> None:
    mgr, fsync = setup(tmp_path)
    log = mgr.get(TP)
    info, _ = append(log, batch(1))
    fsync.fail, fsync.errno = True, errno.ENOSPC

    async def main() -> None:
        flusher = LogFlusher(mgr, FakeClock(NOW), check_interval_ms=HOUR)
        await flusher.start()
        with pytest.raises(StorageError):
            await flusher.wait_durable(TP, info.last_offset)
        await flusher.stop()
        with pytest.raises(LogClosedError):
            await flusher.wait_durable(TP, info.last_offset)

    asyncio.run(main())
    assert log.recovery_point == 0
    fsync.fail = False
    assert log.flush() == 1


def test_flush_from_a_thread_while_appending_and_rolling(tmp_path: Path) -> None:
    mgr, _fsync = setup(tmp_path, segment_bytes=600)
    log = mgr.get(TP)
    stop = threading.Event()
    errors: list[BaseException] = []

    def flusher() -> None:
        try:
            while not stop.is_set():
                log.flush()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=flusher)
    thread.start()
    try:
        for _ in range(300):
            append(log, batch(1, value_size=50))
        log.high_watermark = log.log_end_offset
        log.delete_records_before(100, NOW)
        log.truncate_to(250, NOW)
    finally:
        stop.set()
        thread.join()
    assert errors == []
    assert log.flush() == 250
