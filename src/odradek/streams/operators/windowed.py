"""Time-windowed aggregation (tumbling and hopping), optionally on panes.

*Pane mode* (count, reduce, or aggregate with a `merger`): the store holds one partial aggregate per
pane of `gcd(size, advance)` ms; a record updates exactly one pane; a window's value is the merge of
its panes, computed when it is emitted. With emit caching that is once per window and commit
(every window updated while open since the last commit, also one that closed in between:
`pending_windows`), so a 10 s / 1 s hopping count costs about what a tumbling count does.

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
from itertools import accumulate
from typing import Any

from odradek.streams.engine.context import FailedProcessingException
from odradek.streams.engine.fused import Fail, Stage
from odradek.streams.operators.emit_cache import EmitCache, caching_enabled
from odradek.streams.operators.pending_windows import Owed, PendingWindows
from odradek.streams.processor import Processor, ProcessorContext
from odradek.streams.record import Change, Headers, Record
from odradek.streams.windows import TimeWindows, Window, Windowed

log = logging.getLogger("odradek.streams")
LATE_CHILD = "late"
_tuple = tuple.__new__
"""`_tuple(Window, (start, end))` is `Window(start, end)` without the named tuple's Python-level
`__new__` (half the cost; emits make three per window)."""


def _sum(_key: Any, a: Any, b: Any) -> Any:
    """The merger of count (only count: `_emit_sums` takes a pane present as a count >= 1)."""
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
        self.children_stage: Stage | None = None
        """Set when this node runs as a fused stage: its children's stage, which emits call directly
        (no `Record` objects, no `forward` hops) instead of `context.forward`."""

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.store_name)
        self.send_old_values = needs_old_values(context)
        enabled, limit = caching_enabled(context, self.caching and not self.emit_final)
        self.cache = EmitCache(context, enabled, limit)
        self.pending: PendingWindows | None = None
        """Pane mode with caching: the windows owed downstream at the next commit or closing."""
        if self.unit and enabled:
            keep_olds = self.merger is not _sum or self.send_old_values
            self.pending = PendingWindows(self.windows.size_ms, self.windows.advance_ms, keep_olds)
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
        self._process(record.key, record.value, record.timestamp, record.headers, record)

    def _process(
        self, key: Any, value: Any, ts: int, headers: Headers | None, record: Record[Any, Any] | None
    ) -> None:
        """One input record; `record` is None on the fused path (made only for a late record)."""
        if key is None or value is None:
            self.skipped += 1
            log.warning("windowed aggregation skipped a record with a None key or value")
            return
        windows = self.windows
        close = self.context.current_stream_time_ms() - windows.grace_ms
        newest_start = ts - ts % windows.advance_ms
        if newest_start + windows.size_ms <= close or (
            self.next_emit_start is not None and newest_start < self.next_emit_start
        ):
            self._late(record if record is not None else Record(key, value, ts, headers))
            return
        if self.emit_final:
            self.emit_closed()  # before the update: this record may expire what closed windows need
        elif self.pending is not None:
            pane = ts - ts % self.unit
            if pane + self.unit <= close and self._partly_late(pane, close):
                self._emit_closed_of(key, close)
        if self.unit:
            self._process_pane(key, value, ts, close)
        else:
            self._process_windows(key, value, ts, close)

    def fused(self, name: str, children: Callable[[], Stage], fail: Fail) -> Stage:
        """The operator as a fused stage (the source's stage calls it without a `Record`), and its
        emits through its children's stage. A record that updates one pane held for the next emit
        (pane mode, emit caching on, not emit-final) takes an inlined path: one read-modify-write of
        the pane and a note of the pane's value before the commit; anything else (a None key or
        value, a late record) takes `_process` as the general path does."""
        self.children_stage = children()
        process = self._process
        pending = self.pending
        if pending is None:

            def windowed_stage(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
                try:
                    process(key, value, timestamp, headers, None)
                except FailedProcessingException:
                    raise
                except Exception as exc:
                    fail(name, key, value, timestamp, headers, exc)

            return windowed_stage

        now = self.context.current_stream_time_ms
        size, advance, grace, unit = (
            self.windows.size_ms,
            self.windows.advance_ms,
            self.windows.grace_ms,
            self.unit,
        )
        aggregate, initializer, aggregator = self.store.aggregate, self.initializer, self.aggregator
        note, partly_late, emit_closed_of = pending.note, self._partly_late, self._emit_closed_of
        owed = pending.by_key

        def windowed_pane_stage(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
            try:
                close = now() - grace
                if key is None or value is None or timestamp - timestamp % advance + size <= close:
                    process(key, value, timestamp, headers, None)  # skipped or late
                    return
                pane = timestamp - timestamp % unit
                if pane + unit <= close and partly_late(pane, close):
                    emit_closed_of(key, close)
                hk, old, _ = aggregate(key, pane, value, initializer, aggregator)
                entry = owed.get(hk)
                if entry is not None and entry[2] is None:  # `pending.note`, its usual case inlined
                    lowest = (pane if pane > close else close) - size + 1
                    first = lowest + (-lowest) % advance
                    tail = entry[1][-1]
                    if first >= 0 and tail[0] <= first <= tail[1] + advance:
                        last = pane - pane % advance
                        if last > tail[1]:  # noqa: PLR1730 - an if is cheaper than max() per record
                            tail[1] = last
                        return
                note(hk, key, pane, old, close)
            except FailedProcessingException:
                raise
            except Exception as exc:
                fail(name, key, value, timestamp, headers, exc)

        return windowed_pane_stage

    def _process_pane(self, key: Any, value: Any, ts: int, close: int) -> None:
        pane = ts - ts % self.unit
        hk, old, _ = self.store.aggregate(key, pane, value, self.initializer, self.aggregator)
        if self.emit_final:
            self._track_open(pane, hk, key)
            return
        if self.pending is not None:
            self.pending.note(hk, key, pane, old, close)
            return
        windows = self.windows
        first = max(windows.first_start_for(pane), windows.first_start_for(close))  # open ones
        starts = list(range(first, pane - pane % windows.advance_ms + 1, windows.advance_ms))
        if starts:
            self._emit_windows(key, starts, {pane: old}, ts, {})

    def _process_windows(self, key: Any, value: Any, ts: int, close: int) -> None:
        store = self.store
        for window in self.windows.windows_for(ts):
            if window.end <= close or (
                self.next_emit_start is not None and window.start < self.next_emit_start
            ):
                continue
            hk, old, new = store.aggregate(key, window.start, value, self.initializer, self.aggregator)
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

    def _emit(self, key: Any, start: int, new: Any, old: Any, ts: int) -> None:
        windowed = _tuple(Windowed, (key, _tuple(Window, (start, start + self.windows.size_ms))))
        if self.children_stage is not None:
            self.children_stage(windowed, _tuple(Change, (new, old)), ts, None)
        else:
            self.context.forward(Record(windowed, _tuple(Change, (new, old)), ts))

    def _partly_late(self, pane: int, close: int) -> bool:
        """Whether a record in `pane` is late for the oldest windows containing it, not for all."""
        return self.windows.first_start_for(pane) + self.windows.size_ms <= close

    def _emit_closed_of(self, key: Any, close: int) -> None:
        """Before a record late for some of its windows changes a pane they share with open ones:
        emit the key's pending windows that closed, at their value as they closed."""
        assert self.pending is not None
        owed = self.pending.closed_of(self.store.hashable_key(key), close)
        if owed is not None:
            self._emit_owed([owed])

    def _emit_owed(self, owed: list[Owed]) -> None:
        ts = self.context.current_stream_time_ms()
        made: dict[int, Window] = {}
        for key, starts, olds in owed:
            if starts:
                self._emit_windows(key, starts, olds, ts, made)

    def _emit_windows(
        self, key: Any, starts: list[int], olds: dict[int, Any] | None, ts: int, made: dict[int, Window]
    ) -> None:
        """Emit `key`'s windows at `starts` (ascending) from their panes; `olds`: the dirty panes'
        values before the commit (for old values); `made`: `Window`s made so far, by start."""
        size, unit = self.windows.size_ms, self.unit
        lo = starts[0]
        hi = min(starts[-1] + size - unit, self.store.horizon)
        values = self.store.fetch_many(key, lo, hi, unit, include_expired=True)  # closed since: held
        if self.merger is _sum and not self.send_old_values:
            self._emit_sums(key, starts, values, ts, made)
            return
        panes = {lo + i * unit: v for i, v in enumerate(values) if v is not None}
        before = None
        if self.send_old_values and olds is not None:
            before = dict(panes)
            for pane, old in olds.items():
                if old is None:
                    before.pop(pane, None)
                else:
                    before[pane] = old
        for s in starts:
            window = Window(s, s + size)
            new = self._merge(key, panes, window)
            if new is not None:
                old = self._merge(key, before, window) if before is not None else None
                self._emit(key, s, new, old, ts)

    def _emit_sums(
        self, key: Any, starts: list[int], values: list[Any], ts: int, made: dict[int, Window]
    ) -> None:
        """Count, new values only: prefix sums over the panes give each window with one subtraction
        (a pane present counts at least 1, so a window with a pane has a positive count)."""
        size, unit = self.windows.size_ms, self.unit
        sums = list(accumulate([0 if v is None else v for v in values], initial=0))
        lo, width, n = starts[0], size // unit, len(values)
        stage = self.children_stage
        forward = self.context.forward
        for s in starts:
            i = (s - lo) // unit
            if i >= n:
                break  # no pane from here on (above the store's horizon)
            j = i + width
            count = (sums[j] if j <= n else sums[n]) - sums[i]
            if count:
                window = made.get(s)
                if window is None:
                    window = made[s] = _tuple(Window, (s, s + size))
                if stage is not None:
                    stage(_tuple(Windowed, (key, window)), _tuple(Change, (count, None)), ts, None)
                else:
                    forward(Record(_tuple(Windowed, (key, window)), _tuple(Change, (count, None)), ts))

    def flush(self) -> None:
        if self.pending:
            self._emit_owed(self.pending.drain())
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
        unit = self.unit
        while self.open:
            lowest = min(self.open)
            if self.unit:
                lowest = self.windows.first_start_for(lowest)
            start = max(start, lowest)
            if start + size > close:
                break
            window = Window(start, start + size)
            if self.unit:
                keys: dict[Any, Any] = {}
                for pane in range(start, start + size, self.unit):
                    keys.update(self.open.get(pane, {}))
                for key in keys.values():
                    values = self.store.fetch_many(key, start, start + size - unit, unit)
                    panes = {start + i * unit: v for i, v in enumerate(values) if v is not None}
                    agg = self._merge(key, panes, window)
                    if agg is not None:
                        self._emit(key, start, agg, None, window.end - 1)
                for pane in range(start, start + advance, self.unit):
                    for key in self.open.pop(pane, {}).values():
                        self.store.put(key, None, pane)
            else:
                for key in self.open.pop(start, {}).values():
                    agg = self.store.fetch(key, start)
                    if agg is not None:
                        self._emit(key, start, agg, None, window.end - 1)
                    self.store.put(key, None, start)
            start += advance
        self.next_emit_start = start
