"""Replacing a small file atomically, and making directory entries durable.

`write_atomically(path, data)` writes `<name>.tmp` beside `path`, fsyncs it, renames it over `path`
and fsyncs the directory, so that a crash leaves either the old content or the new one, never a
mixture, and the new name survives a power loss. `sync=False` skips both fsyncs, for files whose
durability is taken care of later (a partition's flush fsyncs its directory) or not needed (a torn
producer snapshot is skipped on recovery). Checkpoints, `partition.metadata`, the leader-epoch
checkpoint, producer snapshots and the metadata store's compacted log are all written this way.
"""

from __future__ import annotations

import os
from pathlib import Path

from odradek.storage.layout import TMP_SUFFIX


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """`os.write` until every byte is written (it may write fewer than asked)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


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
