"""The cleaner's map from each key of the dirty part of a log to the key's latest offset there.

Kafka's `SkimpyOffsetMap` holds 16-byte MD5 digests of the keys in a fixed buffer of
`log.cleaner.dedupe.buffer.size` bytes. Here the keys themselves go into a dict, so no hash collision
can ever make the cleaner drop a live record; the same config bounds the memory, each entry counted
as `len(key) + ENTRY_OVERHEAD` (CPython's cost of a dict slot, a bytes object and an int, about 100
bytes). When the next new key does not fit, the map is full: the cleaner then cleans only the prefix
it mapped, and the rest of the dirty range is left for the next run (Kafka does the same).

`latest_offset` is the last offset the map covers: every record at or below it with a key has its
key in the map if it lies in the dirty range; records above it are kept as they are.
"""

from __future__ import annotations

ENTRY_OVERHEAD = 104
NO_OFFSET = -1


class OffsetMap:
    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        self._offsets: dict[bytes, int] = {}
        self._used = 0
        self.latest_offset = NO_OFFSET

    def __len__(self) -> int:
        return len(self._offsets)

    @property
    def used_bytes(self) -> int:
        return self._used

    @property
    def utilization(self) -> float:
        return self._used / self.budget_bytes if self.budget_bytes > 0 else 1.0

    def put(self, key: bytes, offset: int, *, force: bool = False) -> bool:
        """Record that `key` is at `offset` (offsets come in increasing order); False when full.

        `force` accepts the entry beyond the budget (so that a run always makes progress).
        """
        if key in self._offsets:
            self._offsets[key] = offset
            return True
        cost = len(key) + ENTRY_OVERHEAD
        if self._used + cost > self.budget_bytes and not force:
            return False
        self._offsets[key] = offset
        self._used += cost
        return True

    def get(self, key: bytes) -> int:
        """The latest offset of `key`, or -1 if the dirty range does not hold it."""
        return self._offsets.get(key, NO_OFFSET)

    def update_latest_offset(self, offset: int) -> None:
        self.latest_offset = max(self.latest_offset, offset)

    def clear(self) -> None:
        self._offsets.clear()
        self._used = 0
        self.latest_offset = NO_OFFSET
