"""The `.timeindex` file: a sparse map from timestamp to offset.

Format (Kafka's), 12 bytes per entry, big-endian, no header::

    timestamp       int64   the largest batch max timestamp seen so far in the segment
    relativeOffset  int32   last offset of the batch holding it - segment base offset

An entry is considered whenever an offset index entry is written, and once more when the segment
is rolled or closed; it is appended only if its timestamp is larger than the last entry's, so
timestamps strictly increase and offsets never decrease. The last entry of a closed segment holds
the segment's largest timestamp (retention uses it). Every record at an offset below an entry's
batch has a timestamp smaller than the entry's, so a search for the first record with timestamp
>= t can start at the batch of the last entry with timestamp <= t.
"""

from __future__ import annotations

import operator
import struct
from array import array
from bisect import bisect_right
from itertools import islice

from odradek.storage.index_file import CorruptIndexError, IndexFile

ENTRY = struct.Struct(">qi")
_EMPTY_TS: array[int] = array("q")  # the arrays of an index not in memory (never appended to)
_EMPTY_REL: array[int] = array("i")


class TimeIndex(IndexFile):
    __slots__ = ("_rel", "_ts")
    ENTRY_SIZE = ENTRY.size

    def _decode(self, data: bytes) -> None:
        self._ts: array[int] = array("q")
        self._rel: array[int] = array("i")
        for ts, rel in ENTRY.iter_unpack(data):
            self._ts.append(ts)
            self._rel.append(rel)

    def _encode_all(self) -> bytes:
        return b"".join(ENTRY.pack(ts, rel) for ts, rel in zip(self._ts, self._rel, strict=True))

    def _drop_arrays(self) -> None:
        self._ts = _EMPTY_TS
        self._rel = _EMPTY_REL

    def _check(self) -> None:
        ts, rel = self._ts, self._rel
        if not all(map(operator.lt, ts, islice(ts, 1, None))) or not all(
            map(operator.le, rel, islice(rel, 1, None))
        ):
            raise CorruptIndexError(f"{self.path}: entries out of order")
        if rel and rel[0] < 0:
            raise CorruptIndexError(f"{self.path}: offset below the segment base")

    def _truncate_arrays(self, entries: int) -> None:
        del self._ts[entries:]
        del self._rel[entries:]

    def _count(self) -> int:
        return len(self._ts)

    def quick_check(self, next_offset_bound: int | None) -> None:
        """Startup check: length, and the last entry's offset within the segment."""
        if self.loaded:
            return
        raw = self.last_entry_raw()
        if raw is not None:
            _, rel = ENTRY.unpack(raw)
            if rel < 0 or (next_offset_bound is not None and self.base_offset + rel >= next_offset_bound):
                raise CorruptIndexError(f"{self.path}: last entry offset {rel} outside the segment")

    def maybe_append(self, timestamp: int, offset: int) -> None:
        """Append unless the timestamp is not larger than the last entry's (Kafka's maybeAppend)."""
        self.ensure_loaded()
        if self._ts and timestamp <= self._ts[-1]:
            return
        rel = offset - self.base_offset
        if self._rel and rel < self._rel[-1]:
            raise CorruptIndexError(f"{self.path}: offset {offset} below the last entry")
        self._ts.append(timestamp)
        self._rel.append(rel)
        self._pending += ENTRY.pack(timestamp, rel)

    def floor_entry(self, timestamp: int) -> tuple[int, int] | None:
        """(timestamp, offset) of the last entry with timestamp <= `timestamp`."""
        self.ensure_loaded()
        i = bisect_right(self._ts, timestamp)
        return (self._ts[i - 1], self.base_offset + self._rel[i - 1]) if i else None

    def last_entry(self) -> tuple[int, int] | None:
        self.ensure_loaded()
        return (self._ts[-1], self.base_offset + self._rel[-1]) if self._ts else None

    def truncate_to_offset(self, next_offset: int) -> None:
        """Drop entries for offsets >= `next_offset`."""
        self.ensure_loaded()
        self.truncate_entries(bisect_right(self._rel, next_offset - 1 - self.base_offset))
