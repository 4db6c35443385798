"""The open `.log` descriptors of every segment, at most `capacity` of them (`odradek.log.max.open.files`).

Kafka keeps one descriptor per segment open for the life of the log, so a broker needs an open-file
limit above its segment count. odradek opens a segment's `.log` on first use and closes the least
recently used one when `capacity` are open: a broker with 20,000 partitions serves the busy ones
from open descriptors and reopens an idle one in microseconds (one `open`), never running out of
file handles however many partitions it holds. Indexes hold no descriptor at all (`index_file.py`).

Rules:

* only the thread that owns the logs (the broker's event loop; one loader thread per partition at
  startup, with a cache of its own) uses `LogSegment.fd`; a descriptor is valid until that thread
  next asks this cache to open another one, so callers fetch `segment.fd` afresh for each system
  call sequence and never keep it across an operation on another segment. `capacity` is at least
  `MIN_CAPACITY`, more than one operation ever touches at once;
* threads other than the owner (fsync, the log cleaner) open their own descriptors by path;
* when `open` meets EMFILE/ENFILE (the process ran out of descriptors for some other reason:
  connections, a low `ulimit -n`), half of the cached descriptors are closed and the open retried
  once; if it still fails the OSError goes up (the request gets KAFKA_STORAGE_ERROR).
"""

from __future__ import annotations

import errno
import os
import resource
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

MIN_CAPACITY = 8
AUTO = -1  # `odradek.log.max.open.files` default: half the process's open-file limit


class CachedFile(Protocol):
    """What the cache closes when it evicts (a `LogSegment`)."""

    def release_fd(self) -> None: ...


def auto_capacity() -> int:
    """Half the soft RLIMIT_NOFILE: the other half stays for connections, checkpoints and the like."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1 << 16
    return max(MIN_CAPACITY, soft // 2)


class FileCache:
    __slots__ = ("_lru", "capacity", "evictions", "opens")

    def __init__(self, capacity: int = AUTO) -> None:
        self.capacity = auto_capacity() if capacity < 0 else max(MIN_CAPACITY, capacity)
        self._lru: OrderedDict[CachedFile, None] = OrderedDict()
        self.opens = 0  # descriptors opened (a metric)
        self.evictions = 0  # descriptors closed to make room

    def __len__(self) -> int:
        return len(self._lru)

    def open(self, owner: CachedFile, opener: Callable[[], int]) -> int:
        """Run `opener` (an `os.open`) for `owner`, making room first; `owner` becomes the most
        recently used. `owner` must not already hold a descriptor."""
        lru = self._lru
        while len(lru) >= self.capacity:
            self._evict()
        try:
            fd = opener()
        except OSError as exc:
            if exc.errno not in (errno.EMFILE, errno.ENFILE) or not lru:
                raise
            for _ in range((len(lru) + 1) // 2):
                self._evict()
            fd = opener()
        lru[owner] = None
        self.opens += 1
        return fd

    def touch(self, owner: CachedFile) -> None:
        self._lru.move_to_end(owner)

    def forget(self, owner: CachedFile) -> None:
        """`owner` closed its descriptor itself."""
        self._lru.pop(owner, None)

    def _evict(self) -> None:
        owner, _ = self._lru.popitem(last=False)
        self.evictions += 1
        owner.release_fd()

    def close_all(self) -> None:
        while self._lru:
            self._evict()


def close_quietly(fd: int) -> None:
    try:  # noqa: SIM105 - not contextlib.suppress: an evicting reopen runs this once per append
        os.close(fd)
    except OSError:
        pass
