"""Stateless record-at-a-time operators: map, filter, flat_map, branch, peek, ..."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from odradek.streams.engine.context import FailedProcessingException
from odradek.streams.engine.fused import Fail, Stage
from odradek.streams.processor import Processor, ProcessorContext
from odradek.streams.record import Headers, Record

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

    def fused(self, name: str, children: Callable[[], Stage], fail: Fail) -> Stage:
        fn, nxt = self.fn, children()

        def map_stage(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
            try:
                new_key, new_value = fn(key, value)
                nxt(new_key, new_value, timestamp, headers)
            except FailedProcessingException:
                raise
            except Exception as exc:
                fail(name, key, value, timestamp, headers, exc)

        return map_stage


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

    def fused(self, name: str, children: Callable[[], Stage], fail: Fail) -> Stage:
        fn, nxt = self.fn, children()
        if self.with_key:

            def map_values_with_key_stage(
                key: Any, value: Any, timestamp: int, headers: Headers | None
            ) -> None:
                try:
                    nxt(key, fn(key, value), timestamp, headers)
                except FailedProcessingException:
                    raise
                except Exception as exc:
                    fail(name, key, value, timestamp, headers, exc)

            return map_values_with_key_stage

        def map_values_stage(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
            try:
                nxt(key, fn(value), timestamp, headers)
            except FailedProcessingException:
                raise
            except Exception as exc:
                fail(name, key, value, timestamp, headers, exc)

        return map_values_stage


class FlatMapProcessor(_Base):
    def __init__(self, fn: Callable[[Any, Any], Any]) -> None:
        self.fn = fn

    def process(self, record: Record[Any, Any]) -> None:
        for key, value in self.fn(record.key, record.value) or ():
            self.forward(Record(key, value, record.timestamp, record.headers))

    def fused(self, name: str, children: Callable[[], Stage], fail: Fail) -> Stage:
        fn, nxt = self.fn, children()

        def flat_map_stage(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
            try:
                for new_key, new_value in fn(key, value) or ():
                    nxt(new_key, new_value, timestamp, headers)
            except FailedProcessingException:
                raise
            except Exception as exc:
                fail(name, key, value, timestamp, headers, exc)

        return flat_map_stage


class FlatMapValuesProcessor(_Base):
    def __init__(self, fn: Callable[..., Any], with_key: bool) -> None:
        self.fn = fn
        self.with_key = with_key

    def process(self, record: Record[Any, Any]) -> None:
        values = self.fn(record.key, record.value) if self.with_key else self.fn(record.value)
        for value in values or ():
            self.forward(Record(record.key, value, record.timestamp, record.headers))

    def fused(self, name: str, children: Callable[[], Stage], fail: Fail) -> Stage:
        fn, nxt, with_key = self.fn, children(), self.with_key

        def flat_map_values_stage(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
            try:
                for new_value in (fn(key, value) if with_key else fn(value)) or ():
                    nxt(key, new_value, timestamp, headers)
            except FailedProcessingException:
                raise
            except Exception as exc:
                fail(name, key, value, timestamp, headers, exc)

        return flat_map_values_stage


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

    def fused(self, name: str, children: Callable[[], Stage], fail: Fail) -> Stage:
        predicate, nxt = self.predicate, children()
        if self.negate:

            def filter_not_stage(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
                try:
                    if not predicate(key, value):
                        nxt(key, value, timestamp, headers)
                except FailedProcessingException:
                    raise
                except Exception as exc:
                    fail(name, key, value, timestamp, headers, exc)

            return filter_not_stage

        def filter_stage(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
            try:
                if predicate(key, value):
                    nxt(key, value, timestamp, headers)
            except FailedProcessingException:
                raise
            except Exception as exc:
                fail(name, key, value, timestamp, headers, exc)

        return filter_stage


class SelectKeyProcessor(_Base):
    def __init__(self, fn: Callable[[Any, Any], Any]) -> None:
        self.fn = fn

    def process(self, record: Record[Any, Any]) -> None:
        self.forward(
            Record(self.fn(record.key, record.value), record.value, record.timestamp, record.headers)
        )

    def fused(self, name: str, children: Callable[[], Stage], fail: Fail) -> Stage:
        fn, nxt = self.fn, children()

        def select_key_stage(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
            try:
                nxt(fn(key, value), value, timestamp, headers)
            except FailedProcessingException:
                raise
            except Exception as exc:
                fail(name, key, value, timestamp, headers, exc)

        return select_key_stage


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

    def fused(self, name: str, children: Callable[[], Stage], fail: Fail) -> Stage:
        fn = self.fn
        nxt = children() if self.passes else None

        def peek_stage(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
            try:
                fn(key, value)
                if nxt is not None:
                    nxt(key, value, timestamp, headers)
            except FailedProcessingException:
                raise
            except Exception as exc:
                fail(name, key, value, timestamp, headers, exc)

        return peek_stage


class PassThroughProcessor(_Base):
    def specialize(self, forward: Callable[..., None]) -> Callable[[Record[Any, Any]], None] | None:
        return forward

    def process(self, record: Record[Any, Any]) -> None:
        self.forward(record)

    def fused(self, name: str, children: Callable[[], Stage], fail: Fail) -> Stage:
        nxt = children()

        def pass_through_stage(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
            try:
                nxt(key, value, timestamp, headers)
            except FailedProcessingException:
                raise
            except Exception as exc:
                fail(name, key, value, timestamp, headers, exc)

        return pass_through_stage


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
