"""Error handlers: what happens to a record that cannot be deserialized, processed or produced.

Kafka Streams' three hooks (KIP-1033 for processing, KIP-1034 for dead-letter queues):

| hook | config | called when |
|---|---|---|
| `DeserializationExceptionHandler` | `deserialization.exception.handler` | a source serde fails |
| `ProcessingExceptionHandler` | `processing.exception.handler` | a processor raises |
| `ProductionExceptionHandler` | `production.exception.handler` | a sink serde fails, or the broker says no |

Each returns a `HandlerResult`: `CONTINUE` (drop the record, go on) or `FAIL` (stop the thread; nothing
after the last processed record is committed), plus dead-letter records to produce. The built-in
handlers take `errors.dead.letter.queue.topic.name`: when set, the failed record's source key and value
go there with these headers (KIP-1034):

    __streams.errors.exception   the exception class name
    __streams.errors.message     its message
    __streams.errors.stacktrace  the formatted traceback
    __streams.errors.topic / .partition / .offset   where the source record came from
"""

from __future__ import annotations

import enum
import logging
import traceback
from dataclasses import dataclass, field
from typing import Any, Protocol

from odradek.streams.record import Headers

log = logging.getLogger("odradek.streams")


class HandlerAction(enum.Enum):
    CONTINUE = "continue"
    FAIL = "fail"


@dataclass(frozen=True)
class DeadLetterRecord:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers
    timestamp: int


@dataclass
class HandlerResult:
    action: HandlerAction
    dead_letter_records: list[DeadLetterRecord] = field(default_factory=list)

    @classmethod
    def continue_(cls, *records: DeadLetterRecord) -> HandlerResult:
        return cls(HandlerAction.CONTINUE, list(records))

    @classmethod
    def fail(cls, *records: DeadLetterRecord) -> HandlerResult:
        return cls(HandlerAction.FAIL, list(records))


@dataclass(frozen=True)
class ErrorHandlerContext:
    """Where the failed record came from (KIP-1033's `ErrorHandlerContext`)."""

    topic: str | None
    partition: int | None
    offset: int | None
    headers: Headers | None
    processor_node_id: str | None
    task_id: str
    timestamp: int
    source_raw_key: bytes | None
    source_raw_value: bytes | None


class DeserializationExceptionHandler(Protocol):
    def handle(self, context: ErrorHandlerContext, exception: Exception) -> HandlerResult: ...


class ProcessingExceptionHandler(Protocol):
    def handle(self, context: ErrorHandlerContext, record: Any, exception: Exception) -> HandlerResult: ...


class ProductionExceptionHandler(Protocol):
    def handle(self, context: ErrorHandlerContext, record: Any, exception: Exception) -> HandlerResult: ...


def dead_letter_record(topic: str, context: ErrorHandlerContext, exception: Exception) -> DeadLetterRecord:
    stack = "".join(traceback.format_exception(type(exception), exception, exception.__traceback__))
    headers: Headers = list(context.headers or [])
    headers += [
        ("__streams.errors.exception", type(exception).__name__.encode()),
        ("__streams.errors.message", str(exception).encode()),
        ("__streams.errors.stacktrace", stack.encode()),
        ("__streams.errors.topic", (context.topic or "").encode()),
        (
            "__streams.errors.partition",
            str(context.partition if context.partition is not None else -1).encode(),
        ),
        ("__streams.errors.offset", str(context.offset if context.offset is not None else -1).encode()),
    ]
    return DeadLetterRecord(
        topic, context.source_raw_key, context.source_raw_value, headers, context.timestamp
    )


class _Builtin:
    action = HandlerAction.FAIL
    what = "record"

    def __init__(self, dead_letter_queue_topic: str | None = None) -> None:
        self.dead_letter_queue_topic = dead_letter_queue_topic

    def _result(self, context: ErrorHandlerContext, exception: Exception) -> HandlerResult:
        verb = "skipping" if self.action is HandlerAction.CONTINUE else "failing"
        log.warning(
            "%s error in task %s at %s-%s@%s (node %s), %s: %s",
            self.what,
            context.task_id,
            context.topic,
            context.partition,
            context.offset,
            context.processor_node_id,
            verb,
            exception,
        )
        records = []
        if self.dead_letter_queue_topic:
            records.append(dead_letter_record(self.dead_letter_queue_topic, context, exception))
        return HandlerResult(self.action, records)


class LogAndFailDeserializationHandler(_Builtin):
    what = "deserialization"

    def handle(self, context: ErrorHandlerContext, exception: Exception) -> HandlerResult:
        return self._result(context, exception)


class LogAndContinueDeserializationHandler(LogAndFailDeserializationHandler):
    action = HandlerAction.CONTINUE


class LogAndFailProcessingHandler(_Builtin):
    what = "processing"

    def handle(self, context: ErrorHandlerContext, record: Any, exception: Exception) -> HandlerResult:
        return self._result(context, exception)


class LogAndContinueProcessingHandler(LogAndFailProcessingHandler):
    action = HandlerAction.CONTINUE


class DefaultProductionHandler(_Builtin):
    what = "production"

    def handle(self, context: ErrorHandlerContext, record: Any, exception: Exception) -> HandlerResult:
        return self._result(context, exception)


class ContinueProductionHandler(DefaultProductionHandler):
    action = HandlerAction.CONTINUE


BUILTIN_HANDLERS: dict[str, dict[str, type[_Builtin]]] = {
    "deserialization": {
        "log_and_fail": LogAndFailDeserializationHandler,
        "log_and_continue": LogAndContinueDeserializationHandler,
    },
    "processing": {
        "log_and_fail": LogAndFailProcessingHandler,
        "log_and_continue": LogAndContinueProcessingHandler,
    },
    "production": {"fail": DefaultProductionHandler, "continue": ContinueProductionHandler},
}


def make_handler(kind: str, setting: Any, dead_letter_queue_topic: str | None) -> Any:
    """A handler from a config value: a built-in's name, a handler class, or a handler instance."""
    if isinstance(setting, str):
        table = BUILTIN_HANDLERS[kind]
        if setting not in table:
            raise ValueError(f"unknown {kind} exception handler {setting!r}; choose one of {sorted(table)}")
        return table[setting](dead_letter_queue_topic)
    if isinstance(setting, type):
        return setting()
    return setting
