"""Read-only views over the local copies of a store (one per task of this instance) for queries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from odradek.streams.errors import InvalidStateStoreException
from odradek.streams.state.keyvalue import KeyValueStore, ValueAndTimestamp
from odradek.streams.state.segmented import SessionStore, WindowStore


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, ValueAndTimestamp) else value


class LocalStoreView:
    def __init__(self, name: str, stores: Callable[[], list[Any]]) -> None:
        self.name = name
        self._stores = stores

    def _all(self) -> list[Any]:
        stores = self._stores()
        if not stores:
            raise InvalidStateStoreException(f"store {self.name!r} has no active task on this instance")
        return stores

    @property
    def kind(self) -> str:
        first = self._all()[0]
        if isinstance(first, WindowStore):
            return "window"
        if isinstance(first, SessionStore):
            return "session"
        return "key_value"

    def get(self, key: Any) -> Any:
        for store in self._all():
            if isinstance(store, KeyValueStore):
                value = store.get(key)
                if value is not None:
                    return _plain(value)
        return None

    def range(self, from_key: Any = None, to_key: Any = None) -> list[tuple[Any, Any]]:
        out = []
        for store in self._all():
            out += [(k, _plain(v)) for k, v in store.range(from_key, to_key)]
        return sorted(out, key=lambda kv: repr(kv[0]))

    def all(self) -> list[tuple[Any, Any]]:
        out: list[tuple[Any, Any]] = []
        for store in self._all():
            if isinstance(store, KeyValueStore):
                out += [(k, _plain(v)) for k, v in store.all()]
            else:
                out += list(store.all())
        return out

    def fetch(self, key: Any, time_from: int, time_to: int) -> list[tuple[int, Any]]:
        """Window stores: (window start, value) of `key` in [time_from, time_to]."""
        out = []
        for store in self._all():
            if isinstance(store, WindowStore):
                out += store.fetch_range(key, time_from, time_to)
            elif isinstance(store, SessionStore):
                out += [(s, v) for s, e, v in store.find_sessions(key, time_from, time_to)]
        return sorted(out, key=lambda e: e[0])

    def approximate_num_entries(self) -> int:
        return sum(getattr(s, "approximate_num_entries", lambda: 0)() for s in self._all())
