"""Time-windowed aggregation (tumbling and hopping), optionally on panes.

*Pane mode* (count, reduce, or aggregate with a `merger`): the store holds one partial aggregate per
pane of `gcd(size, advance)` ms; a record updates exactly one pane; a window's value is the merge of
its panes, computed when it is emitted. With emit caching that is once per window and commit, so a
10 s / 1 s hopping count costs about what a tumbling count does.

*Window mode* (aggregate without a merger): the store holds one aggregate per window and a record
updates each window containing it.

Emit strategies: `on_update` forwards `Windowed(key, window) -> Change(new, old)` (through the emit
cache); `on_window_close` (KIP-825, "EMIT FINAL") forwards each window once, when stream time reaches
`end + grace`, and then drops what only closed windows needed from the store.

Late records (every window containing them closed) are counted in `late_records`, dropped, and sent
to the child named `late` when the operator has a late-records side output.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from odradek.streams.operators.emit_cache import EmitCache, caching_enabled
from odradek.streams.processor import Processor, ProcessorContext
from odradek.streams.record import Change, Record
from odradek.streams.windows import TimeWindows, Window, Windowed

log = logging.getLogger("odradek.streams")
LATE_CHILD = "late"


class TimeWindowedAggregateProcessor(Processor):
    def __init__(
        self,
        store: str,
        windows: TimeWindows,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        merger: Callable[[Any, Any, Any], Any] | None,
        emit_final: bool = False,
        late_output: bool = False,
        caching: bool = True,
    ) -> None:
        self.store_name = store
        self.windows = windows
        self.initializer = initializer
        self.aggregator = aggregator
        self.merger = merger
        self.emit_final = emit_final
        self.late_output = late_output
        self.caching = caching
        self.unit = windows.pane_ms if merger is not None else 0
        self.late_records = 0

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.store_name)
        enabled, limit = caching_enabled(context, self.caching and not self.emit_final)
        self.cache = EmitCache(context, enabled, limit)
        self.dirty: dict[Any, tuple[Any, dict[int, Any]]] = {}
        """Pane mode with caching: hashable key -> (key, {pane start: pane value before this commit})."""
        self.open: dict[int, dict[Any, Any]] = {}
        """Emit-final: unit start (pane or window) -> {hashable key: key} not yet emitted."""
        self.next_emit_start: int | None = 0 if self.emit_final else None
        if self.emit_final:
            for (key, start), _ in self.store.all():
                self.open.setdefault(start, {})[self.store.hashable_key(key)] = key

    # -- input ----------------------------------------------------------------------------------------

    def _close_time(self) -> int:
        return self.context.current_stream_time_ms() - self.windows.grace_ms

    def _late(self, record: Record[Any, Any]) -> None:
        self.late_records += 1
        log.debug(
            "late record for closed windows at %s (ts %s)", self.context.record_metadata(), record.timestamp
        )
        if self.late_output:
            self.context.forward(record, LATE_CHILD)

    def process(self, record: Record[Any, Any]) -> None:
        key, ts = record.key, record.timestamp
        if key is None or record.value is None:
            log.warning("windowed aggregation skipped a record with a None key or value")
            return
        size = self.windows.size_ms
        close = self._close_time()
        newest_end = ts - ts % self.windows.advance_ms + size
        if newest_end <= close or (
            self.next_emit_start is not None and ts - ts % self.windows.advance_ms < self.next_emit_start
        ):
            self._late(record)
            return
        if self.emit_final:
            self.emit_closed()  # before the update: this record may expire what closed windows need
        if self.unit:
            self._process_pane(key, record.value, ts, close)
        else:
            self._process_windows(key, record.value, ts, close)

    def _process_pane(self, key: Any, value: Any, ts: int, close: int) -> None:
        pane = ts - ts % self.unit
        store = self.store
        old = store.fetch(key, pane)
        new = self.aggregator(key, value, self.initializer() if old is None else old)
        store.put(key, new, pane)
        hk = store.hashable_key(key)
        if self.emit_final:
            self._track_open(pane, hk, key)
            return
        if self.cache.enabled:
            entry = self.dirty.get(hk)
            if entry is None:
                self.dirty[hk] = (key, {pane: old})
            elif pane not in entry[1]:
                entry[1][pane] = old
            return
        self._emit_panes(key, {pane: old}, ts, close)

    def _process_windows(self, key: Any, value: Any, ts: int, close: int) -> None:
        store = self.store
        hk = store.hashable_key(key)
        for window in self.windows.windows_for(ts):
            if window.end <= close or (
                self.next_emit_start is not None and window.start < self.next_emit_start
            ):
                continue
            old = store.fetch(key, window.start)
            new = self.aggregator(key, value, self.initializer() if old is None else old)
            store.put(key, new, window.start)
            if self.emit_final:
                self._track_open(window.start, hk, key)
            else:
                self.cache.emit(Windowed(key, window), new, old, ts)

    def _track_open(self, start: int, hk: Any, key: Any) -> None:
        keys = self.open.get(start)
        if keys is None:
            keys = self.open[start] = {}
        keys[hk] = key

    # -- panes ----------------------------------------------------------------------------------------

    def _merge(self, key: Any, panes: dict[int, Any], window: Window) -> Any:
        merger = self.merger
        assert merger is not None
        agg = None
        for start in range(window.start, window.end, self.unit):
            value = panes.get(start)
            if value is not None:
                agg = value if agg is None else merger(key, agg, value)
        return agg

    def _emit_panes(self, key: Any, old_panes: dict[int, Any], ts: int, close: int) -> None:
        windows: dict[int, Window] = {}
        for pane in old_panes:
            for window in self.windows.windows_of_pane(pane):
                if window.end > close:
                    windows[window.start] = window
        if not windows:
            return
        lo = min(windows)
        hi = max(w.end for w in windows.values())
        panes = dict(self.store.fetch_range(key, lo, hi - 1))
        before = {**panes}
        for pane, old in old_panes.items():
            if old is None:
                before.pop(pane, None)
            else:
                before[pane] = old
        forward = self.context.forward
        for start in sorted(windows):
            window = windows[start]
            new = self._merge(key, panes, window)
            old = self._merge(key, before, window)
            if new is not None:
                forward(Record(Windowed(key, window), Change(new, old), ts))

    def flush(self) -> None:
        if self.dirty:
            close = self._close_time()
            ts = self.context.current_stream_time_ms()
            dirty, self.dirty = self.dirty, {}
            for key, old_panes in dirty.values():
                self._emit_panes(key, old_panes, ts, close)
        self.cache.flush()

    # -- emit final -----------------------------------------------------------------------------------

    def on_stream_time_advanced(self, stream_time: int) -> None:
        if self.emit_final:
            self.emit_closed()

    def emit_closed(self) -> None:
        if self.next_emit_start is None:
            return
        close = self._close_time()
        size, advance = self.windows.size_ms, self.windows.advance_ms
        start = self.next_emit_start
        forward = self.context.forward
        while self.open:
            lowest = min(self.open)
            if self.unit:
                lowest = max(0, lowest - lowest % advance - size + advance)
            start = max(start, lowest)
            if start + size > close:
                break
            window = Window(start, start + size)
            if self.unit:
                keys: dict[Any, Any] = {}
                for pane in range(start, start + size, self.unit):
                    keys.update(self.open.get(pane, {}))
                for key in keys.values():
                    panes = dict(self.store.fetch_range(key, window.start, window.end - 1))
                    agg = self._merge(key, panes, window)
                    if agg is not None:
                        forward(Record(Windowed(key, window), Change(agg, None), window.end - 1))
                for pane in range(start, start + advance, self.unit):
                    for key in self.open.pop(pane, {}).values():
                        self.store.put(key, None, pane)
            else:
                for key in self.open.pop(start, {}).values():
                    agg = self.store.fetch(key, start)
                    if agg is not None:
                        forward(Record(Windowed(key, window), Change(agg, None), window.end - 1))
                    self.store.put(key, None, start)
            start += advance
        self.next_emit_start = start
