"""One log segment: a `.log` file of record batches plus its `.index`, `.timeindex` and `.txnindex`.

The `.log` holds v2 record batches exactly as received from producers, after the broker restamped
`baseOffset` and `partitionLeaderEpoch` (and, for LogAppendTime topics, `maxTimestamp`, the
timestamp-type bit and the CRC). The segment is named by its base offset (`layout.py`); every batch
in it has `baseOffset >= base offset` and `lastOffset - base offset < 2**31` (index entries hold
relative offsets as int32). Offsets increase from batch to batch; they may have gaps only after
compaction. The `.txnindex` (txn_index.py) lists the transactions whose ABORT marker is in this
segment; it exists only once there is one.

All `.log` I/O is os.pwrite/os.pread on one descriptor, opened on first use and closed again by the
broker-wide file cache (`file_cache.py`) when too many are open; the indexes hold no descriptor
(`index_file.py`), and a segment at rest holds none at all. Nothing here fsyncs: `PartitionLog.flush`
does, from a worker thread, on descriptors it opens itself from `file_paths()`.

Lookups: the active segment remembers the position of its last ~1000 appended batches, so a tailing
consumer's fetch is a C bisect and one pread; other lookups take the sparse offset index's floor
entry and walk batch headers forward (at most ~`index.interval.bytes` of them).
"""

from __future__ import annotations

import contextlib
import os
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator
from pathlib import Path

from odradek.protocol.file_region import FileRegion
from odradek.protocol.records import LOG_OVERHEAD, BatchHeader, restamp, set_log_append_time
from odradek.storage.file_cache import FileCache, close_quietly
from odradek.storage.file_records import header_at, read_exactly, scan_headers, valid_batches
from odradek.storage.index_file import CorruptIndexError
from odradek.storage.layout import (
    DELETED_SUFFIX,
    INDEX_SUFFIX,
    LOG_SUFFIX,
    SEGMENT_SUFFIXES,
    TIME_INDEX_SUFFIX,
    segment_file,
    segment_path,
)
from odradek.storage.log_config import LogConfig
from odradek.storage.offset_index import OffsetIndex
from odradek.storage.time_index import TimeIndex
from odradek.storage.txn_index import TransactionIndex, txn_index_path

INT32_MAX = (1 << 31) - 1
RECENT_BATCHES = 1024  # positions remembered for tail reads (two int64 arrays of up to 2x this)


class LogSegment:
    __slots__ = (
        "_bytes_since_index_entry",
        "_closed",
        "_fd",
        "_files",
        "_max_known",
        "_max_timestamp",
        "_offset_index",
        "_offset_of_max_timestamp",
        "_recent_from",
        "_recent_next",
        "_recent_pos",
        "_rolling_timestamp",
        "_time_index",
        "_txn_exists",
        "_txn_index",
        "base_offset",
        "created_ms",
        "directory",
        "index_interval",
        "size",
    )

    def __init__(
        self,
        directory: Path,
        base_offset: int,
        *,
        files: FileCache,
        size: int,
        created_ms: int,
        index_interval: int,
        indexes_loaded: bool = False,
        txn_index_exists: bool | None = None,
    ) -> None:
        self.directory = directory
        self.index_interval = index_interval  # used when rebuilding the indexes
        self.base_offset = base_offset
        self.size = size
        self.created_ms = created_ms
        self._files = files
        self._fd: int | None = None  # opened on first use, closed by the file cache (file_cache.py)
        self._offset_index = OffsetIndex(directory, base_offset, INDEX_SUFFIX, loaded=indexes_loaded)
        self._time_index = TimeIndex(directory, base_offset, TIME_INDEX_SUFFIX, loaded=indexes_loaded)
        self._txn_index: TransactionIndex | None = None  # made on first use
        self._txn_exists = txn_index_exists
        self._closed = False
        # Loaded lazily for segments opened from disk.
        self._max_known = False
        self._max_timestamp = -1
        self._offset_of_max_timestamp = base_offset
        self._rolling_timestamp: int | None = None
        self._bytes_since_index_entry = 0
        # Tail of the active segment: batch next-offsets and start positions, both ascending.
        self._recent_next: array[int] = _NO_RECENT
        self._recent_pos: array[int] = _NO_RECENT
        self._recent_from = 0  # offsets >= this are covered by the arrays

    # --- opening ----------------------------------------------------------------------------
    @classmethod
    def create(
        cls, directory: Path, base_offset: int, config: LogConfig, now_ms: int, files: FileCache
    ) -> LogSegment:
        """A new, empty segment: its `.log` is created now, its indexes when it is sealed."""
        segment = cls(
            directory,
            base_offset,
            files=files,
            size=0,
            created_ms=now_ms,
            index_interval=config.index_interval_bytes,
            indexes_loaded=True,
            txn_index_exists=False,
        )
        segment._offset_index.mark_new()
        segment._time_index.mark_new()
        path = segment_file(directory, base_offset, LOG_SUFFIX)
        segment._fd = files.open(segment, lambda: os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644))
        segment._max_known = True
        return segment

    @classmethod
    def open(
        cls,
        directory: Path,
        base_offset: int,
        config: LogConfig,
        now_ms: int,
        files: FileCache,
        *,
        size: int | None = None,
        txn_index_exists: bool | None = None,
    ) -> LogSegment:
        """An existing segment; nothing is opened or read until used (the size is stat'ed when not
        given). Indexes are read lazily; missing ones count as corrupt and are rebuilt."""
        if size is None:
            size = os.stat(segment_file(directory, base_offset, LOG_SUFFIX)).st_size
        return cls(
            directory,
            base_offset,
            files=files,
            size=size,
            created_ms=now_ms,
            index_interval=config.index_interval_bytes,
            txn_index_exists=txn_index_exists,
        )

    @property
    def has_txn_index(self) -> bool:
        """Whether a `.txnindex` file may exist; never reads it (a flush asks from a worker thread)."""
        index = self._txn_index
        return index.may_exist if index is not None else self._txn_exists is not False

    # --- the descriptor -----------------------------------------------------------------------
    @property
    def fd(self) -> int:
        """The `.log` descriptor: valid until the file cache is next asked to open another file."""
        fd = self._fd
        if fd is None:
            if self._closed:
                raise ValueError(f"segment {self.log_path} is closed")
            path = segment_file(self.directory, self.base_offset, LOG_SUFFIX)
            fd = self._fd = self._files.open(self, lambda: os.open(path, os.O_RDWR))
        else:
            self._files.touch(self)
        return fd

    def release_fd(self) -> None:
        """Close the descriptor (the file cache evicts us); a sealed segment forgets its indexes too."""
        fd, self._fd = self._fd, None
        if fd is not None:
            close_quietly(fd)
        if not self._recent_next:
            self._offset_index.unload()
            self._time_index.unload()

    def close_fd(self) -> None:
        """Close the descriptor now (a rolled segment: it is opened again if a reader needs it)."""
        if self._fd is not None:
            self._files.forget(self)
            self.release_fd()

    def rebind(self, files: FileCache) -> None:
        """Move to another file cache (after loading in a worker thread with a cache of its own)."""
        self.close_fd()
        self._files = files

    @property
    def txn_index(self) -> TransactionIndex:
        index = self._txn_index
        if index is None:
            index = self._txn_index = TransactionIndex(
                txn_index_path(self.directory, self.base_offset), exists=self._txn_exists
            )
        return index

    @property
    def log_path(self) -> Path:
        return segment_path(self.directory, self.base_offset, LOG_SUFFIX)

    @property
    def offset_index(self) -> OffsetIndex:
        """The offset index, loaded and checked; rebuilt from the log if it is corrupt."""
        if not self._offset_index.loaded:
            self._load_indexes()
        return self._offset_index

    @property
    def time_index(self) -> TimeIndex:
        if not self._time_index.loaded:
            self._load_indexes()
        return self._time_index

    def _load_indexes(self) -> None:
        try:
            self._offset_index.ensure_loaded()
            self._time_index.ensure_loaded()
        except CorruptIndexError as exc:
            if exc.missing and self.size <= self.index_interval:
                self.load_empty_indexes()  # closed too small to have entries (`seal_at_close`)
            else:
                self.recover()

    def load_empty_indexes(self) -> None:
        """This segment has no index files because it holds too little to have entries (it was
        closed that way, see `seal_at_close`): empty indexes, written when it is sealed."""
        for index in (self._offset_index, self._time_index):
            if not index.loaded:
                index.adopt(b"")

    def load_indexes(self) -> None:
        """Read and fully check both indexes now (rebuilding them if needed), not on first use."""
        self._offset_index = self.offset_index
        self._time_index = self.time_index

    def quick_check_indexes(self, next_offset_bound: int | None) -> None:
        """Cheap startup checks (file lengths, last entries); raises CorruptIndexError."""
        self._offset_index.quick_check(self.size)
        self._time_index.quick_check(next_offset_bound)

    # --- reading ----------------------------------------------------------------------------
    def read(self, start: int, end: int) -> bytes:
        return read_exactly(self.fd, end - start, start)

    def region(self, start: int, end: int) -> FileRegion:
        """[start, end) of the `.log`, on a descriptor of its own (valid whatever the file cache
        closes before it is sent)."""
        return FileRegion(os.dup(self.fd), start, end - start)

    def header_at(self, position: int) -> BatchHeader:
        return header_at(self.fd, position)

    def headers(self, start: int = 0) -> Iterator[tuple[int, BatchHeader]]:
        return scan_headers(self.fd, start, self.size)

    def find(self, offset: int) -> int | None:
        """Position of the first batch whose last offset is >= `offset`; None if none in this segment."""
        recent = self._recent_next
        if recent and offset >= self._recent_from:
            i = bisect_right(recent, offset)
            return self._recent_pos[i] if i < len(recent) else None
        start = self.offset_index.floor_position(offset)
        for pos, header in scan_headers(self.fd, start, self.size):
            if header.base_offset + header.last_offset_delta >= offset:
                return pos
        return None

    def whole_batches_end(self, start: int, limit: int) -> int:
        """The last batch boundary in [start, limit], where `start` is a batch start."""
        if limit >= self.size:
            return self.size
        recent = self._recent_pos
        if recent and start >= recent[0]:
            return max(start, recent[bisect_right(recent, limit) - 1])
        from_pos = max(start, self.offset_index.floor_position_by_position(limit))
        for pos, header in scan_headers(self.fd, from_pos, self.size):
            if pos + header.batch_length + LOG_OVERHEAD > limit:
                return pos
        return self.size

    def read_next_offset(self) -> int:
        """Offset after the last batch, walking headers from the last index entry."""
        return self.scan_tail()[0]

    def scan_tail(self) -> tuple[int, int]:
        """(offset after the last batch, byte position after it); the position is short of
        `size` only when the file ends with a torn batch."""
        last = self.offset_index.last_entry()
        next_offset, end = self.base_offset, last[1] if last else 0
        for pos, header in scan_headers(self.fd, end, self.size):
            next_offset = header.base_offset + header.last_offset_delta + 1
            end = pos + header.batch_length + LOG_OVERHEAD
        return next_offset, end

    @property
    def largest_timestamp(self) -> int:
        """The largest batch max timestamp in the segment (-1 if none); retention compares it."""
        return self.max_timestamp_and_offset()[0]

    def max_timestamp_and_offset(self) -> tuple[int, int]:
        """(largest timestamp, last offset of the first batch holding it)."""
        if not self._max_known:
            last = self.time_index.last_entry()
            max_ts, offset = last if last else (-1, self.base_offset)
            start = self.offset_index.floor_position(offset) if last else 0
            for _, header in scan_headers(self.fd, start, self.size):
                if header.max_timestamp > max_ts:
                    max_ts, offset = header.max_timestamp, header.base_offset + header.last_offset_delta
            self._max_timestamp, self._offset_of_max_timestamp = max_ts, offset
            self._max_known = True
        return self._max_timestamp, self._offset_of_max_timestamp

    def rolling_timestamp(self) -> int | None:
        """Max timestamp of the segment's first batch: `segment.ms` counts from it (None if empty)."""
        if self._rolling_timestamp is None and self.size:
            self._rolling_timestamp = self.header_at(0).max_timestamp
        return self._rolling_timestamp

    # --- writing ----------------------------------------------------------------------------
    def should_roll(
        self, config: LogConfig, append_bytes: int, max_timestamp: int, last_offset: int, now_ms: int
    ) -> bool:
        """Kafka's rules: full by size or index, relative offset overflow, or `segment.ms` elapsed."""
        if self.size == 0:
            return False
        if self.size + append_bytes > config.segment_bytes or last_offset - self.base_offset > INT32_MAX:
            return True
        oi, ti = self._offset_index, self._time_index
        if not (oi.loaded and ti.loaded):
            self._load_indexes()  # (as the `offset_index` and `time_index` properties would)
        index_bytes = config.segment_index_bytes
        if (
            oi.entries >= index_bytes // OffsetIndex.ENTRY_SIZE
            or ti.entries >= index_bytes // TimeIndex.ENTRY_SIZE
        ):
            return True
        rolling = self._rolling_timestamp
        if rolling is None:
            rolling = self.rolling_timestamp()
        waited = max_timestamp - rolling if rolling is not None and rolling >= 0 else now_ms - self.created_ms
        return waited > config.segment_ms

    def _index_batch(
        self, position: int, last_offset: int, max_timestamp: int, size: int, interval: int
    ) -> None:
        if max_timestamp > self._max_timestamp:
            self._max_timestamp, self._offset_of_max_timestamp = max_timestamp, last_offset
        if self._bytes_since_index_entry > interval:
            self._add_index_entry(position, last_offset)
        self._bytes_since_index_entry += size

    def _add_index_entry(self, position: int, last_offset: int) -> None:
        """`index.interval.bytes` of batches since the last entry: one in each index."""
        self._offset_index.append(last_offset, position)
        self._time_index.maybe_append(self._max_timestamp, self._offset_of_max_timestamp)
        self._bytes_since_index_entry = 0

    def append(
        self,
        buf: bytearray | memoryview,
        headers: list[BatchHeader],
        *,
        first_offset: int,
        leader_epoch: int | None,
        append_time: int,
        config: LogConfig,
    ) -> None:
        """Restamp `buf`'s batches with offsets from `first_offset`, write them, index them.

        `leader_epoch` None keeps the batches' own offsets and epochs (a follower appending the
        leader's batches). `append_time` >= 0 stamps LogAppendTime. On an I/O error the segment is
        left as it was.
        """
        oi, ti = self._offset_index, self._time_index
        if not (oi.loaded and ti.loaded):
            self._load_indexes()  # (as the `offset_index` and `time_index` properties would)
        if not self._max_known:
            self.max_timestamp_and_offset()
        interval = self.index_interval = config.index_interval_bytes
        # the index entries to go back to if the write fails; only counted when this append can
        # add one (an entry follows `index.interval.bytes` of batches: most appends add none)
        indexed = self._bytes_since_index_entry + len(buf) > interval
        saved = (
            oi.entries if indexed else -1,
            ti.entries if indexed else -1,
            self._max_timestamp,
            self._offset_of_max_timestamp,
            self._bytes_since_index_entry,
        )
        if self._recent_next is _NO_RECENT:
            self._recent_next, self._recent_pos = array("q"), array("q")
        n_recent = len(self._recent_next)
        if not n_recent:
            self._recent_from = first_offset
        file_pos = self.size
        pos = 0
        base = first_offset
        for header in headers:
            size = header.batch_length + LOG_OVERHEAD
            if leader_epoch is None:
                base = header.base_offset
            else:
                restamp(buf, pos, base, leader_epoch)
            max_ts = header.max_timestamp
            if append_time >= 0:
                set_log_append_time(buf, pos, size, append_time)
                max_ts = append_time
            last = base + header.last_offset_delta
            # `_index_batch`, inlined: most appends add no index entry
            if max_ts > self._max_timestamp:
                self._max_timestamp, self._offset_of_max_timestamp = max_ts, last
            if self._bytes_since_index_entry > interval:
                self._add_index_entry(file_pos + pos, last)
            self._bytes_since_index_entry += size
            self._recent_next.append(last + 1)
            self._recent_pos.append(file_pos + pos)
            pos += size
            base = last + 1
        fd = -1
        try:
            if self._fd is None:
                fd = self.fd
            else:  # `self.fd`, inlined for a descriptor already open
                fd = self._fd
                self._files.touch(self)
            written = os.pwrite(fd, buf, file_pos)
            while written < len(buf):
                written += os.pwrite(fd, buf[written:], file_pos + written)
        except OSError:
            if indexed:
                oi.truncate_entries(saved[0])
                ti.truncate_entries(saved[1])
            self._max_timestamp, self._offset_of_max_timestamp, self._bytes_since_index_entry = saved[2:]
            del self._recent_next[n_recent:]
            del self._recent_pos[n_recent:]
            if fd >= 0:
                with contextlib.suppress(OSError):  # a disk that fails writes may fail this too
                    os.ftruncate(fd, file_pos)
            raise
        if file_pos == 0:
            self._rolling_timestamp = append_time if append_time >= 0 else headers[0].max_timestamp
        self.size = file_pos + len(buf)
        if len(self._recent_next) > 2 * RECENT_BATCHES:
            self._recent_from = self._recent_next[RECENT_BATCHES - 1]
            del self._recent_next[:RECENT_BATCHES]
            del self._recent_pos[:RECENT_BATCHES]

    def seal(self, persist: bool = True) -> None:
        """Becoming inactive (roll, close): record the largest timestamp in the time index, write
        both indexes, and forget the tail positions (lookups in a closed segment go through the
        offset index)."""
        if not self._max_known and self._offset_index.written and self._time_index.written:
            return  # untouched since it was opened: its files are as the last seal left them
        max_ts, offset = self.max_timestamp_and_offset()
        if max_ts >= 0:
            self.time_index.maybe_append(max_ts, offset)
        if persist:
            self.persist_indexes()
        self._recent_next = self._recent_pos = _NO_RECENT

    def seal_at_close(self) -> None:
        """`seal` when closing the log: a segment without index entries (at most
        `index.interval.bytes` of batches, most partitions of a broker with thousands of them)
        writes nothing, since a start scans it in one read anyway; this keeps a clean shutdown from
        creating two files per idle partition."""
        if self._offset_index.loaded and self._offset_index.entries == 0 and not self._time_index.written:
            return
        self.seal()

    def export_indexes(self) -> tuple[bytes, bytes] | None:
        """Both indexes' entries, encoded, when they are in memory only (a loader process hands
        them to the broker); None when the files hold them."""
        oi, ti = self._offset_index, self._time_index
        if oi.written and ti.written:
            return None
        return oi.encoded(), ti.encoded()

    def import_indexes(self, offset_entries: bytes, time_entries: bytes) -> None:
        """Take `export_indexes` from another process: in memory, written when sealed."""
        self._offset_index.adopt(offset_entries)
        self._time_index.adopt(time_entries)

    def persist_indexes(self) -> None:
        """Write the index entries held only in memory (see index_file.py)."""
        self._offset_index.persist()
        self._time_index.persist()

    def truncate_to(self, offset: int) -> int:
        """Remove the batch containing `offset` and everything after it; returns bytes removed."""
        pos = self.find(offset)
        if pos is None:
            return 0
        removed = self.size - pos
        os.ftruncate(self.fd, pos)
        self.size = pos
        self.offset_index.truncate_to_position(pos)
        self.time_index.truncate_to_offset(self.read_next_offset())
        self.txn_index.truncate_to(offset)
        self._reset_derived()
        return removed

    def _reset_derived(self) -> None:
        self._max_known = False
        self._max_timestamp = -1
        self._rolling_timestamp = None
        self._bytes_since_index_entry = 0
        self._recent_next = self._recent_pos = _NO_RECENT

    def recover(
        self, on_batch: Callable[[BatchHeader], None] | None = None, *, persist: bool = True
    ) -> tuple[bool, int]:
        """Validate every batch, cut the log at the first bad one, rebuild both indexes (sealed:
        the time index ends with the largest timestamp, as after a roll) and write them unless
        `persist` is false (the active segment's are written when it is sealed).

        Returns (whether bytes were cut, next offset after the last valid batch).
        """
        interval = self.index_interval
        self._offset_index.reset()
        self._time_index.reset()
        self._reset_derived()
        self._max_known = True
        self._offset_of_max_timestamp = self.base_offset
        next_offset = self.base_offset
        valid_end = 0
        fd = self.fd
        for pos, header in valid_batches(fd, 0, self.size):
            last = header.base_offset + header.last_offset_delta
            if header.base_offset < next_offset or last - self.base_offset > INT32_MAX:
                break
            size = header.batch_length + LOG_OVERHEAD
            self._index_batch(pos, last, header.max_timestamp, size, interval)
            if on_batch is not None:
                on_batch(header)
            valid_end = pos + size
            next_offset = last + 1
        truncated = valid_end < self.size
        if truncated:
            os.ftruncate(self.fd, valid_end)
            self.size = valid_end
        self.seal(persist)
        return truncated, next_offset

    # --- file lifecycle ---------------------------------------------------------------------
    def file_paths(self) -> list[Path]:
        """The segment's files that exist or may (what a flush fsyncs, by path)."""
        paths = [self.log_path]
        paths += [index.path for index in (self._offset_index, self._time_index) if index.written]
        return paths

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._fd is not None:
                self._files.forget(self)
                fd, self._fd = self._fd, None
                os.close(fd)

    def rename_to_deleted(self) -> list[Path]:
        """Close, then rename every file of the segment to `<name>.deleted`; returns the new paths."""
        self.close()
        renamed = []
        for suffix in SEGMENT_SUFFIXES:
            path = segment_path(self.directory, self.base_offset, suffix)
            target = path.with_name(path.name + DELETED_SUFFIX)
            try:
                os.replace(path, target)
            except FileNotFoundError:
                continue
            renamed.append(target)
        return renamed


_NO_RECENT: array[int] = array("q")  # the tail arrays of a segment with no appends (never appended to)
