"""The `ProcessorContext` each processor node gets: forwarding to its children, its stores, punctuation.

`forward` hands the record to each child in turn. When a child raises, the task's processing
exception handler decides (KIP-1033): CONTINUE skips the record for that child and goes on, FAIL
raises `FailedProcessingException`, which the enclosing nodes pass on unhandled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from odradek.streams.errors import StreamsException, TopologyException
from odradek.streams.processor import Cancellable, Processor, PunctuationType
from odradek.streams.record import Headers, Record, RecordMetadata

if TYPE_CHECKING:
    from odradek.streams.engine.task import Task


class FailedProcessingException(StreamsException):
    """A processor raised and the processing exception handler said FAIL."""


class NodeContext:
    __slots__ = ("_by_name", "children", "in_count", "name", "out_count", "processor", "stores", "task")

    def __init__(self, task: Task, name: str, processor: Processor, stores: list[str]) -> None:
        self.task = task
        self.name = name
        self.processor = processor
        self.stores = stores
        self.children: list[tuple[Processor, NodeContext]] = []
        self._by_name: dict[str, tuple[Processor, NodeContext]] = {}
        self.in_count = 0
        self.out_count = 0

    def add_child(self, child: NodeContext) -> None:
        """A child named `{this node}-{alias}` is also reachable as `alias`; the `late` side output
        child only receives records forwarded to it by name."""
        entry = (child.processor, child)
        self._by_name[child.name] = entry
        prefix = self.name + "-"
        if child.name.startswith(prefix):
            alias = child.name[len(prefix) :]
            self._by_name[alias] = entry
            if alias == "late":
                return
        self.children.append(entry)

    # -- ProcessorContext -----------------------------------------------------------------------------

    @property
    def application_id(self) -> str:
        return self.task.application_id

    @property
    def task_id(self) -> str:
        return self.task.task_id

    def forward(self, record: Record[Any, Any], child: str | None = None) -> None:
        if child is None:
            targets = self.children
        else:
            if child not in self._by_name:
                raise TopologyException(f"{self.name!r} has no child named {child!r}")
            targets = [self._by_name[child]]
        self.out_count += len(targets)
        for processor, ctx in targets:
            ctx.in_count += 1
            try:
                processor.process(record)
            except FailedProcessingException:
                raise
            except StreamsException as exc:
                if not self.task.handles(exc):
                    raise
                self.task.processing_failed(ctx.name, record, exc)
            except Exception as exc:
                self.task.processing_failed(ctx.name, record, exc)

    def get_state_store(self, name: str) -> Any:
        if name not in self.stores:
            raise TopologyException(
                f"processor {self.name!r} has no access to state store {name!r}; connect it in the topology"
            )
        return self.task.store(name)

    def schedule(
        self, interval_ms: int, kind: PunctuationType, callback: Callable[[int], None]
    ) -> Cancellable:
        return self.task.schedule(self.name, interval_ms, kind, callback)

    def record_metadata(self) -> RecordMetadata | None:
        return self.task.record_metadata

    def record_headers(self) -> Headers | None:
        return self.task.record_headers

    def current_stream_time_ms(self) -> int:
        return self.task.stream_time

    def current_system_time_ms(self) -> int:
        return self.task.wall_clock_ms()

    def request_commit(self) -> None:
        self.task.commit_requested = True

    @property
    def config(self) -> Any:
        return self.task.config
