"""The Processor API, underneath the DSL (Kafka Streams' `org.apache.kafka.streams.processor.api`).

A `Processor` is created once per task by its supplier, gets a `ProcessorContext` in `init`, is handed
one `Record` at a time in `process`, and sends records on with `context.forward`. It may read and write
the state stores connected to it, schedule punctuators on stream time or wall-clock time, and read
where the current record came from.

    class Dedup(Processor):
        def init(self, context):
            self.context = context
            self.seen = context.get_state_store("seen")
        def process(self, record):
            if self.seen.get(record.key) is None:
                self.seen.put(record.key, record.timestamp)
                self.context.forward(record)

    builder.stream("in").process(Dedup, stores=["seen"]).to("out")
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Protocol

from odradek.streams.record import Headers, Record, RecordMetadata


class PunctuationType(enum.Enum):
    STREAM_TIME = "stream_time"
    """Fires as the task's stream time (the largest record timestamp seen) passes each interval."""
    WALL_CLOCK_TIME = "wall_clock_time"
    """Fires as the wall clock passes each interval, whether records arrive or not."""


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class ProcessorContext(Protocol):
    @property
    def application_id(self) -> str: ...

    @property
    def task_id(self) -> str: ...

    def forward(self, record: Record[Any, Any], child: str | None = None) -> None:
        """Send `record` to every child (or to the child named `child`)."""
        ...

    def get_state_store(self, name: str) -> Any: ...

    def schedule(
        self, interval_ms: int, kind: PunctuationType, callback: Callable[[int], None]
    ) -> Cancellable:
        """Call `callback(timestamp)` every `interval_ms` of stream time or wall-clock time."""
        ...

    def record_metadata(self) -> RecordMetadata | None:
        """Topic, partition and offset of the input record being processed (None in a punctuator)."""
        ...

    def current_stream_time_ms(self) -> int: ...

    def current_system_time_ms(self) -> int: ...

    def request_commit(self) -> None: ...

    def record_headers(self) -> Headers | None: ...


class Processor:
    """Base class; override `process` (and `init`/`close` when needed)."""

    context: ProcessorContext

    def init(self, context: ProcessorContext) -> None:
        self.context = context

    def process(self, record: Record[Any, Any]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Called when the task closes."""

    def flush(self) -> None:
        """Called before each commit: forward anything held back (caches, buffers)."""


ProcessorSupplier = Callable[[], Processor]
