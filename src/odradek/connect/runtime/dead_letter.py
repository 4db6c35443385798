"""Dead letter queue records: what a failed record becomes in `errors.deadletterqueue.topic.name`.

For a sink the DLQ record is the consumed record as it was (key, value, headers, bytes untouched);
for a source (an odradek extension: Kafka has no source DLQ) the key and value are the source
record's key and value as schemaless JSON, best effort. With
`errors.deadletterqueue.context.headers.enable=true` these headers are added (Kafka's names;
values UTF-8 text):

| header | value |
|---|---|
| `__connect.errors.topic`, `.partition`, `.offset` | where the consumed record came from (sinks); the target topic (sources) |
| `__connect.errors.connector.name`, `__connect.errors.task.id` | who failed |
| `__connect.errors.stage` | KEY_CONVERTER, VALUE_CONVERTER, HEADER_CONVERTER, TRANSFORMATION, TASK_PUT, TASK_POLL, TASK_COMMIT, KAFKA_PRODUCE |
| `__connect.errors.class.name` | the converter/transform/task class that was running |
| `__connect.errors.exception.class.name`, `.exception.message`, `.exception.stacktrace` | the error |
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from odradek.connect.api.errors import exception_class_name
from odradek.connect.runtime.errors import ProcessingContext

PREFIX = "__connect.errors."
TOPIC = PREFIX + "topic"
PARTITION = PREFIX + "partition"
OFFSET = PREFIX + "offset"
CONNECTOR = PREFIX + "connector.name"
TASK = PREFIX + "task.id"
STAGE = PREFIX + "stage"
EXECUTING_CLASS = PREFIX + "class.name"
EXCEPTION_CLASS = PREFIX + "exception.class.name"
EXCEPTION_MESSAGE = PREFIX + "exception.message"
EXCEPTION_STACKTRACE = PREFIX + "exception.stacktrace"


@dataclass(frozen=True)
class DeadLetter:
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]
    timestamp: int | None


def dead_letter(ctx: ProcessingContext, context_headers: bool) -> DeadLetter:
    headers: list[tuple[str, bytes | None]] = []
    if ctx.consumed is not None:
        key, value = ctx.consumed.key, ctx.consumed.value
        headers.extend(ctx.consumed.headers)
        timestamp = ctx.consumed.timestamp
    else:
        key, value = _source_json(ctx.source_record, "key"), _source_json(ctx.source_record, "value")
        timestamp = getattr(ctx.source_record, "timestamp", None)
    if context_headers:
        headers.extend(error_headers(ctx))
    return DeadLetter(key, value, headers, timestamp)


def error_headers(ctx: ProcessingContext) -> list[tuple[str, bytes | None]]:
    out: list[tuple[str, bytes | None]] = []
    if ctx.consumed is not None:
        out.append((TOPIC, ctx.consumed.topic.encode()))
        out.append((PARTITION, str(ctx.consumed.partition).encode()))
        out.append((OFFSET, str(ctx.consumed.offset).encode()))
    elif ctx.source_record is not None and getattr(ctx.source_record, "topic", None):
        out.append((TOPIC, str(ctx.source_record.topic).encode()))
    out.append((CONNECTOR, ctx.connector.encode()))
    out.append((TASK, str(ctx.task_id).encode()))
    out.append((STAGE, ctx.stage.value.encode()))
    out.append((EXECUTING_CLASS, ctx.executing_class.encode()))
    out.append((EXCEPTION_CLASS, exception_class_name(ctx.error).encode()))
    message = str(ctx.error)
    out.append((EXCEPTION_MESSAGE, message.encode() if message else None))
    out.append((EXCEPTION_STACKTRACE, ctx.stacktrace.encode()))
    return out


def _source_json(record: Any, part: str) -> bytes | None:
    if record is None:
        return None
    value = getattr(record, part, None)
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    from odradek.connect.converters.json_converter import JsonConverter

    converter = JsonConverter()
    converter.configure({"schemas.enable": "false"}, is_key=part == "key")
    try:
        return converter.from_connect_data("", None, value)
    except Exception:
        return json.dumps(repr(value)).encode()
