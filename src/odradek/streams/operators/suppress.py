"""`KTable.suppress`: hold table updates back and emit only the latest per key later.

* `Suppressed.until_window_closes()` (windowed tables): each window's final value once stream time
  reaches `window end + grace` (+ the inactivity gap for session windows).
* `Suppressed.until_time_limit(ms, max_records)`: a key's latest value once stream time is `ms` past
  its first held-back update; a full buffer emits its oldest entries early (`emit_early`) or fails.

The buffer is kept in a logged key-value store, so held-back updates survive a restart.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from typing import Any

from odradek.streams.errors import StreamsException
from odradek.streams.processor import Processor, ProcessorContext
from odradek.streams.record import Change, Record
from odradek.streams.windows import Windowed


@dataclass(frozen=True)
class Suppressed:
    until_window_close: bool
    time_limit_ms: int = 0
    max_records: int | None = None
    shutdown_when_full: bool = False
    name: str | None = None

    @classmethod
    def until_window_closes(cls, max_records: int | None = None, name: str | None = None) -> Suppressed:
        """Unbounded buffer by default; `max_records` with a full buffer fails (it cannot emit early)."""
        return cls(True, max_records=max_records, shutdown_when_full=True, name=name)

    @classmethod
    def until_time_limit(
        cls,
        time_to_wait_ms: int,
        max_records: int | None = None,
        shutdown_when_full: bool = False,
        name: str | None = None,
    ) -> Suppressed:
        return cls(False, time_to_wait_ms, max_records, shutdown_when_full, name)


class SuppressProcessor(Processor):
    def __init__(self, store: str, suppressed: Suppressed, grace_ms: int, gap_ms: int = 0) -> None:
        self.store_name = store
        self.suppressed = suppressed
        self.grace_ms = grace_ms
        self.gap_ms = gap_ms
        self._seq = itertools.count()

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.store_name)
        self.heap: list[tuple[int, int, Any]] = []
        self.entries: dict[Any, tuple[int, Any]] = {}
        for key, (due, value, ts) in self.store.all():
            hk = self.store.hashable_key(key)
            self.entries[hk] = (due, key)
            heapq.heappush(self.heap, (due, next(self._seq), hk))
            del value, ts

    def _due(self, key: Any, timestamp: int) -> int:
        if self.suppressed.until_window_close:
            if not isinstance(key, Windowed):
                raise StreamsException("suppress(until_window_closes) needs a windowed table")
            return key.window.end + self.grace_ms + self.gap_ms
        return timestamp + self.suppressed.time_limit_ms

    def process(self, record: Record[Any, Any]) -> None:
        change: Change = record.value
        key = record.key
        hk = self.store.hashable_key(key)
        existing = self.entries.get(hk)
        if existing is None:
            due = self._due(key, record.timestamp)
            self.entries[hk] = (due, key)
            heapq.heappush(self.heap, (due, next(self._seq), hk))
            old = change.old
        else:
            due = existing[0]
            old = self.store.get(key)[1][1] if self.store.get(key) is not None else change.old
        self.store.put(key, [due, [change.new, old], record.timestamp])
        limit = self.suppressed.max_records
        if limit is not None and len(self.entries) > limit:
            if self.suppressed.shutdown_when_full:
                raise StreamsException(
                    f"suppress buffer {self.store_name!r} is full ({limit} records)"
                    " and configured to shut down"
                )
            self._emit_oldest(len(self.entries) - limit)
        self.evict()

    def _emit(self, hk: Any) -> None:
        _, key = self.entries.pop(hk)
        held = self.store.get(key)
        self.store.delete(key)
        if held is None:
            return
        _, (new, old), ts = held
        self.context.forward(Record(key, Change(new, old), ts))

    def _emit_oldest(self, count: int) -> None:
        while count > 0 and self.heap:
            _, _, hk = heapq.heappop(self.heap)
            if hk in self.entries:
                self._emit(hk)
                count -= 1

    def evict(self) -> None:
        now = self.context.current_stream_time_ms()
        heap = self.heap
        while heap and heap[0][0] <= now:
            due, _, hk = heapq.heappop(heap)
            entry = self.entries.get(hk)
            if entry is not None and entry[0] == due:
                self._emit(hk)

    def on_stream_time_advanced(self, stream_time: int) -> None:
        self.evict()
