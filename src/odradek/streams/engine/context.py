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
    __slots__ = (
        "_by_name",
        "children",
        "forward",
        "forwarded",
        "name",
        "named_in",
        "processor",
        "stores",
        "task",
    )

    def __init__(self, task: Task, name: str, processor: Processor, stores: list[str]) -> None:
        self.task = task
        self.name = name
        self.processor = processor
        self.stores = stores
        self.children: list[tuple[Processor, NodeContext]] = []
        self._by_name: dict[str, tuple[Processor, NodeContext]] = {}
        self.forwarded = 0
        """`forward` calls to all children (metrics: a child's input is its parents' forwards)."""
        self.named_in = 0
        """Records this node got through a `forward(record, child=its name)`."""
        self.forward = self._forward_any

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

    def finalize(self) -> None:
        """Once the children are known: a `forward` specialized for them (the per-record hot path).
        Per-node record counts are kept only at `metrics.recording.level` DEBUG, as Kafka Streams
        records its processor-node metrics only at that level."""
        node = self
        counting = str(self.task.config.get("metrics.recording.level", "INFO")).upper() == "DEBUG"
        if len(self.children) == 1 and not counting:
            process = self.children[0][0].process
            child_name = self.children[0][1].name

            def forward_fast(record: Record[Any, Any], child: str | None = None) -> None:
                if child is not None:
                    node._forward_named(record, child)
                    return
                try:
                    process(record)
                except FailedProcessingException:
                    raise
                except Exception as exc:
                    node._failed(child_name, record, exc)

            self.forward = forward_fast
        elif len(self.children) == 1:
            process = self.children[0][0].process
            child_name = self.children[0][1].name

            def forward_one(record: Record[Any, Any], child: str | None = None) -> None:
                if child is not None:
                    node._forward_named(record, child)
                    return
                node.forwarded += 1
                try:
                    process(record)
                except FailedProcessingException:
                    raise
                except Exception as exc:
                    node._failed(child_name, record, exc)

            self.forward = forward_one
        elif not self.children:

            def forward_none(record: Record[Any, Any], child: str | None = None) -> None:
                if child is not None:
                    node._forward_named(record, child)

            self.forward = forward_none
        else:
            targets = [(p.process, ctx.name) for p, ctx in self.children]

            def forward_many(record: Record[Any, Any], child: str | None = None) -> None:
                if child is not None:
                    node._forward_named(record, child)
                    return
                if counting:
                    node.forwarded += 1
                for process, name in targets:
                    try:
                        process(record)
                    except FailedProcessingException:
                        raise
                    except Exception as exc:
                        node._failed(name, record, exc)

            self.forward = forward_many

    def _failed(self, child: str, record: Record[Any, Any], exc: Exception) -> None:
        if isinstance(exc, StreamsException) and not self.task.handles(exc):
            raise exc
        self.task.processing_failed(child, record, exc)

    def _forward_named(self, record: Record[Any, Any], child: str) -> None:
        entry = self._by_name.get(child)
        if entry is None:
            raise TopologyException(f"{self.name!r} has no child named {child!r}")
        processor, ctx = entry
        ctx.named_in += 1
        try:
            processor.process(record)
        except FailedProcessingException:
            raise
        except Exception as exc:
            self._failed(ctx.name, record, exc)

    def _forward_any(self, record: Record[Any, Any], child: str | None = None) -> None:
        """Before `finalize` (never on the hot path)."""
        self.finalize()
        self.forward(record, child)

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
