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

Reading committed state (`with_committed_view`, around the runtime's read operations, which are
synchronous and change nothing): the pending snapshots are rewound into the collections, newest
first, so that each key holds the value recorded by the *oldest* snapshot that has it (its value
before the first uncommitted change); the read runs; everything is put back. With nothing pending,
always the case on a single node between operations, a read costs nothing extra, and the
collections are plain dicts to read (only writes go through Python code).

Values stored in a timeline collection are replaced, not mutated, with one exception: a mutable
value (a consumer group, a transaction's metadata) may be changed in place after `touch(key, copy)`,
which records a copy of it first. Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class _Absent:
    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Final = _Absent()
"""What a delta records for a key that did not exist."""

Delta = dict[Any, Any]


class SnapshotRegistry:
    __slots__ = ("_open", "pending", "tracking")

    def __init__(self) -> None:
        self._open: dict[TimelineDict[Any, Any], Delta] = {}
        self.pending: list[tuple[int, dict[TimelineDict[Any, Any], Delta]]] = []
        """(end offset, deltas), in offset order: the uncommitted writes (read-only outside)."""
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

    def committed_through(self) -> None:
        """Everything written so far is committed (the open changes too): nothing to hide."""
        self._open = {}
        if self.pending:
            self.pending.clear()

    def revert(self) -> None:
        """Undo the open changes (the operation whose records could not be appended)."""
        opened, self._open = self._open, {}
        for structure, delta in opened.items():
            structure._restore(delta)

    def read_committed(self, read: Callable[[], V]) -> V:
        """Run `read` (synchronous, changing nothing) on the committed state."""
        if not self.pending:
            return read()
        undo: list[tuple[TimelineDict[Any, Any], object, object]] = []
        for _, deltas in reversed(self.pending):  # newest first: the oldest value is set last
            for structure, delta in deltas.items():
                for key, old in delta.items():
                    undo.append((structure, key, dict.get(structure, key, ABSENT)))
                    structure._put(key, old)
        try:
            return read()
        finally:
            for structure, key, value in reversed(undo):
                structure._put(key, value)

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
    return registry.read_committed(read)


class TimelineDict(dict[K, V]):
    """A dict whose changes the registry records, so that it can show the committed state. Reads are
    plain dict reads; hashed by identity (it is a key of the registry's deltas), compared by contents."""

    __slots__ = ("_registry",)

    def __init__(self, registry: SnapshotRegistry, items: Mapping[K, V] | None = None) -> None:
        super().__init__(items or {})
        self._registry = registry

    __hash__ = object.__hash__  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"TimelineDict({dict.__repr__(self)})"

    def __setitem__(self, key: K, value: V) -> None:
        registry = self._registry
        if registry.tracking:  # registry.note, inlined: this is on the offset-commit path
            delta = registry._open.get(self)
            if delta is None:
                registry._open[self] = {key: dict.get(self, key, ABSENT)}
            elif key not in delta:
                delta[key] = dict.get(self, key, ABSENT)
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: K) -> None:
        old = dict.pop(self, key)
        if self._registry.tracking:
            self._registry.note(self, key, old)

    def pop(self, key: K, *default: Any) -> Any:
        if key in self:
            value = dict.__getitem__(self, key)
            del self[key]
            return value
        if default:
            return default[0]
        raise KeyError(key)

    def setdefault(self, key: K, default: V) -> V:
        if key in self:
            return dict.__getitem__(self, key)
        self[key] = default
        return default

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def clear(self) -> None:
        for key in list(self):
            del self[key]

    def popitem(self) -> tuple[K, V]:
        key = next(reversed(self))
        return key, self.pop(key)

    def seed(self, key: K, value: V) -> None:
        """Add a key that is committed at once, whatever becomes of the operation adding it (Kafka's
        transaction coordinator caches a new transactional id before its first record)."""
        if key not in self:
            dict.__setitem__(self, key, value)

    def touch(self, key: K, copy: Callable[[Any], V]) -> None:
        """About to change the value at `key` in place: record a copy of it first."""
        registry = self._registry
        if registry.tracking and not registry.noted(self, key):
            value = dict.get(self, key, ABSENT)
            registry.note(self, key, value if value is ABSENT else copy(value))

    def _put(self, key: Any, value: Any) -> None:
        """Untracked: the registry rewinding or restoring."""
        if value is ABSENT:
            dict.pop(self, key, None)
        else:
            dict.__setitem__(self, key, value)

    def _restore(self, delta: Delta) -> None:
        for key, old in delta.items():
            self._put(key, old)
