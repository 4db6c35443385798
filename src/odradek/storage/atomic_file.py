"""Replacing a small file atomically, and making directory entries durable.

`write_atomically(path, data)` writes `<name>.tmp` beside `path`, fsyncs it, renames it over `path`
and fsyncs the directory, so that a crash leaves either the old content or the new one, never a
mixture, and the new name survives a power loss. `sync=False` skips both fsyncs, for files whose
durability is taken care of later (a partition's flush fsyncs its directory) or not needed (a torn
producer snapshot is skipped on recovery). Checkpoints, `partition.metadata`, the leader-epoch
checkpoint, producer snapshots and the metadata store's compacted log are all written this way.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import cast

from odradek.storage.layout import TMP_SUFFIX


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """`os.write` until every byte is written (it may write fewer than asked)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def read_file(path: str | os.PathLike[str]) -> bytes:
    """The whole of a small file (checkpoints, indexes, snapshots): open, read, close, without the
    layers of `Path.read_bytes` (startup reads thousands of them). Raises OSError."""
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def fsync_dir(directory: Path) -> None:
    """Make the directory's entries (created, renamed or deleted files) durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes, sync: bool = True) -> None:
    tmp = path.with_name(path.name + TMP_SUFFIX)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        write_all(fd, data)
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    if sync:
        fsync_dir(path.parent)


@functools.cache
def _libc_syncfs() -> Callable[[int], int] | None:
    import ctypes  # (at the first clean shutdown: ctypes costs a start memory and time)

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return cast(Callable[[int], int], libc.syncfs)
    except (OSError, AttributeError):
        return None


def sync_filesystem(directory: Path) -> None:
    """Make everything written to the file system holding `directory` durable: Linux `syncfs(2)`,
    one call instead of an fsync per file (clean shutdown of thousands of partitions). Where
    syncfs is missing, `sync(2)`. Raises OSError (syncfs reports write-back errors since Linux 5.8)."""
    syncfs = _libc_syncfs()
    if syncfs is None:
        os.sync()
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if syncfs(fd) != 0:
            import ctypes

            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), str(directory))
    finally:
        os.close(fd)
