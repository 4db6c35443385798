"""Read-only views over the local copies of a store (one per task of this instance) for queries.

They run in other threads than the stream thread writing the stores: scans read each store's
`snapshot()` (consistent: the store between two of the writer's batches), key lookups the store's
`read` (no lock, no cache fill).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from odradek.streams.errors import InvalidStateStoreException
from odradek.streams.state.keyvalue import KeyValueStore, ValueAndTimestamp
from odradek.streams.state.segmented import SessionStore, WindowStore
from odradek.streams.state.versioned import VersionedKeyValueStore, VersionedRecord


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, ValueAndTimestamp | VersionedRecord) else value


def merge_panes(key: Any, panes: dict[int, Any], start: int, spec_panes: Any) -> Any:
    """The value of window `[start, start + size)` from its panes (None when it has none)."""
    windows, merger = spec_panes
    agg = None
    for pane in range(start, start + windows.size_ms, windows.pane_ms):
        value = panes.get(pane)
        if value is not None:
            agg = value if agg is None else merger(key, agg, value)
    return agg


class LocalStoreView:
    def __init__(self, name: str, stores: Callable[[], list[Any]], panes: Any = None) -> None:
        self.name = name
        self._stores = stores
        self.panes = panes
        """`(TimeWindows, merger)` of a pane store: results are merged into windows."""

    def _all(self) -> list[Any]:
        stores = self._stores()
        if not stores:
            raise InvalidStateStoreException(f"store {self.name!r} has no active task on this instance")
        return stores

    def _snapshots(self) -> list[Any]:
        return [store.snapshot() for store in self._all()]

    def snapshot(self) -> LocalStoreView:
        """This view over snapshots of its stores taken now: several reads that must agree."""
        stores = self._snapshots()
        return LocalStoreView(self.name, lambda: stores, self.panes)

    @property
    def kind(self) -> str:
        first = self._all()[0]
        if isinstance(first, WindowStore):
            return "window"
        if isinstance(first, SessionStore):
            return "session"
        return "key_value"

    def get(self, key: Any, as_of_timestamp: int | None = None) -> Any:
        """The value of `key`; of a versioned store, optionally as of a time (KIP-889)."""
        for store in self._all():
            if isinstance(store, VersionedKeyValueStore):
                value = store.snapshot().get(key, as_of_timestamp)
            elif isinstance(store, KeyValueStore):
                value = store.read(key)
            else:
                continue
            if value is not None:
                return _plain(value)
        return None

    def range(self, from_key: Any = None, to_key: Any = None) -> list[tuple[Any, Any]]:
        out = []
        for store in self._snapshots():
            out += [(k, _plain(v)) for k, v in store.range(from_key, to_key)]
        return sorted(out, key=lambda kv: repr(kv[0]))

    def all(self) -> list[tuple[Any, Any]]:
        out: list[tuple[Any, Any]] = []
        for store in self._snapshots():
            if isinstance(store, KeyValueStore | VersionedKeyValueStore):
                out += [(k, _plain(v)) for k, v in store.all()]
            elif self.panes is not None:
                by_key: dict[Any, tuple[Any, dict[int, Any]]] = {}
                for (key, pane), value in store.all():
                    by_key.setdefault(store.hashable_key(key), (key, {}))[1][pane] = value
                for key, panes in by_key.values():
                    out += [((key, s), v) for s, v in self._windows_of(key, panes, min(panes), max(panes))]
            else:
                out += list(store.all())
        return out

    def _windows_of(
        self, key: Any, panes: dict[int, Any], time_from: int, time_to: int
    ) -> list[tuple[int, Any]]:
        windows, _ = self.panes
        first = windows.first_start_for(time_from)
        found = []
        for start in range(first, time_to + 1, windows.advance_ms):
            if start < time_from - windows.size_ms + 1:
                continue
            value = merge_panes(key, panes, start, self.panes)
            if value is not None:
                found.append((start, value))
        return found

    def fetch(self, key: Any, time_from: int, time_to: int) -> list[tuple[int, Any]]:
        """Window stores: (window start, value) of `key`'s windows starting in [time_from, time_to]."""
        out = []
        for store in self._snapshots():
            if isinstance(store, WindowStore) and self.panes is not None:
                windows, _ = self.panes
                panes = dict(store.fetch_range(key, time_from, time_to + windows.size_ms - 1))
                if panes:
                    starts = [
                        (s, v) for s, v in self._windows_of(key, panes, time_from, time_to) if s >= time_from
                    ]
                    out += starts
            elif isinstance(store, WindowStore):
                out += store.fetch_range(key, time_from, time_to)
            elif isinstance(store, SessionStore):
                out += [(s, v) for s, e, v in store.find_sessions(key, time_from, time_to)]
        return sorted(out, key=lambda e: e[0])

    def approximate_num_entries(self) -> int:
        return sum(getattr(s, "approximate_num_entries", lambda: 0)() for s in self._all())
