"""Ordered byte maps under the typed stores: `MemoryBytesStore` (a dict) and `RocksDBBytesStore`
(RocksDB through `rocksdict`, raw bytes mode). Both give point reads and writes, atomic batches and
ordered range scans, so every typed store and every test runs over either.
"""

from __future__ import annotations

import bisect
import operator
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

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

    def flush(self) -> None: ...

    def close(self) -> None: ...


class MemoryBytesStore:
    def __init__(self) -> None:
        self._data: dict[bytes, bytes] = {}
        self._sorted: list[bytes] | None = None

    def get(self, key: bytes) -> bytes | None:
        return self._data.get(key)

    def write(self, entries: Iterable[tuple[bytes, bytes | None]]) -> None:
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

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._data.clear()
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
        it = self._db.iter()
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

    def approximate_count(self) -> int:
        return int(self._db.property_int_value("rocksdb.estimate-num-keys") or 0)

    def flush(self) -> None:
        self._db.flush()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._db.close()

    def destroy(self) -> None:
        self.close()
        shutil.rmtree(self.path, ignore_errors=True)
