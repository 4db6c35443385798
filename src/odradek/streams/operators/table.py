"""KTable operators. A table forwards `Change(new, old)` values; every table can be read by key
through a *value getter*, which the joins use.

A value getter supplier names the stores it reads and builds, per task, a function
`key -> ValueAndTimestamp | None`. A materialized table reads its store; a filtered or mapped table
that is not materialized applies its filter or mapper to its parent's getter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from odradek.streams.engine.context import FailedProcessingException
from odradek.streams.engine.fused import Fail, Stage
from odradek.streams.processor import Processor, ProcessorContext
from odradek.streams.record import Change, Headers, OutOfOrderChange, Record, same_kind
from odradek.streams.state.keyvalue import ValueAndTimestamp
from odradek.streams.state.versioned import PUT_RETURN_CODE_NOT_PUT, VersionedKeyValueStore

log = logging.getLogger("odradek.streams")
Getter = Callable[[Any], ValueAndTimestamp | None]
GetterAt = Callable[[Any, int], Any]


class ValueGetterSupplier:
    def __init__(
        self,
        stores: list[str],
        make: Callable[[ProcessorContext], Getter],
        make_at: Callable[[ProcessorContext], GetterAt | None] | None = None,
    ) -> None:
        self.stores = stores
        self.make = make
        self.make_at = make_at or (lambda _context: None)
        """`key, timestamp -> value as of then` when the table is versioned, else None."""

    @staticmethod
    def from_store(store: str) -> ValueGetterSupplier:
        def make(context: ProcessorContext) -> Getter:
            return context.get_state_store(store).get  # type: ignore[no-any-return]

        def make_at(context: ProcessorContext) -> GetterAt | None:
            found = context.get_state_store(store)
            return found.get if isinstance(found, VersionedKeyValueStore) else None

        return ValueGetterSupplier([store], make, make_at)

    def filtered(self, predicate: Callable[[Any, Any], bool], negate: bool) -> ValueGetterSupplier:
        def keep(key: Any, found: Any) -> Any:
            if found is None or bool(predicate(key, found.value)) == negate:
                return None
            return found

        def make(context: ProcessorContext) -> Getter:
            parent = self.make(context)
            return lambda key: keep(key, parent(key))

        def make_at(context: ProcessorContext) -> GetterAt | None:
            parent = self.make_at(context)
            if parent is None:
                return None
            return lambda key, ts: keep(key, parent(key, ts))

        return ValueGetterSupplier(self.stores, make, make_at)

    def mapped(self, mapper: Callable[[Any, Any], Any]) -> ValueGetterSupplier:
        def apply(key: Any, found: Any) -> ValueAndTimestamp | None:
            if found is None:
                return None
            return ValueAndTimestamp(mapper(key, found.value), found.timestamp)

        def make(context: ProcessorContext) -> Getter:
            parent = self.make(context)
            return lambda key: apply(key, parent(key))

        def make_at(context: ProcessorContext) -> GetterAt | None:
            parent = self.make_at(context)
            if parent is None:
                return None
            return lambda key, ts: apply(key, parent(key, ts))

        return ValueGetterSupplier(self.stores, make, make_at)


class TableSourceProcessor(Processor):
    """Turns a topic's records into table updates, materialized in a timestamped store (if any).
    A record with a `None` key cannot update a table: it is skipped and counted, as Kafka Streams does."""

    def __init__(self, store: str | None) -> None:
        self.store_name = store
        self.skipped = 0

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.store_name) if self.store_name else None
        self.versioned = isinstance(self.store, VersionedKeyValueStore)
        self.expired = 0

    def _process_versioned(self, record: Record[Any, Any]) -> None:
        """KIP-914: the record becomes a version at its timestamp. One older than the history
        retention is dropped; one older than the key's latest version changes only the history and
        is forwarded as an `OutOfOrderChange`."""
        store: VersionedKeyValueStore = self.store  # type: ignore[assignment]
        latest = store.latest_timestamp(record.key)
        previous = store.get(record.key, record.timestamp)
        if store.put(record.key, record.value, record.timestamp) == PUT_RETURN_CODE_NOT_PUT:
            self.expired += 1
            log.warning(
                "versioned table %s dropped a record older than its history retention at %s",
                self.store_name,
                self.context.record_metadata(),
            )
            return
        old = previous.value if previous is not None else None
        if record.value is None and old is None:
            return
        in_order = latest is None or record.timestamp >= latest
        change = Change(record.value, old) if in_order else OutOfOrderChange(record.value, old)
        self.context.forward(record.with_value(change))

    def process(self, record: Record[Any, Any]) -> None:
        if record.key is None:
            self.skipped += 1
            log.warning("table source skipped a record with a None key at %s", self.context.record_metadata())
            return
        if self.versioned:
            self._process_versioned(record)
            return
        old = None
        if self.store is not None:
            previous = self.store.get(record.key)
            old = previous.value if previous is not None else None
            if record.value is None:
                if previous is None:
                    return
                self.store.delete(record.key)
            else:
                self.store.put(record.key, ValueAndTimestamp(record.value, record.timestamp))
        self.context.forward(record.with_value(Change(record.value, old)))


class TableMaterializer(Processor):
    """Writes a derived table's changes into its own store (a `materialized=` filter/map_values/join)."""

    def __init__(self, store: str) -> None:
        self.store_name = store

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.store_name)

    def process(self, record: Record[Any, Any]) -> None:
        change: Change = record.value
        if change.new is None:
            self.store.delete(record.key)
        else:
            self.store.put(record.key, ValueAndTimestamp(change.new, record.timestamp))
        self.context.forward(record)


class TableFilterProcessor(Processor):
    """Rows that stop matching become deletes. An update that matches neither before nor after is
    dropped - except on a versioned table (KIP-914), where the old value is the one valid at the
    record's time, not the last one forwarded, so the delete is sent anyway."""

    def __init__(self, predicate: Callable[[Any, Any], bool], negate: bool, versioned: bool = False) -> None:
        self.predicate = predicate
        self.negate = negate
        self.versioned = versioned

    def _keep(self, key: Any, value: Any) -> Any:
        if value is None or bool(self.predicate(key, value)) == self.negate:
            return None
        return value

    def process(self, record: Record[Any, Any]) -> None:
        change: Change = record.value
        new = self._keep(record.key, change.new)
        old = self._keep(record.key, change.old)
        if new is None and old is None and not self.versioned:
            return
        self.context.forward(record.with_value(same_kind(change, new, old)))


class TableMapValuesProcessor(Processor):
    def __init__(self, mapper: Callable[[Any, Any], Any]) -> None:
        self.mapper = mapper

    def process(self, record: Record[Any, Any]) -> None:
        change: Change = record.value
        new = None if change.new is None else self.mapper(record.key, change.new)
        old = None if change.old is None else self.mapper(record.key, change.old)
        self.context.forward(record.with_value(same_kind(change, new, old)))


class TableToStreamProcessor(Processor):
    def __init__(self, mapper: Callable[[Any, Any], Any] | None = None) -> None:
        self.mapper = mapper

    def process(self, record: Record[Any, Any]) -> None:
        change: Change = record.value
        key = record.key if self.mapper is None else self.mapper(record.key, change.new)
        self.context.forward(Record(key, change.new, record.timestamp, record.headers))

    def fused(self, name: str, children: Callable[[], Stage], fail: Fail) -> Stage:
        """`process` as a stage: a windowed aggregation's emits reach the stream's operators and
        sinks without `Record` objects."""
        nxt, mapper = children(), self.mapper

        def to_stream_stage(key: Any, change: Any, timestamp: int, headers: Headers | None) -> None:
            try:
                new = change.new
                nxt(key if mapper is None else mapper(key, new), new, timestamp, headers)
            except FailedProcessingException:
                raise
            except Exception as exc:
                fail(name, key, change, timestamp, headers, exc)

        return to_stream_stage


class TableGroupByProcessor(Processor):
    """`KTable.group_by`: re-key each change; a key change becomes a subtraction under the old key
    and an addition under the new one."""

    def __init__(self, selector: Callable[[Any, Any], tuple[Any, Any]]) -> None:
        self.selector = selector

    def process(self, record: Record[Any, Any]) -> None:
        change: Change = record.value
        if type(change) is OutOfOrderChange:
            return  # KIP-914: aggregations of a versioned table ignore out-of-order updates
        new = self.selector(record.key, change.new) if change.new is not None else None
        old = self.selector(record.key, change.old) if change.old is not None else None
        if new is not None and old is not None and new[0] == old[0]:
            self.context.forward(Record(new[0], Change(new[1], old[1]), record.timestamp, record.headers))
            return
        if old is not None:
            self.context.forward(Record(old[0], Change(None, old[1]), record.timestamp, record.headers))
        if new is not None:
            self.context.forward(Record(new[0], Change(new[1], None), record.timestamp, record.headers))


class StreamToTableProcessor(TableSourceProcessor):
    """`KStream.to_table()`: the stream's records as table updates."""
