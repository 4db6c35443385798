"""What a task runner is built from: the worker's settings and services, the connector's and the
task's resolved configs, and the helpers every runner shares (converters, the transformation
chain, the error policy with its log and dead-letter reporters)."""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient

from odradek.connect.api.connector import Task
from odradek.connect.api.errors import ConnectException
from odradek.connect.runtime.converters_setup import Converters, build_converters
from odradek.connect.runtime.dead_letter import dead_letter
from odradek.connect.runtime.errors import (
    ErrorPolicy,
    ProcessingContext,
    Reporter,
    RetryWithToleranceOperator,
    log_reporter,
)
from odradek.connect.runtime.kafka_log import ensure_topic
from odradek.connect.runtime.offset_store import OffsetStore
from odradek.connect.runtime.plugins import Plugins
from odradek.connect.runtime.transformation_chain import TransformationChain

log = logging.getLogger("odradek.connect.task")
TASK_CLASS = "task.class"


@dataclass
class TaskSetup:
    connector_config: dict[str, str]
    task_config: dict[str, str]
    worker_props: Mapping[str, Any]
    plugins: Plugins
    offset_store: OffsetStore | None
    producer_config: dict[str, Any]
    consumer_config: dict[str, Any]
    admin_config: dict[str, Any]
    offset_flush_interval_ms: int = 60_000
    offset_flush_timeout_ms: int = 5_000
    exactly_once: bool = False
    transactional_id: str | None = None
    offsets_topic: str | None = None
    topic_creation_enabled: bool = True  # the worker's topic.creation.enable (KIP-158)
    on_topic: Callable[[str], None] = lambda _topic: None  # KIP-558 active topics
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def connector(self) -> str:
        return self.connector_config["name"]

    def task_class(self) -> type[Task]:
        name = self.task_config.get(TASK_CLASS)
        if name:
            module, _, attr = name.rpartition(".")
            try:
                cls = getattr(importlib.import_module(module), attr)
            except (ImportError, AttributeError) as exc:
                raise ConnectException(f"Cannot load task class {name}: {exc}") from exc
            if isinstance(cls, type) and issubclass(cls, Task):
                return cls
        connector_cls = self.plugins.connector_class(self.connector_config["connector.class"])
        return connector_cls().task_class()

    def converters(self) -> Converters:
        connector_cls = self.plugins.connector_class(self.connector_config["connector.class"])
        config = {**connector_cls.converter_defaults, **self.connector_config}
        return build_converters(self.worker_props, config, self.plugins)

    def chain(self) -> TransformationChain:
        return TransformationChain.build(self.connector_config, self.plugins)

    def policy(self) -> ErrorPolicy:
        from odradek.connect.runtime.connector_config import framework_config_def

        connector_cls = self.plugins.connector_class(self.connector_config["connector.class"])
        values = framework_config_def(connector_cls).parse(
            {k: v for k, v in self.connector_config.items() if k.startswith("errors.")}
            | {"name": self.connector, "connector.class": self.connector_config["connector.class"]}
        )
        return ErrorPolicy.from_config(values)


class DeadLetterQueue:
    """Produces dead letters to `errors.deadletterqueue.topic.name` (created on first use)."""

    def __init__(
        self, policy: ErrorPolicy, producer: Producer, admin_config: Mapping[str, Any], owns_producer: bool
    ) -> None:
        self.policy = policy
        self.producer = producer
        self.admin_config = dict(admin_config)
        self.owns_producer = owns_producer
        self._ready = False
        self.errors: list[Any] = []
        self._lock = threading.Lock()

    def _ensure(self) -> None:
        if self._ready:
            return
        ensure_topic(
            AdminClient(self.admin_config),
            self.policy.dlq_topic,
            1,
            self.policy.dlq_replication_factor,
            compacted=False,
        )
        self._ready = True

    def report(self, ctx: ProcessingContext) -> None:
        with self._lock:
            self._ensure()
        letter = dead_letter(ctx, self.policy.dlq_context_headers)

        def delivered(err: Any, _msg: Any) -> None:
            if err is not None:
                self.errors.append(err)

        kwargs: dict[str, Any] = {
            "key": letter.key,
            "value": letter.value,
            "headers": letter.headers,
            "on_delivery": delivered,
        }
        if letter.timestamp is not None and letter.timestamp >= 0:
            kwargs["timestamp"] = letter.timestamp
        while True:
            try:
                self.producer.produce(self.policy.dlq_topic, **kwargs)
                break
            except BufferError:
                self.producer.poll(0.1)

    def flush(self, timeout_s: float) -> None:
        if self.producer.flush(timeout_s):
            raise ConnectException("Timed out flushing the dead letter queue")
        if self.errors:
            error = self.errors[0]
            self.errors.clear()
            raise ConnectException(f"Failed to write to the dead letter queue: {error}")

    def close(self) -> None:
        if self.owns_producer:
            self.producer.flush(5)


def build_operator(
    setup: TaskSetup,
    task: int,
    policy: ErrorPolicy,
    dlq: DeadLetterQueue | None,
    stopping: Callable[[], bool],
) -> RetryWithToleranceOperator:
    reporters: list[Reporter] = [log_reporter(policy)]
    if dlq is not None:
        reporters.append(dlq.report)
    return RetryWithToleranceOperator(
        policy,
        setup.connector,
        task,
        monotonic_ms=lambda: time.monotonic_ns() // 1_000_000,
        sleep_ms=lambda ms: time.sleep(ms / 1000),
        reporters=reporters,
        stopping=stopping,
    )
