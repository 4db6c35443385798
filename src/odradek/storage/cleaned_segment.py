"""Writing one cleaned segment: `<base>.log.cleaned`, `<base>.index.cleaned`, `<base>.timeindex.cleaned`.

The files have the formats of `segment.py`, `offset_index.py` and `time_index.py`; their indexes are
built while the batches are written, with the rule `LogSegment` uses on append and recovery (an
offset index entry after more than `index.interval.bytes` of log, a time index entry with it, and a
last time index entry holding the largest timestamp, as for a sealed segment). Batches are buffered
and written `buffer_bytes` at a time. `finish` fsyncs all three files (the swap renames them next,
and a rename must never point at data that is not on disk yet); `discard` removes them.
Runs in the cleaner's worker thread; nothing else knows these files until the swap.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from odradek.protocol.primitives import Buffer
from odradek.storage.layout import CLEANED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, segment_path
from odradek.storage.offset_index import OffsetIndex
from odradek.storage.time_index import TimeIndex


def cleaned_path(directory: Path, base_offset: int, suffix: str) -> Path:
    return segment_path(directory, base_offset, suffix + CLEANED_SUFFIX)


class CleanedSegmentWriter:
    def __init__(
        self,
        directory: Path,
        base_offset: int,
        index_interval: int,
        *,
        buffer_bytes: int = 1 << 20,
        fsync: Callable[[int], None] = os.fsync,
    ) -> None:
        self.directory = directory
        self.base_offset = base_offset
        self._interval = index_interval
        self._buffer_bytes = max(buffer_bytes, 1)
        self._fsync = fsync
        self.paths = [
            cleaned_path(directory, base_offset, s) for s in (LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX)
        ]
        self._fd: int | None = os.open(self.paths[0], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
        self._offset_index = OffsetIndex.create(directory, base_offset, INDEX_SUFFIX + CLEANED_SUFFIX)
        self._time_index = TimeIndex.create(directory, base_offset, TIME_INDEX_SUFFIX + CLEANED_SUFFIX)
        self._pending = bytearray()
        self.size = 0  # bytes appended, written or pending
        self._written = 0
        self._since_entry = 0
        self._max_timestamp = -1
        self._offset_of_max = base_offset

    def append(self, batch: Buffer, last_offset: int, max_timestamp: int) -> None:
        size = len(batch)
        if max_timestamp > self._max_timestamp:
            self._max_timestamp, self._offset_of_max = max_timestamp, last_offset
        if self._since_entry > self._interval:
            self._offset_index.append(last_offset, self.size)
            self._time_index.maybe_append(self._max_timestamp, self._offset_of_max)
            self._since_entry = 0
        self._since_entry += size
        self._pending += batch
        self.size += size
        if len(self._pending) >= self._buffer_bytes:
            self._write_pending()

    def _write_pending(self) -> None:
        assert self._fd is not None
        view = memoryview(self._pending)
        while view:
            n = os.pwrite(self._fd, view, self._written)
            self._written += n
            view = view[n:]
        self._pending = bytearray()

    def finish(self) -> None:
        """Write what is buffered and the indexes, fsync the three files, close them."""
        self._write_pending()
        if self._max_timestamp >= 0:
            self._time_index.maybe_append(self._max_timestamp, self._offset_of_max)
        self._offset_index.persist()
        self._time_index.persist()
        assert self._fd is not None
        self._fsync(self._fd)
        for path in self.paths[1:]:
            fd = os.open(path, os.O_RDONLY)
            try:
                self._fsync(fd)
            finally:
                os.close(fd)
        self.close()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def discard(self) -> None:
        self.close()
        for path in self.paths:
            path.unlink(missing_ok=True)
