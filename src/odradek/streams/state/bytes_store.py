"""Ordered byte maps under the typed stores: `MemoryBytesStore` (a dict) and `RocksDBBytesStore`
(RocksDB through `rocksdict`, raw bytes mode). Both give point reads and writes, atomic batches and
ordered range scans, so every typed store and every test runs over either.

`snapshot()` gives a read-only view of the map as it is now, in O(1): a RocksDB snapshot, or the
dict shared copy-on-write (the next write copies it first). Readers in other threads (interactive
and pull queries) scan it while the owner keeps writing.
"""

from __future__ import annotations

import bisect
import operator
import shutil
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from odradek.streams.errors import ProcessorStateException


class BytesStore(Protocol):
    def get(self, key: bytes) -> bytes | None: ...

    def write(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
        """Apply puts (value) and deletes (None) atomically."""
        ...

    def range(self, lo: bytes | None, hi: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        """Entries with lo <= key < hi in key order (None: unbounded)."""
        ...

    def approximate_count(self) -> int: ...

    def snapshot(self) -> BytesStore:
        """A read-only view of the map as it is now (`get`, `range`); later writes do not show."""
        ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class MemoryBytesStore:
    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._sorted: list[bytes] | None = None
        self._shared = False
        """A snapshot holds `_data`: the next write copies it first (copy-on-write)."""
        self._read_only = False

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def write(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
        if self._read_only:
            raise TypeError("a store snapshot is read-only")
        if self._shared:
            self._data = dict(self._data)
            self._shared = False
        data = self._data
        for key, value in entries:
            if value is None:
                if data.pop(key, None) is not None:
                    self._sorted = None
            else:
                if key not in data:
                    self._sorted = None
                data[key] = value

    def range(self, lo: bytes | None, hi: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        if self._sorted is None:
            self._sorted = sorted(self._data)
        keys = self._sorted
        start = 0 if lo is None else bisect.bisect_left(keys, lo)
        end = len(keys) if hi is None else bisect.bisect_left(keys, hi)
        data = self._data
        for key in keys[start:end]:
            value = data.get(key)
            if value is not None:
                yield key, value

    def approximate_count(self) -> int:
        return len(self._data)

    def snapshot(self) -> MemoryBytesStore:
        frozen = MemoryBytesStore()
        frozen._data, frozen._sorted, frozen._read_only = self._data, self._sorted, True
        self._shared = True
        return frozen

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._data = {}  # not clear(): a snapshot may still read the old dict
        self._sorted = None


_key_of = operator.itemgetter(0)


class RocksDBBytesStore:
    """One RocksDB database (a directory). Opening a directory another process holds open fails with
    `ProcessorStateException` naming the directory."""

    def __init__(self, path: Path) -> None:
        from rocksdict import Options, Rdict

        path.mkdir(parents=True, exist_ok=True)
        options = Options(raw_mode=True)
        options.create_if_missing(True)
        options.increase_parallelism(2)
        options.set_max_background_jobs(2)
        try:
            self._db = Rdict(str(path), options)
        except Exception as exc:
            raise ProcessorStateException(f"cannot open the RocksDB state store at {path}: {exc}") from exc
        self.path = path
        self._closed = False

    def get(self, key: bytes) -> bytes | None:
        value = self._db.get(key)
        return value if value is None else bytes(value)

    def write(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
        """One WriteBatch, its entries in key order: RocksDB's memtable (a skip list) inserts
        ascending keys next to the previous one, several times cheaper than scattered keys (a
        window store's commit holds many keys, each a few times). The sort is stable, so of two
        writes to one key the later still wins."""
        from rocksdict import WriteBatch

        batch = WriteBatch(raw_mode=True)
        for key, value in sorted(entries, key=_key_of):
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        if batch.len():
            self._db.write(batch)

    def range(self, lo: bytes | None, hi: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        return _scan(self._db.iter(), lo, hi)

    def approximate_count(self) -> int:
        return int(self._db.property_int_value("rocksdb.estimate-num-keys") or 0)

    def snapshot(self) -> RocksDBSnapshot:
        return RocksDBSnapshot(self._db.iter())

    def flush(self) -> None:
        self._db.flush()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._db.close()

    def destroy(self) -> None:
        self.close()
        shutil.rmtree(self.path, ignore_errors=True)


class RocksDBSnapshot:
    """The database as it was when this was made: one RocksDB iterator, which reads from the point in
    time it was created (seeks do not move it forward; rocksdict keeps the database open while it
    lives, even past `close`). Its reads are serialized: an iterator is not shared by threads."""

    def __init__(self, iterator: Any) -> None:
        self._it = iterator
        self._lock = threading.Lock()

    def get(self, key: bytes) -> bytes | None:
        with self._lock:
            it = self._it
            it.seek(key)
            return bytes(it.value()) if it.valid() and it.key() == key else None

    def range(self, lo: bytes | None, hi: bytes | None) -> Iterator[tuple[bytes, bytes]]:
        with self._lock:
            out = list(_scan(self._it, lo, hi))
        return iter(out)

    def write(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
        raise TypeError("a store snapshot is read-only")

    def approximate_count(self) -> int:
        return 0

    def snapshot(self) -> RocksDBSnapshot:
        return self

    def flush(self) -> None:
        raise TypeError("a store snapshot is read-only")

    def close(self) -> None:
        pass


def _scan(it: Any, lo: bytes | None, hi: bytes | None) -> Iterator[tuple[bytes, bytes]]:
    """The entries of a RocksDB iterator from `lo` (the first key if None) up to `hi` (excluded;
    the end if None)."""
    if lo is None:
        it.seek_to_first()
    else:
        it.seek(lo)
    while it.valid():
        key = it.key()
        if hi is not None and key >= hi:
            break
        yield key, it.value()
        it.next()
