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


def _sum(_key: Any, a: Any, b: Any) -> Any:
    """The merger of count (and sum): adds two partial aggregates."""
    return a + b


def needs_old_values(context: ProcessorContext) -> bool:
    """False when every child only looks at new values (`to_stream()`): then operators skip
    computing the old window value (Kafka Streams' "send old values" is off the same way)."""
    from odradek.streams.operators.table import TableToStreamProcessor

    children = getattr(context, "children", None)
    if children is None:
        return True
    return not all(isinstance(processor, TableToStreamProcessor) for processor, _ in children)


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
        self.skipped = 0

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.store_name)
        self.send_old_values = needs_old_values(context)
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
            self.skipped += 1
            log.warning("windowed aggregation skipped a record with a None key or value")
            return
        windows = self.windows
        close = self.context.current_stream_time_ms() - windows.grace_ms
        newest_start = ts - ts % windows.advance_ms
        if newest_start + windows.size_ms <= close or (
            self.next_emit_start is not None and newest_start < self.next_emit_start
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
        values = [v for s in range(window.start, window.end, self.unit) if (v := panes.get(s)) is not None]
        if not values:
            return None
        if self.merger is _sum:
            return sum(values)  # count and sum: the built-in adds the panes
        merger = self.merger
        assert merger is not None
        agg = values[0]
        for value in values[1:]:
            agg = merger(key, agg, value)
        return agg

    def _emit_panes(self, key: Any, old_panes: dict[int, Any], ts: int, close: int) -> None:
        if self.merger is _sum and not self.send_old_values:
            self._emit_sums(key, old_panes, ts, close)
            return
        size, advance = self.windows.size_ms, self.windows.advance_ms
        first_pane, last_pane = min(old_panes), max(old_panes)
        start = max(0, first_pane - first_pane % advance - size + advance)
        last_start = last_pane - last_pane % advance
        starts = [
            s
            for s in range(start, last_start + 1, advance)
            if s + size > close and any(s <= p < s + size for p in old_panes)
        ]
        if not starts:
            return
        panes = dict(self.store.fetch_range(key, starts[0], starts[-1] + size - 1))
        before = None
        if self.send_old_values:
            before = dict(panes)
            for pane, old in old_panes.items():
                if old is None:
                    before.pop(pane, None)
                else:
                    before[pane] = old
        forward = self.context.forward
        for s in starts:
            window = Window(s, s + size)
            new = self._merge(key, panes, window)
            if new is not None:
                old = self._merge(key, before, window) if before is not None else None
                forward(Record(Windowed(key, window), Change(new, old), ts))

    def _emit_sums(self, key: Any, dirty: dict[int, Any], ts: int, close: int) -> None:
        """Count and sum, new values only: prefix sums over the panes give each window with one
        subtraction, and prefix counts of dirty panes say which windows changed."""
        size, advance, unit = self.windows.size_ms, self.windows.advance_ms, self.unit
        first, last = min(dirty), max(dirty)
        lo = max(0, first - first % advance - size + advance)
        last_start = last - last % advance
        fetch = self.store.fetch  # point reads: recent panes are in the store's cache
        sums, present, changed = [0], [0], [0]
        for p in range(lo, last_start + size, unit):
            value = fetch(key, p)
            if value is None:
                sums.append(sums[-1])
                present.append(present[-1])
            else:
                sums.append(sums[-1] + value)
                present.append(present[-1] + 1)
            changed.append(changed[-1] + (p in dirty))
        width = size // unit
        forward = self.context.forward
        for s in range(lo, last_start + 1, advance):
            if s + size <= close:
                continue  # closed: never updated again
            i = (s - lo) // unit
            j = i + width
            if changed[j] > changed[i] and present[j] > present[i]:
                forward(Record(Windowed(key, Window(s, s + size)), Change(sums[j] - sums[i], None), ts))

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
