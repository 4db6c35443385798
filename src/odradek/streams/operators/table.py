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

from odradek.streams.processor import Processor, ProcessorContext
from odradek.streams.record import Change, Record
from odradek.streams.state.keyvalue import ValueAndTimestamp

log = logging.getLogger("odradek.streams")
Getter = Callable[[Any], ValueAndTimestamp | None]


class ValueGetterSupplier:
    def __init__(self, stores: list[str], make: Callable[[ProcessorContext], Getter]) -> None:
        self.stores = stores
        self.make = make

    @staticmethod
    def from_store(store: str) -> ValueGetterSupplier:
        def make(context: ProcessorContext) -> Getter:
            return context.get_state_store(store).get  # type: ignore[no-any-return]

        return ValueGetterSupplier([store], make)

    def filtered(self, predicate: Callable[[Any, Any], bool], negate: bool) -> ValueGetterSupplier:
        def make(context: ProcessorContext) -> Getter:
            parent = self.make(context)

            def get(key: Any) -> ValueAndTimestamp | None:
                found = parent(key)
                if found is None or bool(predicate(key, found.value)) == negate:
                    return None
                return found

            return get

        return ValueGetterSupplier(self.stores, make)

    def mapped(self, mapper: Callable[[Any, Any], Any]) -> ValueGetterSupplier:
        def make(context: ProcessorContext) -> Getter:
            parent = self.make(context)

            def get(key: Any) -> ValueAndTimestamp | None:
                found = parent(key)
                if found is None:
                    return None
                return ValueAndTimestamp(mapper(key, found.value), found.timestamp)

            return get

        return ValueGetterSupplier(self.stores, make)


class TableSourceProcessor(Processor):
    """Turns a topic's records into table updates, materialized in a timestamped store (if any).
    A record with a `None` key cannot update a table: it is skipped and counted, as Kafka Streams does."""

    def __init__(self, store: str | None) -> None:
        self.store_name = store
        self.skipped = 0

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.store = context.get_state_store(self.store_name) if self.store_name else None

    def process(self, record: Record[Any, Any]) -> None:
        if record.key is None:
            self.skipped += 1
            log.warning("table source skipped a record with a None key at %s", self.context.record_metadata())
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
    def __init__(self, predicate: Callable[[Any, Any], bool], negate: bool) -> None:
        self.predicate = predicate
        self.negate = negate

    def _keep(self, key: Any, value: Any) -> Any:
        if value is None or bool(self.predicate(key, value)) == self.negate:
            return None
        return value

    def process(self, record: Record[Any, Any]) -> None:
        change: Change = record.value
        new = self._keep(record.key, change.new)
        old = self._keep(record.key, change.old)
        if new is None and old is None:
            return
        self.context.forward(record.with_value(Change(new, old)))


class TableMapValuesProcessor(Processor):
    def __init__(self, mapper: Callable[[Any, Any], Any]) -> None:
        self.mapper = mapper

    def process(self, record: Record[Any, Any]) -> None:
        change: Change = record.value
        new = None if change.new is None else self.mapper(record.key, change.new)
        old = None if change.old is None else self.mapper(record.key, change.old)
        self.context.forward(record.with_value(Change(new, old)))


class TableToStreamProcessor(Processor):
    def __init__(self, mapper: Callable[[Any, Any], Any] | None = None) -> None:
        self.mapper = mapper

    def process(self, record: Record[Any, Any]) -> None:
        change: Change = record.value
        key = record.key if self.mapper is None else self.mapper(record.key, change.new)
        self.context.forward(Record(key, change.new, record.timestamp, record.headers))


class TableGroupByProcessor(Processor):
    """`KTable.group_by`: re-key each change; a key change becomes a subtraction under the old key
    and an addition under the new one."""

    def __init__(self, selector: Callable[[Any, Any], tuple[Any, Any]]) -> None:
        self.selector = selector

    def process(self, record: Record[Any, Any]) -> None:
        change: Change = record.value
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
