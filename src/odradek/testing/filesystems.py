"""Real file systems that run out of space or fail, for tests (Linux, root; skipped elsewhere).

    with small_tmpfs(tmp_path / "full", 256 * 1024) as directory:      # ENOSPC once 256 KiB are used
        ...
    with failing_ext4(tmp_path / "disk") as disk:                      # an ext4 on a loop device
        ...
        disk.fail()                                                     # every later I/O: EIO

`failing_ext4` shuts the file system down with the EXT4_IOC_SHUTDOWN ioctl (what `xfs_io -c
shutdown` does), so appends, reads, fsyncs and opens fail with EIO exactly as on a dying disk.
Both unmount on exit, whatever happened. `MountUnavailable` (a `pytest.skip` reason for tests)
is raised when this process may not mount (not root, no loop devices, a container without
CAP_SYS_ADMIN).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

EXT4_IOC_SHUTDOWN = 0x8004587D  # _IOR('X', 125, __u32)
EXT4_GOING_FLAGS_NOLOGFLUSH = 2


class MountUnavailable(Exception):
    """This process cannot mount file systems here."""


def _run(*cmd: str) -> None:
    if shutil.which(cmd[0]) is None:
        raise MountUnavailable(f"{cmd[0]} is not installed")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise MountUnavailable(f"{' '.join(cmd)}: {done.stderr.strip()}")


def _unmount(directory: Path) -> None:
    subprocess.run(["umount", "-l", str(directory)], capture_output=True, check=False)


@contextlib.contextmanager
def small_tmpfs(directory: Path, size_bytes: int) -> Iterator[Path]:
    if os.geteuid() != 0:
        raise MountUnavailable("mounting needs root")
    directory.mkdir(parents=True, exist_ok=True)
    _run("mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(directory))
    try:
        yield directory
    finally:
        _unmount(directory)


class FailingDisk:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def fail(self) -> None:
        """From now on every I/O on this file system fails with EIO."""
        fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.ioctl(fd, EXT4_IOC_SHUTDOWN, struct.pack("I", EXT4_GOING_FLAGS_NOLOGFLUSH))
        finally:
            os.close(fd)


@contextlib.contextmanager
def failing_ext4(directory: Path, size_bytes: int = 32 << 20) -> Iterator[FailingDisk]:
    if os.geteuid() != 0:
        raise MountUnavailable("mounting needs root")
    directory.mkdir(parents=True, exist_ok=True)
    image = directory.with_name(directory.name + ".img")
    with image.open("wb") as f:
        f.truncate(size_bytes)
    try:
        _run("mkfs.ext4", "-q", "-F", str(image))
        _run("mount", "-o", "loop", str(image), str(directory))
        try:
            yield FailingDisk(directory)
        finally:
            _unmount(directory)
    finally:
        image.unlink(missing_ok=True)
