"""Swapping a cleaned segment in for the segments it replaces, crash-safely (Kafka's file protocol).

A group of consecutive closed segments with base offsets `b1 < ... < bk` is rewritten by the cleaner
into one segment with base offset `b1`, first as `<b1>.log.cleaned`, `<b1>.index.cleaned`,
`<b1>.timeindex.cleaned` (written and fsynced in a worker thread, `cleaned_segment.py`). The swap
then renames, in this order:

    1. `<b1>.<index>.cleaned` -> `<b1>.<index>.swap` for each index, then
       `<b1>.log.cleaned` -> `<b1>.log.swap`                 <- the commit point
    2. every file of `b1 ... bk` -> `<name>.deleted`
    3. `<b1>.<index>.swap` -> `<b1>.<index>` for each index, then `<b1>.log.swap` -> `<b1>.log`

and the `.deleted` files are removed once the directory is fsynced. Only renames happen between
the commit point and the end, so a crash anywhere leaves one of these states, which recovery
(`recover_swaps`, run first when a partition directory is loaded) turns into before or after:

    no `<b>.log.swap`     not committed: remove every `*.cleaned` and `*.swap` file; the old
                          segments are all still there (step 2 never started) -> before
    a `<b>.log.swap`      committed: the swap segment holds every offset of the group up to its
                          last batch's next offset `e` (the cleaner always keeps the last batch of a
                          group, so `e` is past `bk`); remove every non-swap segment file with a
                          base offset in [b, e) (old segments not yet renamed `.deleted`, and index
                          files already renamed by step 3), remove the other `<b>.*.swap` files
                          (those indexes get rebuilt), rename `<b>.log.swap` -> `<b>.log` -> after

The renames go through a `Rename` callable so tests can fail after any of them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from odradek.storage.atomic_file import fsync_dir
from odradek.storage.file_records import valid_batches
from odradek.storage.layout import (
    CLEANED_SUFFIX,
    DELETED_SUFFIX,
    INDEX_SUFFIX,
    LOG_SUFFIX,
    SEGMENT_SUFFIXES,
    SWAP_SUFFIX,
    TIME_INDEX_SUFFIX,
    TXN_INDEX_SUFFIX,
    parse_segment_name,
    segment_path,
)

_log = logging.getLogger(__name__)
Rename = Callable[[Path, Path], None]
INDEX_SUFFIXES = (INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX)


class SwapConflictError(Exception):
    """The log changed under the cleaner (segments deleted, truncated, closed): nothing was swapped."""


def _with(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def swap_in(
    directory: Path, base_offset: int, old_bases: Sequence[int], rename: Rename = os.replace
) -> list[Path]:
    """Steps 1-3 above; returns the `.deleted` files, for the caller to remove after a directory fsync."""
    final = [segment_path(directory, base_offset, s) for s in INDEX_SUFFIXES]
    final = [p for p in final if _with(p, CLEANED_SUFFIX).exists()]
    final.append(segment_path(directory, base_offset, LOG_SUFFIX))
    for path in final:
        rename(_with(path, CLEANED_SUFFIX), _with(path, SWAP_SUFFIX))
    deleted = []
    for base in old_bases:
        for suffix in SEGMENT_SUFFIXES:
            path = segment_path(directory, base, suffix)
            if path.exists():
                rename(path, _with(path, DELETED_SUFFIX))
                deleted.append(_with(path, DELETED_SUFFIX))
    for path in final:
        rename(_with(path, SWAP_SUFFIX), path)
    return deleted


def _next_offset(log_file: Path, base_offset: int) -> int:
    fd = os.open(log_file, os.O_RDONLY)
    try:
        next_offset = base_offset
        for _, header in valid_batches(fd, 0, os.fstat(fd).st_size):
            next_offset = header.base_offset + header.last_offset_delta + 1
        return next_offset
    finally:
        os.close(fd)


def recover_swaps(directory: Path) -> list[int]:
    """Finish committed swaps and undo uncommitted ones (see above); returns the finished swaps' bases."""
    names = os.listdir(directory)
    committed = sorted(
        parsed[0]
        for name in names
        if name.endswith(LOG_SUFFIX + SWAP_SUFFIX)
        and (parsed := parse_segment_name(name[: -len(SWAP_SUFFIX)]))
    )
    for name in names:
        if name.endswith(CLEANED_SUFFIX):
            (directory / name).unlink(missing_ok=True)
    for base in committed:
        swap_log = _with(segment_path(directory, base, LOG_SUFFIX), SWAP_SUFFIX)
        end = max(_next_offset(swap_log, base), base + 1)
        for name in os.listdir(directory):
            parsed = parse_segment_name(name)
            if parsed is not None and parsed[1] in SEGMENT_SUFFIXES and base <= parsed[0] < end:
                (directory / name).unlink()
        for suffix in INDEX_SUFFIXES:
            _with(segment_path(directory, base, suffix), SWAP_SUFFIX).unlink(missing_ok=True)
        os.replace(swap_log, segment_path(directory, base, LOG_SUFFIX))
        _log.warning("%s: finished the swap of a cleaned segment interrupted by a crash", swap_log.parent)
    for name in os.listdir(directory):
        if name.endswith(SWAP_SUFFIX):
            (directory / name).unlink()
    if committed or any(name.endswith((CLEANED_SUFFIX, SWAP_SUFFIX)) for name in names):
        fsync_dir(directory)
    return committed
