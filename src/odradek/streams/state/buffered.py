"""The write buffer every typed store shares: writes stay in a dict until the task commits.

A commit has two steps so exactly-once never leaves uncommitted data in RocksDB:
`prepare_commit()` serializes the dirty entries and sends them to the changelog (inside the
transaction), `complete_commit()` writes them to the byte store after the transaction committed.
A crash in between loses nothing: the checkpoint still names the older changelog offset, so the
restore replays the committed tail. `abort()` drops the buffer (the byte store is untouched).

Clean entries stay cached for reads up to `cache_max_entries`, then the clean cache is dropped whole.
Keys that cannot be hashed (a JSON object as key) are cached by their serialized bytes.

Readers in other threads (interactive and pull queries) never iterate the live store: `snapshot()`
takes `guard` (the lock the writing thread holds while it processes a batch and commits) just long
enough to copy the write buffer and take the byte store's O(1) snapshot, and returns a private,
read-only copy of the store with the same read API. Point reads from another thread go through the
store's `read` (no cache fill: the cache belongs to the writer).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any, Self

from odradek.streams.serdes import Serde
from odradek.streams.state.bytes_store import BytesStore

ChangelogSender = Callable[[bytes, bytes | None, int], None]
"""`(key_bytes, value_bytes_or_None, timestamp)`: send one record to this store's changelog partition."""

_PLAIN = frozenset({bytes, str, int, float})
DELETED: Any = object()
MISSING: Any = object()


class StoreGuard:
    """The lock a thread holds while it changes its stores (reentrant), fair to a waiting reader:
    a thread that wants it waits at a gate first, so a writer that releases it and comes back for its
    next batch waits behind the reader instead of taking it again at once (a plain lock would let
    a busy stream thread starve the reader)."""

    __slots__ = ("_depth", "_gate", "_lock", "_owner")

    def __init__(self) -> None:
        self._gate = threading.Lock()
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> None:
        me = threading.get_ident()
        if self._owner == me:
            self._depth += 1
            return
        with self._gate:
            self._lock.acquire()
        self._owner, self._depth = me, 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


class UnhashableKey:
    __slots__ = ("data",)

    def __init__(self, data: bytes | None) -> None:
        self.data = data

    def __hash__(self) -> int:
        return hash(self.data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UnhashableKey) and other.data == self.data


class BufferedStore:
    is_snapshot = False

    def __init__(
        self,
        name: str,
        inner: BytesStore,
        key_serde: Serde[Any],
        value_serde: Serde[Any],
        persistent: bool,
        cache_max_entries: int = 100_000,
    ) -> None:
        self.name = name
        self.inner = inner
        self.key_serde = key_serde
        self.value_serde = value_serde
        self.persistent = persistent
        self.cache_max_entries = cache_max_entries
        self.changelog: ChangelogSender | None = None
        self.topic = name  # serdes see the store name as topic, as Kafka passes the changelog name
        self._cache: dict[Any, Any] = {}
        self._dirty: dict[Any, Any] = {}
        self._prepared: list[tuple[bytes, bytes | None]] | None = None
        self.stream_time = -1
        self.open = True
        self.guard = StoreGuard()
        """Held by the writing thread while it changes the store (the stream thread sets its own)."""

    def hashable_key(self, key: Any) -> Any:
        if type(key) in _PLAIN:
            return key
        try:
            hash(key)
        except TypeError:
            return UnhashableKey(self.key_serde.serialize(self.topic, key))
        return key

    def key_bytes(self, key: Any) -> bytes:
        data = self.key_serde.serialize(self.topic, key)
        if data is None:
            raise ValueError(f"store {self.name!r}: a key cannot be None")
        return data

    # -- what subclasses provide: the binary layout of one logical entry -------------------------------

    def encode_entry(self, dirty_key: Any, value: Any) -> tuple[bytes, bytes | None]:
        raise NotImplementedError

    def write_inner(self, entries: list[tuple[bytes, bytes | None]]) -> None:
        self.inner.write(entries)

    # -- buffer -----------------------------------------------------------------------------------------

    def _set(self, hk: Any, dirty_key: Any, value: Any) -> None:
        self._cache[hk] = value
        self._dirty[hk] = dirty_key

    def dirty_count(self) -> int:
        return len(self._dirty)

    # -- snapshots for readers in other threads -----------------------------------------------------------

    def snapshot(self) -> Self:
        """A read-only copy of the store as it is now (committed entries and the write buffer): the
        writer's later puts and commits do not show in it. Costs a copy of the write buffer under
        `guard`; the byte store's snapshot is O(1)."""
        if self.is_snapshot:
            return self
        with self.guard:
            frozen = copy.copy(self)
            frozen._dirty = dict(self._dirty)
            cache = self._cache
            frozen._cache = {hk: cache[hk] for hk in frozen._dirty}
            frozen.inner = self.inner.snapshot()
            self._freeze(frozen)
        frozen._prepared = None
        frozen.changelog = None
        frozen.guard = StoreGuard()
        frozen.is_snapshot = True
        return frozen

    def _freeze(self, frozen: Self) -> None:
        """Copy what else a subclass's reads need into `frozen` (called under `guard`)."""

    def prepare_commit(self) -> None:
        if self._prepared is not None:
            return
        cache = self._cache
        entries = [self.encode_entry(dk, cache[hk]) for hk, dk in self._dirty.items()]
        if self.changelog is not None:
            send = self.changelog
            ts = max(self.stream_time, 0)
            for key, value in entries:
                send(key, value, ts)
        self._prepared = entries

    def complete_commit(self) -> None:
        if self._prepared is None:
            self.prepare_commit()
        assert self._prepared is not None
        if self._prepared:
            self.write_inner(self._prepared)
        self._prepared = None
        self._dirty.clear()
        if len(self._cache) > self.cache_max_entries:
            self._cache.clear()

    def flush(self) -> None:
        """Write the buffer to the byte store now (at-least-once and the test driver)."""
        self.prepare_commit()
        self.complete_commit()

    def abort(self) -> None:
        self._prepared = None
        self._dirty.clear()
        self._cache.clear()

    def restore(self, entries: list[tuple[bytes, bytes | None]]) -> None:
        """Apply raw changelog records (the byte layout of `encode_entry`) to the byte store."""
        self._cache.clear()
        self.write_inner(entries)

    def close(self) -> None:
        self.open = False
        self._cache.clear()
        self._dirty.clear()
        self.inner.close()
