"""A crash at any point of a clean loses nothing: after recovery the log reads as before or after.

The crash is simulated by raising from the cleaner's file operations (each rename of the swap, the
fsync of the cleaned files), then dropping the process state without a clean shutdown and loading
the directory again with recovery.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from cleaner_helpers import DAY, batch_headers, compacted_log, copy_dir, produce, records, reload
from storage_helpers import NOW

from odradek.protocol import compression
from odradek.storage.log_cleaner import LogCleaner
from odradek.storage.log_manager import LogManager
from odradek.storage.partition_log import PartitionLog

CLEAN_AT = NOW + DAY
BIG = 100_000  # segment.bytes: every closed segment in one group
SMALL = 1100  # segment.bytes: one segment per group
View = tuple[list[tuple[int, int, int, int]], list[tuple[object, ...]]]


class Crash(Exception):
    pass


def view(log: PartitionLog) -> View:
    """Everything a reader can observe: batch shapes and records."""
    shapes = [(h.base_offset, h.last_offset_delta, h.record_count, h.attributes) for h in batch_headers(log)]
    return shapes, [tuple(r) for r in records(log)]


def build(directory: Path, segment_bytes: int, segments: int) -> None:
    manager, log = compacted_log(directory, segment_bytes=segment_bytes)
    n = 0
    for s in range(segments):
        for _ in range(6):
            key = b"k%d" % ((n * 7) % 9)
            value = None if n % 11 == 5 else b"v%d" % n
            produce(log, [(key, value), (b"u%d" % n, b"x")], ts=NOW + n, compression=(n % 5))
            n += 1
        log.roll(NOW)
        assert len(log.segments) == s + 2
    manager.close()


def crashing(after: int) -> tuple[Callable[[Path, Path], None], list[int]]:
    done = [0]

    def rename(src: Path, dst: Path) -> None:
        if done[0] == after:
            raise Crash(f"crash before rename {after}: {src.name} -> {dst.name}")
        os.replace(src, dst)
        done[0] += 1

    return rename, done


def clean_and_crash(manager: LogManager, cleaner: LogCleaner, stop_before_finish: bool = False) -> bool:
    """Run one clean until the injected crash; True if it crashed."""
    todo = cleaner.grab_filthiest(CLEAN_AT)
    assert todo is not None
    job = cleaner.begin(todo, CLEAN_AT)
    assert job is not None
    crashed = False
    try:
        for step in job.steps():
            if stop_before_finish and step.run == job.finish:
                crashed = True
                break
            step.run()
    except Crash:
        crashed = True
    job.close()
    for _, log in manager.items():
        log.close()  # no flush, no clean-shutdown marker: the next load recovers
    return crashed


def reopened_view(directory: Path, segment_bytes: int) -> View:
    _, log = reload(directory, clean=False, segment_bytes=segment_bytes)
    leftovers = [
        p.name for p in log.directory.iterdir() if p.name.endswith((".cleaned", ".swap", ".deleted"))
    ]
    assert leftovers == []
    return view(log)


def before_and_after(tmp_path: Path, original: Path, segment_bytes: int) -> tuple[View, View, list[int]]:
    _, log = reload(copy_dir(original, tmp_path / "before"), segment_bytes=segment_bytes)
    before = view(log)
    manager, log = reload(copy_dir(original, tmp_path / "after"), segment_bytes=segment_bytes)
    (stats,) = manager.run_cleaner(CLEAN_AT)
    assert stats.groups_swapped >= 1
    boundaries = [s.base_offset for s in log.segments]
    return before, view(log), boundaries


def mix(before: View, after: View, boundary: int) -> View:
    """The log with the groups below `boundary` cleaned and the others not."""
    return (
        [b for b in after[0] if b[0] < boundary] + [b for b in before[0] if b[0] >= boundary],
        [r for r in after[1] if r[0] < boundary] + [r for r in before[1] if r[0] >= boundary],  # type: ignore[operator]
    )


def test_crash_at_every_rename_of_a_single_swap(tmp_path: Path) -> None:
    original = tmp_path / "original"
    build(original, segment_bytes=BIG, segments=4)  # four closed segments, one group
    before, after, boundaries = before_and_after(tmp_path, original, BIG)
    assert len(boundaries) == 2 and before != after
    outcomes = []
    k = 0
    while True:
        directory = copy_dir(original, tmp_path / f"crash{k}")
        manager, _ = reload(directory, segment_bytes=BIG)
        rename, _ = crashing(k)
        crashed = clean_and_crash(manager, LogCleaner(manager, rename=rename))
        state = reopened_view(directory, BIG)
        assert state in (before, after), f"crash before rename {k}"
        outcomes.append(state == after)
        if not crashed:
            break
        k += 1
    # 2 indexes and the log to .swap, 4 segments x 3 files to .deleted, 3 files to their names.
    assert k == 3 + 12 + 3
    # The rename of the .log to .log.swap (the third) commits the swap.
    assert outcomes == [False] * 3 + [True] * (k + 1 - 3)


def test_crash_between_swaps_leaves_a_cleaned_prefix(tmp_path: Path) -> None:
    original = tmp_path / "original"
    build(original, segment_bytes=SMALL, segments=6)
    before, after, boundaries = before_and_after(tmp_path, original, SMALL)
    assert len(boundaries) > 3  # several groups
    allowed = [mix(before, after, b) for b in boundaries]
    seen = []
    k = 0
    while True:
        directory = copy_dir(original, tmp_path / f"crash{k}")
        manager, _ = reload(directory, segment_bytes=SMALL)
        rename, _ = crashing(k)
        crashed = clean_and_crash(manager, LogCleaner(manager, rename=rename))
        state = reopened_view(directory, SMALL)
        assert state in allowed, f"crash before rename {k}"
        seen.append(allowed.index(state))
        if not crashed:
            break
        k += 1
    assert seen == sorted(seen) and seen[0] == 0 and allowed[seen[-1]] == after


def test_crash_while_writing_the_cleaned_files(tmp_path: Path) -> None:
    original = tmp_path / "original"
    build(original, segment_bytes=BIG, segments=3)
    before, _, _ = before_and_after(tmp_path, original, BIG)
    manager, _ = reload(original, segment_bytes=BIG)

    def fsync(fd: int) -> None:
        raise Crash("power cut during fsync")

    assert clean_and_crash(manager, LogCleaner(manager, fsync=fsync))
    assert any(p.name.endswith(".cleaned") for p in (original / "users-0").iterdir())
    assert reopened_view(original, BIG) == before


def test_crash_after_the_swap_before_removing_the_old_files(tmp_path: Path) -> None:
    original = tmp_path / "original"
    build(original, segment_bytes=BIG, segments=3)
    _, after, _ = before_and_after(tmp_path, original, BIG)
    manager, _ = reload(original, segment_bytes=BIG)
    assert clean_and_crash(manager, LogCleaner(manager), stop_before_finish=True)
    assert any(p.name.endswith(".deleted") for p in (original / "users-0").iterdir())
    assert reopened_view(original, BIG) == after


@pytest.mark.parametrize("codec", [compression.NONE, compression.ZSTD])
def test_cleaned_log_survives_an_unclean_restart_byte_for_byte(tmp_path: Path, codec: int) -> None:
    manager, log = compacted_log(tmp_path, segment_bytes=SMALL)
    for n in range(40):
        produce(log, [(b"k%d" % (n % 6), b"v%d" % n)], ts=NOW + n, compression=codec)
    manager.run_cleaner(CLEAN_AT)
    expected = view(log)
    for _, lg in manager.items():
        lg.close()
    assert reopened_view(tmp_path, SMALL) == expected
