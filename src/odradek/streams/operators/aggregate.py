"""Non-windowed aggregations: `KGroupedStream.aggregate/count/reduce`, `KGroupedTable.aggregate`,
and `CogroupedKStream.aggregate`. State lives in a timestamped key-value store; each update is
forwarded as `Change(new, old)` (through the emit cache) with the largest timestamp of the inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from odradek.streams.operators.emit_cache import EmitCache, caching_enabled
from odradek.streams.processor import Processor, ProcessorContext
from odradek.streams.record import Change, Record
from odradek.streams.state.keyvalue import value_and_timestamp as vat

log = logging.getLogger("odradek.streams")


class _StoreProcessor(Processor):
    def __init__(self, store: str, caching: bool = True) -> None:
        self.store_name = store
        self.caching = caching
        self.skipped = 0

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.store_name)
        enabled, limit = caching_enabled(context, self.caching)
        self.cache = EmitCache(context, enabled, limit)

    def skip(self, why: str) -> None:
        self.skipped += 1
        log.warning(
            "%s skipped a record with %s at %s", type(self).__name__, why, self.context.record_metadata()
        )

    def flush(self) -> None:
        self.cache.flush()


class StreamAggregateProcessor(_StoreProcessor):
    def __init__(
        self,
        store: str,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        caching: bool = True,
    ) -> None:
        super().__init__(store, caching)
        self.initializer = initializer
        self.aggregator = aggregator

    def process(self, record: Record[Any, Any]) -> None:
        key = record.key
        if key is None or record.value is None:
            self.skip("a None key or value")
            return
        store = self.store
        previous = store.get(key)
        if previous is None:
            old, ts = None, record.timestamp
            agg = self.aggregator(key, record.value, self.initializer())
        else:
            old, ts = previous[0], max(previous[1], record.timestamp)
            agg = self.aggregator(key, record.value, old)
        store.put(key, vat(agg, ts))
        self.cache.emit(key, agg, old, ts)


class StreamReduceProcessor(_StoreProcessor):
    def __init__(self, store: str, reducer: Callable[[Any, Any], Any], caching: bool = True) -> None:
        super().__init__(store, caching)
        self.reducer = reducer

    def process(self, record: Record[Any, Any]) -> None:
        key = record.key
        if key is None or record.value is None:
            self.skip("a None key or value")
            return
        previous = self.store.get(key)
        if previous is None:
            old, ts, agg = None, record.timestamp, record.value
        else:
            old, ts = previous[0], max(previous[1], record.timestamp)
            agg = self.reducer(old, record.value)
        self.store.put(key, vat(agg, ts))
        self.cache.emit(key, agg, old, ts)


class StreamCountProcessor(_StoreProcessor):
    """`count()`: the hot path of the keyed-count benchmark, so written out."""

    def process(self, record: Record[Any, Any]) -> None:
        key = record.key
        if key is None:
            self.skip("a None key")
            return
        store = self.store
        previous = store.get(key)
        ts = record.timestamp
        if previous is None:
            store.put(key, vat(1, ts))
            self.cache.emit(key, 1, None, ts)
        else:
            old = previous[0]
            if previous[1] > ts:  # noqa: PLR1730 - cheaper than max() per record
                ts = previous[1]
            store.put(key, vat(old + 1, ts))
            self.cache.emit(key, old + 1, old, ts)


class TableAggregateProcessor(_StoreProcessor):
    """`KGroupedTable.aggregate(initializer, adder, subtractor)` over `Change` values."""

    def __init__(
        self,
        store: str,
        initializer: Callable[[], Any],
        adder: Callable[[Any, Any, Any], Any],
        subtractor: Callable[[Any, Any, Any], Any],
        caching: bool = True,
    ) -> None:
        super().__init__(store, caching)
        self.initializer = initializer
        self.adder = adder
        self.subtractor = subtractor

    def process(self, record: Record[Any, Any]) -> None:
        key = record.key
        if key is None:
            self.skip("a None key")
            return
        change: Change = record.value
        previous = self.store.get(key)
        old = previous[0] if previous is not None else None
        agg = old if old is not None else self.initializer()
        ts = record.timestamp if previous is None else max(previous[1], record.timestamp)
        if change.old is not None:
            agg = self.subtractor(key, change.old, agg)
        if change.new is not None:
            agg = self.adder(key, change.new, agg)
        self.store.put(key, vat(agg, ts))
        self.cache.emit(key, agg, old, ts)


class CogroupAggregateProcessor(_StoreProcessor):
    """One input of a cogroup: its own aggregator, the shared store and emit path."""

    def __init__(
        self,
        store: str,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        caching: bool = True,
    ) -> None:
        super().__init__(store, caching)
        self.initializer = initializer
        self.aggregator = aggregator

    process = StreamAggregateProcessor.process
    skip = _StoreProcessor.skip
