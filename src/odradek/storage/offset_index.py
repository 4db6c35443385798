"""The `.index` file: a sparse map from offset to the byte position of a batch in the `.log`.

Format (Kafka's), 8 bytes per entry, big-endian, no header::

    relativeOffset  int32   batch's last offset - segment base offset
    position        int32   byte position of the batch's first byte in the .log file

An entry is added for a batch when more than `index.interval.bytes` were appended since the last
entry, so there is one entry per ~4 KiB of log. Offsets strictly increase, positions strictly
increase, and every position is the start of a batch. A lookup for offset `o` takes the last entry
with offset <= o and scans batch headers forward from its position; since the entry's batch ends at
or before `o`, the batch containing `o` is at or after that position.
"""

from __future__ import annotations

import operator
import struct
import sys
from array import array
from bisect import bisect_right
from itertools import islice

from odradek.storage.index_file import CorruptIndexError, IndexFile

ENTRY = struct.Struct(">ii")
_EMPTY: array[int] = array("i")  # stands for the arrays of an index not in memory (never appended to)


def _strictly_increasing(values: array[int]) -> bool:
    return all(map(operator.lt, values, islice(values, 1, None)))


class OffsetIndex(IndexFile):
    __slots__ = ("_pos", "_rel")
    ENTRY_SIZE = ENTRY.size

    def _decode(self, data: bytes) -> None:
        both = array("i", data)
        if sys.byteorder == "little":
            both.byteswap()
        self._rel = both[0::2]
        self._pos = both[1::2]

    def _encode_all(self) -> bytes:
        return b"".join(ENTRY.pack(rel, pos) for rel, pos in zip(self._rel, self._pos, strict=True))

    def _drop_arrays(self) -> None:
        self._rel = self._pos = _EMPTY

    def _check(self) -> None:
        if not (_strictly_increasing(self._rel) and _strictly_increasing(self._pos)):
            raise CorruptIndexError(f"{self.path}: entries out of order")
        if self._rel and self._rel[0] < 0:
            raise CorruptIndexError(f"{self.path}: offset below the segment base")

    def _truncate_arrays(self, entries: int) -> None:
        del self._rel[entries:]
        del self._pos[entries:]

    def _count(self) -> int:
        return len(self._rel)

    def quick_check(self, log_size: int) -> None:
        """Startup check without reading the whole file: length and last entry."""
        if self.loaded:
            return
        raw = self.last_entry_raw()
        if raw is not None:
            rel, position = ENTRY.unpack(raw)
            if rel < 0 or not 0 <= position < log_size:
                raise CorruptIndexError(f"{self.path}: last entry ({rel}, {position}) outside the log")

    def append(self, offset: int, position: int) -> None:
        self.ensure_loaded()
        rel = offset - self.base_offset
        if self._rel and (rel <= self._rel[-1] or position <= self._pos[-1]):
            raise CorruptIndexError(f"{self.path}: entry ({offset}, {position}) out of order")
        self._rel.append(rel)
        self._pos.append(position)
        self._pending += ENTRY.pack(rel, position)

    def floor_position(self, offset: int) -> int:
        """Position of the last indexed batch whose last offset is <= `offset` (0 if none)."""
        self.ensure_loaded()
        i = bisect_right(self._rel, offset - self.base_offset)
        return self._pos[i - 1] if i else 0

    def floor_position_by_position(self, position: int) -> int:
        """The last indexed batch start at or before `position` (0 if none)."""
        self.ensure_loaded()
        i = bisect_right(self._pos, position)
        return self._pos[i - 1] if i else 0

    def last_entry(self) -> tuple[int, int] | None:
        """(offset, position) of the last entry."""
        self.ensure_loaded()
        return (self.base_offset + self._rel[-1], self._pos[-1]) if self._rel else None

    def truncate_to_position(self, size: int) -> None:
        """Drop entries pointing at or beyond byte `size` of the log (after the log was cut there)."""
        self.ensure_loaded()
        self.truncate_entries(bisect_right(self._pos, size - 1))
