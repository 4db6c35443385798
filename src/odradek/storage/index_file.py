"""What the offset and time indexes share: a file of fixed-size big-endian entries, append-only.

Kafka preallocates index files to `segment.index.bytes` and memory-maps them; odradek writes exactly
`entries * entry_size` bytes instead, which Kafka's own loader reads the same way (it counts entries
from the file length). The entries live in memory as arrays, so lookups are a C `bisect`.

No descriptor stays open (a broker with 20,000 partitions must not need three per partition):

* reading: an index of a segment loaded from disk is read whole on its first lookup (one open, read,
  close) and may be dropped from memory again (`unload`) when its segment's file is closed by the
  file cache; it is read again when next needed;
* writing: entries appended in memory are written to the file by `persist` (one open, pwrite,
  close). The active segment's indexes are persisted when the segment is sealed (rolled or closed)
  or rebuilt; until then the file may lag behind memory. That is safe because recovery after a
  crash always re-reads the active segment (it holds the recovery point) and rebuilds its indexes,
  and a clean shutdown seals it first.

An index is a cache of facts the `.log` holds: whenever it looks wrong (length not a multiple of the
entry size, an entry beyond the log, entries out of order, a missing file) the segment rebuilds it
from the log.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Self

from odradek.storage.atomic_file import read_file
from odradek.storage.layout import segment_file, segment_path


class CorruptIndexError(Exception):
    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing  # no file at all (a small segment is closed without index files)


class IndexFile:
    """Base class: the file, pending writes and truncation; subclasses own the decoded arrays."""

    __slots__ = ("_directory", "_pending", "_persisted", "_rewrite", "_suffix", "base_offset", "loaded")
    ENTRY_SIZE = 0

    def __init__(self, directory: Path, base_offset: int, suffix: str, *, loaded: bool) -> None:
        self._directory = directory  # the path is built when needed: no Path object per index at rest
        self._suffix = suffix
        self.base_offset = base_offset
        self.loaded = loaded
        self._pending = bytearray()  # encoded entries not yet in the file
        self._persisted = 0  # entries already in the file (valid once loaded)
        self._rewrite = False  # the next persist replaces the whole file
        if loaded:
            self._decode(b"")
        else:
            self._drop_arrays()

    # --- subclass hooks -------------------------------------------------------------------------
    def _decode(self, data: bytes) -> None:
        raise NotImplementedError

    def _drop_arrays(self) -> None:
        raise NotImplementedError

    def _check(self) -> None:
        raise NotImplementedError

    def _truncate_arrays(self, entries: int) -> None:
        raise NotImplementedError

    def _count(self) -> int:
        raise NotImplementedError

    # --- lifecycle ------------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return segment_path(self._directory, self.base_offset, self._suffix)

    @classmethod
    def create(cls, directory: Path, base_offset: int, suffix: str) -> Self:
        """A new, empty index; the file is created (or emptied) by the first `persist`."""
        index = cls(directory, base_offset, suffix, loaded=True)
        index.mark_new()
        return index

    def mark_new(self) -> None:
        """This index starts empty: the first `persist` creates the file, or empties an old one."""
        self._rewrite = True

    def file_entries(self) -> int:
        """Entries in the file (without loading it); raises CorruptIndexError on a torn length."""
        try:
            size = os.stat(self.path).st_size
        except FileNotFoundError:
            raise CorruptIndexError(f"{self.path} is missing", missing=True) from None
        if size % self.ENTRY_SIZE:
            raise CorruptIndexError(f"{self.path}: length {size} is not a multiple of {self.ENTRY_SIZE}")
        return size // self.ENTRY_SIZE

    def last_entry_raw(self) -> bytes | None:
        """The file's last entry, read without loading the file (startup sanity checks)."""
        entries = self.file_entries()
        if entries == 0:
            return None
        fd = os.open(self.path, os.O_RDONLY)
        try:
            return os.pread(fd, self.ENTRY_SIZE, (entries - 1) * self.ENTRY_SIZE)
        finally:
            os.close(fd)

    @property
    def written(self) -> bool:
        """The file exists with (a prefix of) these entries; False for a new or reset index."""
        return not self._rewrite

    def ensure_loaded(self) -> None:
        """Read the file into memory and check it; raises CorruptIndexError."""
        if self.loaded:
            return
        name = segment_file(self._directory, self.base_offset, self._suffix)
        try:
            data = read_file(name)
        except FileNotFoundError:
            raise CorruptIndexError(f"{name} is missing", missing=True) from None
        if len(data) % self.ENTRY_SIZE:
            raise CorruptIndexError(f"{name}: length {len(data)} is not a multiple of {self.ENTRY_SIZE}")
        self._decode(data)
        try:
            self._check()
        except CorruptIndexError:
            self._drop_arrays()
            raise
        self._persisted = self._count()
        self.loaded = True

    def unload(self) -> bool:
        """Forget the entries if the file holds all of them (they are read again when needed)."""
        if not self.loaded or self._pending or self._rewrite:
            return False
        self._drop_arrays()
        self.loaded = False
        return True

    @property
    def entries(self) -> int:
        if not self.loaded:
            self.ensure_loaded()
        return self._count()

    def persist(self) -> None:
        """Write the entries appended in memory since the last call (one open, pwrite, close)."""
        if not self._pending and not self._rewrite:
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            data = self._pending
            if data:
                os.pwrite(fd, data, self._persisted * self.ENTRY_SIZE)
            length = self._persisted * self.ENTRY_SIZE + len(data)
            if self._rewrite and os.fstat(fd).st_size != length:
                os.ftruncate(fd, length)  # cut what remains of an older file
        finally:
            os.close(fd)
        self._persisted += len(data) // self.ENTRY_SIZE
        self._pending = bytearray()
        self._rewrite = False

    def truncate_entries(self, entries: int) -> None:
        """Keep the first `entries` entries, in memory and on disk."""
        self.ensure_loaded()
        if entries >= self._count():
            return
        self._truncate_arrays(entries)
        if entries < self._persisted:
            try:
                os.truncate(self.path, entries * self.ENTRY_SIZE)
            except FileNotFoundError:
                self._rewrite = True
            self._persisted = entries
        del self._pending[(entries - self._persisted) * self.ENTRY_SIZE :]

    def encoded(self) -> bytes:
        """Every entry in the file format (a loaded index whose file is stale: see `adopt`)."""
        self.ensure_loaded()
        if self._rewrite:
            return bytes(self._pending)
        return self._encode_all()

    def _encode_all(self) -> bytes:
        raise NotImplementedError

    def adopt(self, data: bytes) -> None:
        """Hold `data` (entries in the file format) as this index, in memory, to be written over the
        file by the next `persist` (entries another process rebuilt)."""
        if len(data) % self.ENTRY_SIZE:
            raise CorruptIndexError(f"{self.path}: {len(data)} bytes are not whole entries")
        self._decode(data)
        self.loaded = True
        self._pending = bytearray(data)
        self._persisted = 0
        self._rewrite = True

    def reset(self) -> None:
        """Drop every entry (before a rebuild); the file is rewritten by the next `persist`."""
        self._decode(b"")
        self.loaded = True
        self._pending = bytearray()
        self._persisted = 0
        self._rewrite = True
