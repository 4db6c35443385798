"""Stateless record-at-a-time operators: map, filter, flat_map, branch, peek, ..."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from odradek.streams.processor import Processor, ProcessorContext
from odradek.streams.record import Record

log = logging.getLogger("odradek.streams")


class _Base(Processor):
    """Stateless operators replace `process` in `init` with a closure over their function and their
    context's `forward` (no attribute lookups per record: this is the per-record hot path)."""

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.forward = context.forward
        fast = self.specialize(context.forward)
        if fast is not None:
            self.process = fast  # type: ignore[method-assign, assignment]

    def specialize(self, forward: Callable[..., None]) -> Callable[[Record[Any, Any]], None] | None:
        return None


class MapProcessor(_Base):
    def __init__(self, fn: Callable[[Any, Any], tuple[Any, Any]]) -> None:
        self.fn = fn

    def process(self, record: Record[Any, Any]) -> None:
        key, value = self.fn(record.key, record.value)
        self.forward(Record(key, value, record.timestamp, record.headers))


class MapValuesProcessor(_Base):
    def __init__(self, fn: Callable[..., Any], with_key: bool) -> None:
        self.fn = fn
        self.with_key = with_key

    def specialize(self, forward: Callable[..., None]) -> Callable[[Record[Any, Any]], None] | None:
        fn = self.fn
        if self.with_key:

            def map_with_key(record: Record[Any, Any]) -> None:
                forward(Record(record.key, fn(record.key, record.value), record.timestamp, record.headers))

            return map_with_key

        def map_value(record: Record[Any, Any]) -> None:
            forward(Record(record.key, fn(record.value), record.timestamp, record.headers))

        return map_value

    def process(self, record: Record[Any, Any]) -> None:
        value = self.fn(record.key, record.value) if self.with_key else self.fn(record.value)
        self.forward(Record(record.key, value, record.timestamp, record.headers))


class FlatMapProcessor(_Base):
    def __init__(self, fn: Callable[[Any, Any], Any]) -> None:
        self.fn = fn

    def process(self, record: Record[Any, Any]) -> None:
        for key, value in self.fn(record.key, record.value) or ():
            self.forward(Record(key, value, record.timestamp, record.headers))


class FlatMapValuesProcessor(_Base):
    def __init__(self, fn: Callable[..., Any], with_key: bool) -> None:
        self.fn = fn
        self.with_key = with_key

    def process(self, record: Record[Any, Any]) -> None:
        values = self.fn(record.key, record.value) if self.with_key else self.fn(record.value)
        for value in values or ():
            self.forward(Record(record.key, value, record.timestamp, record.headers))


class FilterProcessor(_Base):
    def __init__(self, predicate: Callable[[Any, Any], bool], negate: bool) -> None:
        self.predicate = predicate
        self.negate = negate

    def specialize(self, forward: Callable[..., None]) -> Callable[[Record[Any, Any]], None] | None:
        predicate = self.predicate
        if self.negate:

            def filter_not(record: Record[Any, Any]) -> None:
                if not predicate(record.key, record.value):
                    forward(record)

            return filter_not

        def filter_(record: Record[Any, Any]) -> None:
            if predicate(record.key, record.value):
                forward(record)

        return filter_

    def process(self, record: Record[Any, Any]) -> None:
        if bool(self.predicate(record.key, record.value)) != self.negate:
            self.forward(record)


class SelectKeyProcessor(_Base):
    def __init__(self, fn: Callable[[Any, Any], Any]) -> None:
        self.fn = fn

    def process(self, record: Record[Any, Any]) -> None:
        self.forward(
            Record(self.fn(record.key, record.value), record.value, record.timestamp, record.headers)
        )


class PeekProcessor(_Base):
    def __init__(self, fn: Callable[[Any, Any], Any], forward: bool) -> None:
        self.fn = fn
        self.passes = forward

    def specialize(self, forward: Callable[..., None]) -> Callable[[Record[Any, Any]], None] | None:
        fn = self.fn
        if self.passes:

            def peek(record: Record[Any, Any]) -> None:
                fn(record.key, record.value)
                forward(record)

            return peek

        def foreach(record: Record[Any, Any]) -> None:
            fn(record.key, record.value)

        return foreach

    def process(self, record: Record[Any, Any]) -> None:
        self.fn(record.key, record.value)
        if self.passes:
            self.forward(record)


class PassThroughProcessor(_Base):
    def specialize(self, forward: Callable[..., None]) -> Callable[[Record[Any, Any]], None] | None:
        return forward

    def process(self, record: Record[Any, Any]) -> None:
        self.forward(record)


class BranchProcessor(_Base):
    """Sends each record to the first branch whose predicate holds (`split()`/`branch()`)."""

    def __init__(
        self, predicates: Sequence[Callable[[Any, Any], bool] | None], children: Sequence[str]
    ) -> None:
        self.predicates = list(predicates)
        self.children = list(children)

    def process(self, record: Record[Any, Any]) -> None:
        for predicate, child in zip(self.predicates, self.children, strict=True):
            if predicate is None or predicate(record.key, record.value):
                self.context.forward(record, child)
                return


class UserProcessorAdapter(Processor):
    """`KStream.process(...)`: a user `Processor` subclass or supplier."""
