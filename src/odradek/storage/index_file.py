"""What the offset and time indexes share: a file of fixed-size big-endian entries, append-only.

Kafka preallocates index files to `segment.index.bytes` and memory-maps them; odradek writes exactly
`entries * entry_size` bytes with pwrite instead, which Kafka's own loader reads the same way (it
counts entries from the file length). The entries also live in memory as arrays so lookups are a
C `bisect`; an index of a segment loaded from disk is read lazily, on its first lookup.

An index is a cache of facts the `.log` holds: whenever it looks wrong (length not a multiple of the
entry size, an entry beyond the log, entries out of order) the segment rebuilds it from the log.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self


class CorruptIndexError(Exception):
    pass


class IndexFile:
    """Base class: file handling, pending writes and truncation; subclasses own the decoded arrays."""

    ENTRY_SIZE = 0

    def __init__(self, path: Path, base_offset: int, *, loaded: bool) -> None:
        self.path = path
        self.base_offset = base_offset
        self._fd: int | None = None
        self._loaded = loaded
        self._pending = bytearray()
        self._persisted = 0  # entries already in the file (valid once loaded)
        self._rewrite = False  # reset() happened: the next write replaces the whole file
        self._decode(b"")

    # --- subclass hooks -------------------------------------------------------------------------
    def _decode(self, data: bytes) -> None:
        raise NotImplementedError

    def _check(self) -> None:
        raise NotImplementedError

    def _truncate_arrays(self, entries: int) -> None:
        raise NotImplementedError

    def _count(self) -> int:
        raise NotImplementedError

    # --- lifecycle ------------------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, base_offset: int) -> Self:
        index = cls(path, base_offset, loaded=True)
        index._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        return index

    def file_entries(self) -> int:
        """Entries in the file (without loading it); raises CorruptIndexError on a torn length."""
        size = os.stat(self.path).st_size
        if size % self.ENTRY_SIZE:
            raise CorruptIndexError(f"{self.path}: length {size} is not a multiple of {self.ENTRY_SIZE}")
        return size // self.ENTRY_SIZE

    def last_entry_raw(self) -> bytes | None:
        """The file's last entry, read without loading the file (startup sanity checks)."""
        entries = self.file_entries()
        if entries == 0:
            return None
        with open(self.path, "rb") as f:
            f.seek((entries - 1) * self.ENTRY_SIZE)
            return f.read(self.ENTRY_SIZE)

    def ensure_loaded(self) -> None:
        """Read the file into memory and check it; raises CorruptIndexError."""
        if self._loaded:
            return
        data = self.path.read_bytes()
        if len(data) % self.ENTRY_SIZE:
            raise CorruptIndexError(f"{self.path}: length {len(data)} is not a multiple of {self.ENTRY_SIZE}")
        self._decode(data)
        self._check()
        self._persisted = self._count()
        self._loaded = True

    @property
    def entries(self) -> int:
        self.ensure_loaded()
        return self._count()

    def _writable_fd(self) -> int:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        return self._fd

    def write_pending(self) -> None:
        """Write entries appended in memory since the last call (one pwrite)."""
        if not self._pending and not self._rewrite:
            return
        fd = self._writable_fd()
        data, self._pending = self._pending, bytearray()
        if data:
            os.pwrite(fd, data, self._persisted * self.ENTRY_SIZE)
        self._persisted += len(data) // self.ENTRY_SIZE
        if self._rewrite:
            # Cut what remains of the old file (after a rebuild it is usually the same length).
            self._rewrite = False
            if os.fstat(fd).st_size != self._persisted * self.ENTRY_SIZE:
                os.ftruncate(fd, self._persisted * self.ENTRY_SIZE)

    def truncate_entries(self, entries: int) -> None:
        """Keep the first `entries` entries, in memory and on disk."""
        self.ensure_loaded()
        if entries >= self._count():
            return
        self._truncate_arrays(entries)
        if entries < self._persisted:
            os.ftruncate(self._writable_fd(), entries * self.ENTRY_SIZE)
            self._persisted = entries
        self._pending = self._pending[: (entries - self._persisted) * self.ENTRY_SIZE]

    def reset(self) -> None:
        """Drop every entry (before a rebuild); the file is rewritten by the next `write_pending`."""
        self._decode(b"")
        self._loaded = True
        self._pending = bytearray()
        self._persisted = 0
        self._rewrite = True

    def sync_fd(self) -> int | None:
        """The descriptor to fsync, when this process wrote to the file."""
        return self._fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
