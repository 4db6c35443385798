"""The error policy (KIP-298, extended): retry, tolerate, log and dead-letter a failing operation.

One `RetryWithToleranceOperator` per task wraps every stage a record passes through — converters,
transforms, `poll()`/`put()`, producing, committing — for source and sink tasks alike:

1. A `RetriableException` (or an error the caller marks retriable) is retried with exponential
   back-off (300 ms doubling, capped at `errors.retry.delay.max.ms`) until `errors.retry.timeout`
   ms have passed (0: no retries, -1: forever).
2. A failure that is not retried, or whose retries ran out, is *tolerated* when
   `errors.tolerance=all`: it is reported (log, dead letter queue) and the record is skipped.
   With `errors.tolerance=none` (the default) it fails the task (`ToleranceExceeded`).

The operator does no I/O itself: time and sleeping are parameters and reporters are callables
(`runtime/dead_letter.py` produces to the DLQ topic, `log_reporter` writes the log line).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from odradek.connect.api.errors import ConnectException, RetriableException

log = logging.getLogger("odradek.connect.errors")
T = TypeVar("T")
INITIAL_BACKOFF_MS = 300


class Stage(StrEnum):
    KEY_CONVERTER = "KEY_CONVERTER"
    VALUE_CONVERTER = "VALUE_CONVERTER"
    HEADER_CONVERTER = "HEADER_CONVERTER"
    TRANSFORMATION = "TRANSFORMATION"
    TASK_PUT = "TASK_PUT"
    TASK_POLL = "TASK_POLL"
    TASK_COMMIT = "TASK_COMMIT"
    KAFKA_PRODUCE = "KAFKA_PRODUCE"
    KAFKA_CONSUME = "KAFKA_CONSUME"


class ToleranceExceeded(ConnectException):
    """An operation failed and the policy does not tolerate it: the task fails."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__("Tolerance exceeded in error handler")
        self.__cause__ = cause


@dataclass(frozen=True)
class ErrorPolicy:
    tolerance_all: bool = False
    retry_timeout_ms: int = 0
    retry_delay_max_ms: int = 60_000
    log_enable: bool = False
    log_include_messages: bool = False
    dlq_topic: str = ""
    dlq_replication_factor: int = 3
    dlq_context_headers: bool = False

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> ErrorPolicy:
        return cls(
            tolerance_all=str(values.get("errors.tolerance", "none")).lower() == "all",
            retry_timeout_ms=int(values.get("errors.retry.timeout", 0)),
            retry_delay_max_ms=int(values.get("errors.retry.delay.max.ms", 60_000)),
            log_enable=bool(values.get("errors.log.enable", False)),
            log_include_messages=bool(values.get("errors.log.include.messages", False)),
            dlq_topic=str(values.get("errors.deadletterqueue.topic.name") or ""),
            dlq_replication_factor=int(values.get("errors.deadletterqueue.topic.replication.factor", 3)),
            dlq_context_headers=bool(values.get("errors.deadletterqueue.context.headers.enable", False)),
        )


@dataclass
class ConsumedRecord:
    """The Kafka record a sink task consumed (what goes to the DLQ as it was)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]] = field(default_factory=list)
    timestamp: int | None = None


@dataclass
class ProcessingContext:
    """Everything a reporter needs about one failure."""

    connector: str
    task_id: int
    stage: Stage
    executing_class: str
    error: BaseException
    consumed: ConsumedRecord | None = None
    source_record: Any = None
    attempts: int = 1

    @property
    def stacktrace(self) -> str:
        return "".join(traceback.format_exception(self.error))


Reporter = Callable[[ProcessingContext], None]


def log_reporter(policy: ErrorPolicy) -> Reporter:
    def report(ctx: ProcessingContext) -> None:
        if not policy.log_enable:
            return
        where = ""
        if ctx.consumed is not None:
            c = ctx.consumed
            where = (
                f", where consumed record is {{topic='{c.topic}', partition={c.partition}, offset={c.offset}"
            )
            if policy.log_include_messages:
                where += f", key={c.key!r}, value={c.value!r}"
            where += "}"
        elif ctx.source_record is not None and policy.log_include_messages:
            where = f", where source record is {ctx.source_record!r}"
        log.error(
            "Error encountered in task %s-%d. Executing stage '%s' with class '%s'%s.",
            ctx.connector,
            ctx.task_id,
            ctx.stage.value,
            ctx.executing_class,
            where,
            exc_info=ctx.error,
        )

    return report


class RetryWithToleranceOperator:
    def __init__(
        self,
        policy: ErrorPolicy,
        connector: str,
        task_id: int,
        monotonic_ms: Callable[[], int],
        sleep_ms: Callable[[int], None],
        reporters: list[Reporter] | None = None,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.policy = policy
        self.connector = connector
        self.task_id = task_id
        self.monotonic_ms = monotonic_ms
        self.sleep_ms = sleep_ms
        self.reporters = reporters if reporters is not None else [log_reporter(policy)]
        self.stopping = stopping
        self.total_failures = 0
        self.total_skipped = 0
        self.total_retries = 0

    def execute(
        self,
        operation: Callable[[], T],
        stage: Stage,
        executing_class: str,
        consumed: ConsumedRecord | None = None,
        source_record: Any = None,
        retriable: Callable[[BaseException], bool] | None = None,
    ) -> tuple[bool, T | None]:
        """Run `operation`: (True, result) on success, (False, None) when the failure was tolerated
        (reported and to be skipped). Raises `ToleranceExceeded` otherwise."""
        start = self.monotonic_ms()
        attempt = 0
        backoff = INITIAL_BACKOFF_MS
        while True:
            attempt += 1
            try:
                return True, operation()
            except Exception as exc:
                is_retriable = isinstance(exc, RetriableException) or (
                    retriable is not None and retriable(exc)
                )
                if is_retriable and self._may_retry(start, backoff) and not self.stopping():
                    self.total_retries += 1
                    remaining = self._remaining(start)
                    self.sleep_ms(min(backoff, remaining) if remaining >= 0 else backoff)
                    backoff = min(backoff * 2, self.policy.retry_delay_max_ms)
                    continue
                self.total_failures += 1
                ctx = ProcessingContext(
                    self.connector,
                    self.task_id,
                    stage,
                    executing_class,
                    exc,
                    consumed,
                    source_record,
                    attempt,
                )
                if not self.policy.tolerance_all:
                    raise ToleranceExceeded(exc) from exc
                self.total_skipped += 1
                self._report(ctx)
                return False, None

    def report(self, ctx: ProcessingContext) -> None:
        """A failure found outside `execute` (an errant record a sink task reported)."""
        self.total_failures += 1
        self.total_skipped += 1
        self._report(ctx)

    def _remaining(self, start: int) -> int:
        if self.policy.retry_timeout_ms < 0:
            return -1
        return self.policy.retry_timeout_ms - (self.monotonic_ms() - start)

    def _may_retry(self, start: int, backoff: int) -> bool:
        if self.policy.retry_timeout_ms < 0:
            return True
        return self._remaining(start) > 0

    def _report(self, ctx: ProcessingContext) -> None:
        for reporter in self.reporters:
            try:
                reporter(ctx)
            except Exception:  # a failing reporter must not hide the original error
                log.exception("error reporter failed for %s-%d", self.connector, self.task_id)
