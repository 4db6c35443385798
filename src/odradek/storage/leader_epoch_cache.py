"""Leader epoch -> start offset, for OffsetForLeaderEpoch and log truncation (KIP-101, KIP-279).

File `leader-epoch-checkpoint` in the partition directory (Kafka's format)::

    0                 version
    2                 number of entries
    0 0               epoch startOffset, epochs and start offsets strictly increasing
    3 1500

An entry is added when a batch with a larger epoch than the latest is appended (the leader's first
batch in a new epoch). Every change rewrites the file (tmp + rename, no fsync on the event loop);
`PartitionLog.flush` fsyncs it with the segments. A missing or malformed file is rebuilt by the
caller from the batches' `partitionLeaderEpoch` fields.
"""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

from odradek.storage.atomic_file import read_file, write_atomically

_log = logging.getLogger(__name__)
UNDEFINED_EPOCH = -1
UNDEFINED_EPOCH_OFFSET = -1


class EpochEntry(NamedTuple):
    epoch: int
    start_offset: int


def encode(entries: list[EpochEntry]) -> bytes:
    lines = ["0", str(len(entries))] + [f"{e.epoch} {e.start_offset}" for e in entries]
    return ("\n".join(lines) + "\n").encode()


def decode(text: str) -> list[EpochEntry]:
    lines = [line for line in text.splitlines() if line]
    if len(lines) < 2 or lines[0] != "0" or int(lines[1]) != len(lines) - 2:
        raise ValueError("malformed leader-epoch-checkpoint")
    entries = [EpochEntry(*map(int, line.split(" "))) for line in lines[2:]]
    for a, b in pairwise(entries):
        if not (a.epoch < b.epoch and a.start_offset <= b.start_offset):
            raise ValueError("leader-epoch-checkpoint entries out of order")
    return entries


class LeaderEpochCache:
    __slots__ = ("_entries", "needs_sync", "path", "unsaved")

    def __init__(self, path: Path, entries: Sequence[EpochEntry] | None = None) -> None:
        self.path = path
        self._entries: list[EpochEntry] = list(entries or [])
        self.needs_sync = False  # written since the last fsync
        self.unsaved = False  # changed with persist=False since the last write

    @classmethod
    def load(cls, path: Path) -> tuple[LeaderEpochCache, bool]:
        """The cache and whether the file was read fine (False: missing or malformed)."""
        try:
            return cls(path, decode(read_file(path).decode())), True
        except FileNotFoundError:
            return cls(path), False
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            _log.warning("rebuilding malformed %s: %s", path, exc)
            return cls(path), False

    @property
    def entries(self) -> list[EpochEntry]:
        return list(self._entries)

    @property
    def latest_epoch(self) -> int:
        return self._entries[-1].epoch if self._entries else UNDEFINED_EPOCH

    def persist(self) -> None:
        write_atomically(self.path, encode(self._entries), sync=False)
        self.needs_sync = True
        self.unsaved = False

    def assign(self, epoch: int, start_offset: int, persist: bool = True) -> bool:
        """Record that `epoch` starts at `start_offset`; entries it contradicts are dropped."""
        if epoch < 0 or start_offset < 0:
            return False
        if self._entries:
            latest = self._entries[-1]
            if latest.epoch == epoch and latest.start_offset <= start_offset:
                return False
        while self._entries and (
            self._entries[-1].epoch >= epoch or self._entries[-1].start_offset >= start_offset
        ):
            self._entries.pop()
        self._entries.append(EpochEntry(epoch, start_offset))
        if persist:
            self.persist()
        else:
            self.unsaved = True
        return True

    def clear(self) -> None:
        self._entries.clear()
        self.persist()

    def truncate_from_end(self, end_offset: int) -> None:
        """Drop entries starting at or after `end_offset` (the log was truncated there)."""
        if self._entries and self._entries[-1].start_offset >= end_offset:
            while self._entries and self._entries[-1].start_offset >= end_offset:
                self._entries.pop()
            self.persist()

    def truncate_from_start(self, start_offset: int) -> None:
        """The log now starts at `start_offset`: the epoch covering it starts there."""
        starts = [e.start_offset for e in self._entries]
        i = bisect_right(starts, start_offset)
        if i == 0 or (i == 1 and self._entries[0].start_offset == start_offset):
            return
        kept = self._entries[i - 1]
        self._entries[:i] = [EpochEntry(kept.epoch, start_offset)]
        self.persist()

    def end_offset_for(self, requested_epoch: int, log_end_offset: int) -> tuple[int, int]:
        """OffsetForLeaderEpoch: (largest epoch <= requested, start offset of the next epoch or LEO)."""
        if requested_epoch == UNDEFINED_EPOCH or not self._entries:
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        if self._entries[-1].epoch == requested_epoch:
            return requested_epoch, log_end_offset
        epochs = [e.epoch for e in self._entries]
        higher = bisect_right(epochs, requested_epoch)
        if higher == len(epochs):
            return UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET
        if higher == 0:
            return requested_epoch, self._entries[0].start_offset
        return self._entries[higher - 1].epoch, self._entries[higher].start_offset

    def epoch_for_offset(self, offset: int) -> int | None:
        """The epoch of the leader that wrote `offset` (None if before every entry)."""
        starts = [e.start_offset for e in self._entries]
        i = bisect_right(starts, offset)
        return self._entries[i - 1].epoch if i else None
