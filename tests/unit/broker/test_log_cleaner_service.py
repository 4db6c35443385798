"""The cleaner service: blocking steps in a thread, swaps on the loop, a clean stop mid-job."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "storage"))

from cleaner_helpers import TP, compact_config, produce_each, records
from storage_helpers import NOW, read_all

from odradek.broker.log_cleaner_service import LogCleanerService
from odradek.storage.log_cleaner import LogCleaner
from odradek.storage.log_manager import LogManager
from odradek.storage.partition_log import PartitionLog
from odradek.testing.clock import FakeClock


def dirty_log(directory: Path) -> LogManager:
    manager = LogManager([directory])
    log = manager.create_partition(TP, uuid.UUID(int=3), compact_config(), NOW)
    produce_each(log, [(b"k%d" % (i % 3), b"v%d" % i) for i in range(40)])
    return manager


def test_a_pass_cleans_in_a_thread_and_swaps_on_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = dirty_log(tmp_path)
    log = manager.get(TP)
    assert log is not None
    loop_thread = threading.get_ident()
    swaps_on: list[int] = []
    blocking_on: list[int] = []
    original = PartitionLog.replace_segments

    def replace(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        swaps_on.append(threading.get_ident())
        return original(self, *args, **kwargs)

    def fsync(fd: int) -> None:
        blocking_on.append(threading.get_ident())
        os.fsync(fd)

    monkeypatch.setattr(PartitionLog, "replace_segments", replace)  # slotted: patched on the class
    service = LogCleanerService(LogCleaner(manager, fsync=fsync), FakeClock(NOW + 1000), 15_000)

    async def main() -> int:
        (stats,) = await service.run_pass()
        return stats.groups_swapped

    swapped = asyncio.run(main())
    assert swapped == len(swaps_on) > 0
    assert set(swaps_on) == {loop_thread}
    assert blocking_on and loop_thread not in blocking_on
    assert len([r for r in records(log) if r.offset < log.active_segment.base_offset]) <= 3


def test_stop_aborts_the_running_job_and_waits_for_it(tmp_path: Path) -> None:
    manager = dirty_log(tmp_path)
    log = manager.get(TP)
    assert log is not None
    expected = read_all(log)
    entered, release = threading.Event(), threading.Event()

    def fsync(fd: int) -> None:  # the first fsync of a .cleaned file blocks until released
        entered.set()
        release.wait(10)

    cleaner = LogCleaner(manager, fsync=fsync)
    service = LogCleanerService(cleaner, FakeClock(NOW + 1000), 1)

    async def main() -> list[str]:
        service.start()
        await asyncio.to_thread(entered.wait, 10)
        stopping = asyncio.get_running_loop().create_task(service.stop())
        for _ in range(5):
            await asyncio.sleep(0)
        assert not stopping.done()  # waiting for the job's thread
        release.set()
        await stopping
        return sorted(p.name for p in log.directory.iterdir())

    names = asyncio.run(main())
    assert entered.is_set() and cleaner.aborted
    assert not [n for n in names if n.endswith((".cleaned", ".swap", ".deleted"))]
    assert read_all(log) == expected
    assert TP not in cleaner.uncleanable
