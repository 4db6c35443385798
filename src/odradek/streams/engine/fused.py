"""Fused stages: the per-record path from a source through stateless operators, without `Record`
objects or `forward` hops between the nodes.

A stage is a function `(key, value, timestamp, headers) -> None` for one node that does the node's
work and calls its children's stages directly. Stateless operators (filter, map, map_values,
flat_map, flat_map_values, select_key, peek, foreach, pass-through merges) and sinks to a fixed topic
build their own stages (`Processor.fused`); any other node (stateful operators, user processors,
branches) gets a hand-off stage that makes a `Record` and calls its `process`, so from there on the
general path runs as before.

The semantics are the general path's: `NodeContext.forward` guards each child's `process` and sends
its exception to the processing exception handler with the child's name and the record the child
received; here every stage guards its own body the same way (the exception handler sees the same
node name and record), so a failing node skips the record for its own subtree and the siblings go on.
A `FailedProcessingException` (a handler said FAIL) and fatal streams exceptions pass through, as
there. Fusion is off when per-node metrics are counted (`metrics.recording.level=DEBUG`).

A source's stage may also carry `from_bytes(value_serde, task)`, building a function
`(key, value_bytes, timestamp, headers) -> bool` that decodes the value itself and does what the task
does after decoding (stream time, the stage) in one call; it returns False, having done nothing, for
any record the general path must take (the task then decodes and calls the stage as usual). The
task uses it only for a source without a timestamp extractor. SQL builds one per plain filter and
projection query (`odradek.sql.compiler.processors.query_function`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from odradek.streams.engine.context import FailedProcessingException
from odradek.streams.errors import StreamsException
from odradek.streams.record import Headers, Record

if TYPE_CHECKING:
    from odradek.streams.engine.task import Task

Stage = Callable[[Any, Any, int, Headers | None], None]
Fail = Callable[[str, Any, Any, int, Headers | None, Exception], None]

FUSE_STATELESS = True
"""Tests turn fusion off to compare both paths on the same topology."""


def _noop(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
    return None


def fan_out(stages: list[Stage]) -> Stage:
    """One stage calling several in order (a node with several children), or the only one."""
    if not stages:
        return _noop
    if len(stages) == 1:
        return stages[0]
    chain = tuple(stages)

    def fan(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
        for stage in chain:
            stage(key, value, timestamp, headers)

    return fan


class StageBuilder:
    """Builds (once per node) the stages of a task's nodes, from a source's children downwards."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.stages: dict[str, Stage] = {}

    def fail(
        self, node: str, key: Any, value: Any, timestamp: int, headers: Headers | None, exc: Exception
    ) -> None:
        """As `NodeContext._failed` for the record the node received."""
        if isinstance(exc, StreamsException) and not self.task.handles(exc):
            raise exc
        self.task.processing_failed(node, Record(key, value, timestamp, headers), exc)

    def children_of(self, name: str) -> Stage:
        ctx = self.task.contexts[name]
        return fan_out([self.stage(child.name) for _, child in ctx.children])

    def stage(self, name: str) -> Stage:
        found = self.stages.get(name)
        if found is not None:
            return found
        processor = self.task.processors[name]
        build = getattr(processor, "fused", None)
        made: Stage | None = None
        if build is not None:
            made = build(name, lambda: self.children_of(name), self.fail)
        if made is None:
            made = self.hand_off(name, processor.process)
        self.stages[name] = made
        return made

    def hand_off(self, name: str, process: Callable[[Record[Any, Any]], None]) -> Stage:
        fail = self._fail_record

        def hand_off(key: Any, value: Any, timestamp: int, headers: Headers | None) -> None:
            record = Record(key, value, timestamp, headers)
            try:
                process(record)
            except FailedProcessingException:
                raise
            except Exception as exc:
                fail(name, record, exc)

        return hand_off

    def _fail_record(self, node: str, record: Record[Any, Any], exc: Exception) -> None:
        if isinstance(exc, StreamsException) and not self.task.handles(exc):
            raise exc
        self.task.processing_failed(node, record, exc)
