"""Session-windowed aggregation (`SessionWindows`): a record joins (and merges) every session of its
key within the inactivity gap. Merged sessions are removed and forwarded as tombstones
(`Change(None, old)`), the merged session as `Change(new, None)`, as Kafka Streams does.

A record is late when its merged session ends before `stream time - grace`. With `on_window_close`,
a session is emitted once, when stream time passes `end + gap + grace` (no record can extend it then).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from odradek.streams.operators.emit_cache import EmitCache, caching_enabled
from odradek.streams.operators.windowed import LATE_CHILD
from odradek.streams.processor import Processor, ProcessorContext
from odradek.streams.record import Change, Record
from odradek.streams.windows import SessionWindows, Window, Windowed

log = logging.getLogger("odradek.streams")


class SessionWindowedAggregateProcessor(Processor):
    def __init__(
        self,
        store: str,
        windows: SessionWindows,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        merger: Callable[[Any, Any, Any], Any],
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
        self.late_records = 0
        self.skipped = 0

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.store_name)
        enabled, limit = caching_enabled(context, self.caching and not self.emit_final)
        self.cache = EmitCache(context, enabled, limit)
        self.open: dict[tuple[Any, int, int], Any] = {}
        if self.emit_final:
            for (key, start, end), _ in self.store.all():
                self.open[(self.store.hashable_key(key), start, end)] = key

    def process(self, record: Record[Any, Any]) -> None:
        key, ts = record.key, record.timestamp
        if key is None or record.value is None:
            self.skipped += 1
            log.warning("session aggregation skipped a record with a None key or value")
            return
        gap = self.windows.inactivity_gap_ms
        close = self.context.current_stream_time_ms() - self.windows.grace_ms
        overlapping = self.store.find_sessions(key, ts - gap, ts + gap)
        start = min([ts] + [s for s, _, _ in overlapping])
        end = max([ts] + [e for _, e, _ in overlapping])
        if end < close:
            self.late_records += 1
            if self.late_output:
                self.context.forward(record, LATE_CHILD)
            return
        agg = self.initializer()
        hk = self.store.hashable_key(key)
        for s, e, value in overlapping:
            agg = self.merger(key, agg, value)
            self.store.remove(key, s, e)
            if self.emit_final:
                self.open.pop((hk, s, e), None)
            else:
                self.cache.emit(Windowed(key, Window(s, e)), None, value, ts)
        agg = self.aggregator(key, record.value, agg)
        self.store.put(key, start, end, agg)
        if self.emit_final:
            self.open[(hk, start, end)] = key
            self.emit_closed()
        else:
            self.cache.emit(Windowed(key, Window(start, end)), agg, None, ts)

    def flush(self) -> None:
        self.cache.flush()

    def on_stream_time_advanced(self, stream_time: int) -> None:
        if self.emit_final:
            self.emit_closed()

    def emit_closed(self) -> None:
        limit = self.context.current_stream_time_ms() - self.windows.grace_ms - self.windows.inactivity_gap_ms
        closed = sorted((e, s, hk) for (hk, s, e) in self.open if e < limit)
        for e, s, hk in closed:
            key = self.open.pop((hk, s, e))
            agg = self.store.fetch_session(key, s, e)
            if agg is not None:
                self.context.forward(Record(Windowed(key, Window(s, e)), Change(agg, None), e))
