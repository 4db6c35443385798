"""The transaction index (`.txnindex`): the aborted transactions whose ABORT marker lies in a segment.

READ_COMMITTED consumers receive aborted data like any other and drop it themselves, using the list of
aborted transactions the Fetch response carries for the fetched range; this index answers that
question without reading the log. One file per segment, `<base offset>.txnindex` beside its `.log`,
created only when the segment receives its first ABORT marker of a non-empty transaction.

File format: Kafka's `AbortedTxn` entries, 34 bytes each, appended in marker order (big-endian)::

    0   version            int16   0
    2   producerId         int64
    10  firstOffset        int64   first offset of the aborted transaction (maybe in an older segment)
    18  lastOffset         int64   offset of its ABORT marker; strictly increasing within a file
    26  lastStableOffset   int64   the partition's LSO right after the abort (`CompletedTxn`)

A trailing partial entry (torn write) is ignored on read and cut off by `truncate_to`.

Lookup (`collect_aborted`): an aborted transaction overlaps a fetch of `[fetch_offset, upper_bound)`
when `lastOffset >= fetch_offset and firstOffset < upper_bound`. Segments are searched from the one
holding `fetch_offset` onwards (a transaction's entry lives with its marker, never before its data),
and the search stops at the first entry whose `lastStableOffset >= upper_bound`: every transaction
aborted after it began at or above the bound.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from odradek.storage.atomic_file import read_file
from odradek.storage.producer_state import CompletedTxn

TXN_INDEX_SUFFIX = ".txnindex"
ENTRY = struct.Struct(">hqqqq")
ENTRY_SIZE = ENTRY.size  # 34
VERSION = 0


class CorruptTxnIndexError(ValueError):
    pass


class AbortedTxn(NamedTuple):
    producer_id: int
    first_offset: int
    last_offset: int
    last_stable_offset: int

    @classmethod
    def of(cls, txn: CompletedTxn) -> AbortedTxn:
        return cls(txn.producer_id, txn.first_offset, txn.last_offset, txn.last_stable_offset)

    def encode(self) -> bytes:
        return ENTRY.pack(VERSION, *self)


def decode_entries(buf: bytes) -> list[AbortedTxn]:
    entries = []
    for pos in range(0, len(buf) - ENTRY_SIZE + 1, ENTRY_SIZE):
        version, *fields = ENTRY.unpack_from(buf, pos)
        if version > VERSION:
            raise CorruptTxnIndexError(f"aborted transaction entry of unknown version {version}")
        entries.append(AbortedTxn(*fields))
    return entries


def txn_index_path(directory: Path, base_offset: int) -> Path:
    return directory / f"{base_offset:020d}{TXN_INDEX_SUFFIX}"


class TransactionIndex:
    """One segment's `.txnindex`, its entries cached in memory once read (aborts are rare, entries
    small). The file is read on first use, not when the segment is opened; `exists=False` says there
    is no file (a new segment, or none in the directory listing), so nothing is read at all."""

    __slots__ = ("_absent", "_entries", "path")

    def __init__(self, path: Path, *, exists: bool | None = None) -> None:
        self.path = path
        self._absent = exists is False  # known to have no file
        self._entries: list[AbortedTxn] | None = [] if exists is False else None

    def _loaded(self) -> list[AbortedTxn]:
        entries = self._entries
        if entries is None:
            try:
                entries = decode_entries(read_file(self.path))
            except FileNotFoundError:
                entries = []
            self._entries = entries
        return entries

    def load(self) -> None:
        """Read the file now if it was not read yet."""
        self._loaded()

    @property
    def entries(self) -> list[AbortedTxn]:
        return list(self._loaded())

    @property
    def has_entries(self) -> bool:
        return bool(self._loaded())

    @property
    def may_exist(self) -> bool:
        """False when the file is known not to exist (answered without reading anything)."""
        return not self._absent

    def append(self, txn: AbortedTxn) -> None:
        entries = self._loaded()
        if entries and txn.last_offset <= entries[-1].last_offset:
            raise ValueError(
                f"aborted transaction at {txn.last_offset} after one at {entries[-1].last_offset}"
            )
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            if os.fstat(fd).st_size != len(entries) * ENTRY_SIZE:
                os.ftruncate(fd, len(entries) * ENTRY_SIZE)  # a torn tail
            os.write(fd, txn.encode())
        finally:
            os.close(fd)
        self._absent = False
        entries.append(txn)

    def truncate_to(self, offset: int) -> None:
        """Drop the entries of transactions aborted at or after `offset` (log truncation)."""
        if self._absent:
            return
        entries = self._loaded()
        keep = [e for e in entries if e.last_offset < offset]
        if len(keep) != len(entries) or self._file_size() != len(keep) * ENTRY_SIZE:
            self._entries = keep
            if self.path.exists():
                os.truncate(self.path, len(keep) * ENTRY_SIZE)

    def reset(self) -> None:
        self.truncate_to(-1)

    def _file_size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def fsync(self) -> None:
        if not self.has_entries:
            return
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def sanity_check(self, base_offset: int) -> None:
        for entry in self._loaded():
            if entry.last_offset < base_offset:
                raise CorruptTxnIndexError(
                    f"{self.path.name}: abort at {entry.last_offset} below base offset {base_offset}"
                )

    def collect(self, fetch_offset: int, upper_bound: int) -> tuple[list[AbortedTxn], bool]:
        """Entries overlapping `[fetch_offset, upper_bound)`, and whether the search is complete."""
        found = []
        for entry in self._loaded():
            if entry.last_offset >= fetch_offset and entry.first_offset < upper_bound:
                found.append(entry)
            if entry.last_stable_offset >= upper_bound:
                return found, True
        return found, False


def collect_aborted(
    indexes: Iterable[TransactionIndex], fetch_offset: int, upper_bound: int
) -> list[AbortedTxn]:
    """Aborted transactions overlapping a fetch, from the indexes of the segments holding
    `fetch_offset` and every later one, in order."""
    found: list[AbortedTxn] = []
    for index in indexes:
        entries, complete = index.collect(fetch_offset, upper_bound)
        found += entries
        if complete:
            break
    return found
