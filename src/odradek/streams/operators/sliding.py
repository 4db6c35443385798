"""Sliding-window aggregation (`SlidingWindows`, KIP-450): windows `[t - d, t]` (both ends inclusive).

For a record at `t` the windows whose contents change are: its own left window `[t - d, t]`; the left
windows of records in `(t, t + d]`; its right window `[t + 1, t + 1 + d]` if a record falls in it;
and the right windows of records in `[t - d - 1, t)` (it now falls in them). This operator keeps each
key's recent records in a duplicate-keeping window store and recomputes each changed window from
them (cost per record grows with the records per window), and keeps the window aggregates in a
second window store keyed by window start.

A window is closed once `end <= stream time - grace`; a record is late when even its right window is
closed (`t + 1 + d <= stream time - grace`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from odradek.streams.operators.emit_cache import EmitCache, caching_enabled
from odradek.streams.operators.windowed import LATE_CHILD
from odradek.streams.processor import Processor, ProcessorContext
from odradek.streams.record import Record
from odradek.streams.windows import SlidingWindows, Window, Windowed

log = logging.getLogger("odradek.streams")


class SlidingWindowedAggregateProcessor(Processor):
    def __init__(
        self,
        store: str,
        buffer_store: str,
        windows: SlidingWindows,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        late_output: bool = False,
        caching: bool = True,
    ) -> None:
        self.store_name = store
        self.buffer_name = buffer_store
        self.windows = windows
        self.initializer = initializer
        self.aggregator = aggregator
        self.late_output = late_output
        self.caching = caching
        self.late_records = 0
        self.skipped = 0

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.store_name)
        self.buffer = context.get_state_store(self.buffer_name)
        enabled, limit = caching_enabled(context, self.caching)
        self.cache = EmitCache(context, enabled, limit)

    def process(self, record: Record[Any, Any]) -> None:
        key, ts = record.key, record.timestamp
        if key is None or record.value is None:
            self.skipped += 1
            log.warning("sliding aggregation skipped a record with a None key or value")
            return
        d = self.windows.time_difference_ms
        close = self.context.current_stream_time_ms() - self.windows.grace_ms
        if ts + 1 + d <= close:
            self.late_records += 1
            if self.late_output:
                self.context.forward(record, LATE_CHILD)
            return
        self.buffer.put(key, record.value, ts)
        records = self.buffer.fetch_range(key, max(0, ts - 2 * d - 2), ts + 2 * d + 2)
        times = [t for t, _ in records]
        ends = {ts}
        ends.update(t for t in times if ts < t <= ts + d)
        if any(ts < t <= ts + 1 + d for t in times):
            ends.add(ts + 1 + d)
        ends.update(t + 1 + d for t in times if t < ts <= t + 1 + d)
        for end in sorted(ends):
            if end <= close:
                continue
            start = max(0, end - d)
            agg = None
            latest = ts
            for t, value in records:
                if start <= t <= end:
                    agg = self.aggregator(key, value, self.initializer() if agg is None else agg)
                    latest = t
            if agg is None:
                continue
            old = self.store.fetch(key, start)
            self.store.put(key, agg, start)
            self.cache.emit(Windowed(key, Window(start, end)), agg, old, latest)

    def flush(self) -> None:
        self.cache.flush()
