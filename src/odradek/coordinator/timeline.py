"""Committed views of a shard's state: snapshots keyed by log offsets (Kafka's SnapshotRegistry and
timeline collections), so that writers apply records at once while readers see only what is committed.

A shard keeps the state that its records describe in `TimelineDict`s sharing one `SnapshotRegistry`.
Every change made while tracking is on records the value it replaces, in the registry's *open*
delta, the first time that key changes (one entry per key, however often it changes). Then the
runtime:

* `seal(end_offset)` once the operation's records are appended: the open delta becomes a pending
  snapshot, "the state before the records ending at `end_offset`";
* `settle()` when the operation wrote no records: its changes join the last pending snapshot (they
  are visible once the writes they may depend on are), or, with nothing pending, are committed now;
* `commit(high_watermark)`: pending snapshots that end at or below it are dropped (their changes are
  committed);
* `revert()` when the operation's append failed: the open delta is put back.

Reading committed state (`with_committed_view`, which the runtime sets around read operations): a
key's committed value is the one recorded in the *oldest* pending snapshot that has the key (the
value before the first uncommitted change), else the current one. With nothing pending, which is
always the case on a single node between operations, it is just the current value.

Values stored in a timeline collection are replaced, not mutated, with one exception: a mutable
value (a consumer group, a transaction's metadata) may be changed in place after `touch(key, copy)`,
which records a copy of it first. Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final, Generic, TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class _Absent:
    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
"""What a delta records for a key that did not exist."""

Delta = dict[Any, Any]


class SnapshotRegistry:
    __slots__ = ("_open", "pending", "reading_committed", "tracking")

    def __init__(self) -> None:
        self._open: dict[TimelineDict[Any, Any], Delta] = {}
        self.pending: list[tuple[int, dict[TimelineDict[Any, Any], Delta]]] = []
        """(end offset, deltas), in offset order: the uncommitted writes (read-only outside)."""
        self.reading_committed = False
        self.tracking = True
        """Off while loading the committed part of a log: nothing to undo or hide there."""

    # --- what structures call ------------------------------------------------------------------
    def note(self, structure: TimelineDict[Any, Any], key: object, old: object) -> None:
        delta = self._open.get(structure)
        if delta is None:
            self._open[structure] = {key: old}
        elif key not in delta:
            delta[key] = old

    def noted(self, structure: TimelineDict[Any, Any], key: object) -> bool:
        delta = self._open.get(structure)
        return delta is not None and key in delta

    def committed_value(self, structure: TimelineDict[Any, Any], key: object, current: object) -> object:
        for _, deltas in self.pending:
            delta = deltas.get(structure)
            if delta is not None and key in delta:
                return delta[key]
        return current

    def committed_items(self, structure: TimelineDict[K, V], data: dict[K, V]) -> dict[K, V]:
        view = dict(data)
        for _, deltas in reversed(self.pending):  # the oldest value wins
            delta = deltas.get(structure)
            if delta:
                for key, old in delta.items():
                    if old is ABSENT:
                        view.pop(key, None)
                    else:
                        view[key] = old
        return view

    @property
    def viewing_committed(self) -> bool:
        return self.reading_committed and bool(self.pending)

    # --- what the runtime calls ----------------------------------------------------------------
    @property
    def uncommitted(self) -> bool:
        return bool(self.pending)

    def seal(self, end_offset: int) -> None:
        """The open changes belong to the records that end at `end_offset`."""
        if not self._open:
            return
        if self.pending and self.pending[-1][0] >= end_offset:
            self._merge_into_last()
        else:
            self.pending.append((end_offset, self._open))
        self._open = {}

    def settle(self) -> None:
        """The operation wrote no records: its changes become visible with the last pending write."""
        if self._open and self.pending:
            self._merge_into_last()
        self._open = {}

    def commit(self, offset: int) -> None:
        """Records below `offset` are committed."""
        pending = self.pending
        drop = 0
        while drop < len(pending) and pending[drop][0] <= offset:
            drop += 1
        if drop:
            del pending[:drop]

    def revert(self) -> None:
        """Undo the open changes (the operation whose records could not be appended)."""
        opened, self._open = self._open, {}
        for structure, delta in opened.items():
            structure._restore(delta)

    def _merge_into_last(self) -> None:
        last = self.pending[-1][1]
        for structure, delta in self._open.items():
            target = last.get(structure)
            if target is None:
                last[structure] = delta
            else:
                for key, old in delta.items():
                    target.setdefault(key, old)


def with_committed_view(registry: SnapshotRegistry, read: Callable[[], V]) -> V:
    registry.reading_committed = True
    try:
        return read()
    finally:
        registry.reading_committed = False


class TimelineDict(Generic[K, V]):
    """A dict whose committed view the registry can show. Hashed by identity (it is a key of the
    registry's deltas), compared by contents."""

    __slots__ = ("_data", "_registry")

    def __init__(self, registry: SnapshotRegistry, items: Mapping[K, V] | None = None) -> None:
        self._registry = registry
        self._data: dict[K, V] = dict(items) if items else {}

    # --- reads (the committed view inside `with_committed_view`) --------------------------------
    def _view(self) -> dict[K, V]:
        if self._registry.viewing_committed:
            return self._registry.committed_items(self, self._data)
        return self._data

    @overload
    def get(self, key: K) -> V | None: ...

    @overload
    def get(self, key: K, default: V | T) -> V | T: ...

    def get(self, key: K, default: Any = None) -> Any:
        registry = self._registry
        if registry.reading_committed and registry.pending:
            value = registry.committed_value(self, key, self._data.get(key, ABSENT))
            return default if value is ABSENT else value
        return self._data.get(key, default)

    def __getitem__(self, key: K) -> V:
        value: Any = self.get(key, ABSENT)
        if value is ABSENT:
            raise KeyError(key)
        return value  # type: ignore[no-any-return]

    def __contains__(self, key: object) -> bool:
        registry = self._registry
        if registry.reading_committed and registry.pending:
            data: dict[Any, Any] = self._data
            current = data.get(key, ABSENT)
            return registry.committed_value(self, key, current) is not ABSENT
        return key in self._data

    def __iter__(self) -> Iterator[K]:
        return iter(self._view())

    def __len__(self) -> int:
        return len(self._view())

    def __bool__(self) -> bool:
        return bool(self._view())

    def keys(self) -> Any:
        return self._view().keys()

    def values(self) -> Any:
        return self._view().values()

    def items(self) -> Any:
        return self._view().items()

    def __repr__(self) -> str:
        return f"TimelineDict({self._data!r})"

    def __eq__(self, other: object) -> bool:
        """Equal contents (the view of the moment), like a dict; the hash stays the identity's."""
        if isinstance(other, TimelineDict):
            return self._view() == other._view()
        if isinstance(other, Mapping):
            return self._view() == dict(other)
        return NotImplemented

    __hash__ = object.__hash__

    # --- writes (always the live state) --------------------------------------------------------
    def __setitem__(self, key: K, value: V) -> None:
        registry = self._registry
        if registry.tracking:
            registry.note(self, key, self._data.get(key, ABSENT))
        self._data[key] = value

    def __delitem__(self, key: K) -> None:
        old = self._data.pop(key)
        if self._registry.tracking:
            self._registry.note(self, key, old)

    def pop(self, key: K, default: Any = ABSENT) -> Any:
        if key in self._data:
            value = self._data[key]
            del self[key]
            return value
        if default is ABSENT:
            raise KeyError(key)
        return default

    def setdefault(self, key: K, default: V) -> V:
        if key in self._data:
            return self._data[key]
        self[key] = default
        return default

    def seed(self, key: K, value: V) -> None:
        """Add a key that is committed at once, whatever becomes of the operation adding it (Kafka's
        transaction coordinator caches a new transactional id before its first record)."""
        if key not in self._data:
            self._data[key] = value

    def touch(self, key: K, copy: Callable[[Any], V]) -> None:
        """About to change the value at `key` in place: record a copy of it first."""
        registry = self._registry
        if registry.tracking and not registry.noted(self, key):
            value = self._data.get(key, ABSENT)
            registry.note(self, key, value if value is ABSENT else copy(value))

    def _restore(self, delta: Delta) -> None:
        for key, old in delta.items():
            if old is ABSENT:
                self._data.pop(key, None)
            else:
                self._data[key] = old
