"""Running a sink task: consume → convert → transform → `put()`, committing consumer offsets
only after the task flushed (`pre_commit`) what it was given.

The consumer is a member of the group `connect-<connector>` (cooperative-sticky), so the tasks of
a connector share its topics' partitions. Offsets commit every `offset.flush.interval.ms`, on
`request_commit()`, before partitions are revoked, and at stop: each time `pre_commit(offsets)` is
called first and only what it returns is committed (the default flushes everything).

`put()` failures: a `RetriableException` re-delivers the same batch after `context.timeout(ms)`
(or the back-off) until it succeeds or the task stops; any other error goes to the error policy:
with `errors.tolerance=all` the batch is retried record by record and the records that fail are
reported (DLQ, log) and skipped; otherwise the task fails without committing, so nothing is lost.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer
from confluent_kafka import TopicPartition as KafkaTopicPartition

from odradek.connect.api.batches import SinkBatch
from odradek.connect.api.connector import SinkTask
from odradek.connect.api.context import ErrantRecordReporter, SinkTaskContext
from odradek.connect.api.errors import ConnectException, RetriableException
from odradek.connect.api.headers import Headers
from odradek.connect.api.records import SinkRecord, TimestampType
from odradek.connect.data.schema_and_value import SchemaAndValue
from odradek.connect.runtime.errors import ConsumedRecord, ProcessingContext, Stage, ToleranceExceeded
from odradek.connect.runtime.plugins import class_name
from odradek.connect.runtime.task_runner import ConnectorTaskId, StateListener, TaskRunner
from odradek.connect.runtime.task_setup import DeadLetterQueue, TaskSetup, build_operator
from odradek.model.topic_partition import TopicPartition

log = logging.getLogger("odradek.connect.sink")
_TIMESTAMP_TYPES = {
    0: TimestampType.NO_TIMESTAMP_TYPE,
    1: TimestampType.CREATE_TIME,
    2: TimestampType.LOG_APPEND_TIME,
}
MAX_BATCH = 500


class _Reporter(ErrantRecordReporter):
    def __init__(self, runner: SinkTaskRunner) -> None:
        self.runner = runner

    def report(self, record: SinkRecord, error: BaseException) -> None:
        if not self.runner.policy.tolerance_all:
            raise ToleranceExceeded(error)  # Kafka's rule: with errors.tolerance=none the task fails
        consumed = self.runner.consumed_by_record.get(id(record))
        self.runner.operator.report(
            ProcessingContext(
                self.runner.setup.connector,
                self.runner.id.task,
                Stage.TASK_PUT,
                self.runner.task_class_name,
                error,
                consumed=consumed,
            )
        )


class _Context(SinkTaskContext):
    def __init__(self, runner: SinkTaskRunner) -> None:
        self.runner = runner

    def configs(self) -> Mapping[str, str]:
        return self.runner.setup.task_config

    def offset(self, offsets: Mapping[TopicPartition, int]) -> None:
        self.runner.rewinds.update(offsets)

    def timeout(self, timeout_ms: int) -> None:
        self.runner.retry_timeout_ms = timeout_ms

    def assignment(self) -> set[TopicPartition]:
        return set(self.runner.assigned)

    def pause(self, *partitions: TopicPartition) -> None:
        self.runner.consumer_pause(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.runner.consumer_resume(partitions)

    def request_commit(self) -> None:
        self.runner.commit_requested = True

    def errant_record_reporter(self) -> ErrantRecordReporter | None:
        return _Reporter(self.runner)


class SinkTaskRunner(TaskRunner):
    def __init__(self, task_id: ConnectorTaskId, setup: TaskSetup, listener: StateListener) -> None:
        super().__init__(task_id, listener)
        self.setup = setup
        self.task: SinkTask | None = None
        self.consumer: Consumer | None = None
        self.dlq: DeadLetterQueue | None = None
        self.assigned: set[TopicPartition] = set()
        self.current: dict[TopicPartition, int] = {}
        self.batch_offsets: dict[TopicPartition, int] = {}
        self.committed: dict[TopicPartition, int] = {}
        self.rewinds: dict[TopicPartition, int] = {}
        self.retry_timeout_ms = -1
        self.commit_requested = False
        self.consumed_by_record: dict[int, ConsumedRecord] = {}
        self.records_put = 0
        self.topics_seen: set[str] = set()

    # -- setup -----------------------------------------------------------------------------------

    def initialize(self) -> None:
        setup = self.setup
        self.converters = setup.converters()
        self.chain = setup.chain()
        self.policy = setup.policy()
        if self.policy.dlq_topic:
            producer = Producer(
                {"linger.ms": 5, **setup.producer_config, "enable.idempotence": True, "acks": "all"}
            )
            self.dlq = DeadLetterQueue(self.policy, producer, setup.admin_config, owns_producer=True)
        self.operator = build_operator(setup, self.id.task, self.policy, self.dlq, self.stopping.is_set)
        task_cls = setup.task_class()
        self.task_class_name = class_name(task_cls)
        self.batch_path = not self.chain.stages
        self.converter_names = tuple(
            class_name(type(c)) for c in (self.converters.key, self.converters.value, self.converters.header)
        )
        task = task_cls()
        if not isinstance(task, SinkTask):
            raise ConnectException(f"{self.task_class_name} is not a SinkTask")
        self.task = task
        self.consumer = Consumer(
            {
                "auto.offset.reset": "earliest",
                "partition.assignment.strategy": "cooperative-sticky",
                **setup.consumer_config,
                "group.id": f"connect-{setup.connector}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "client.id": f"connector-consumer-{self.id}",
            }
        )
        task.initialize(_Context(self))
        self.call("start", lambda: task.start(setup.task_config))
        topics = [t.strip() for t in (setup.connector_config.get("topics") or "").split(",") if t.strip()]
        pattern = setup.connector_config.get("topics.regex") or ""
        if pattern:
            re.compile(pattern)
            topics = ["^" + pattern]
        if not topics:
            raise ConnectException("Sink connector needs 'topics' or 'topics.regex'")
        self.consumer.subscribe(
            topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )

    # -- rebalances (called inside consume(), in this thread) -------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        tps = [TopicPartition(p.topic, p.partition) for p in partitions]
        self.assigned.update(tps)
        if self.task is not None and tps:
            self.call("open", lambda: self.task.open(tps))  # type: ignore[union-attr]

    def _on_revoke(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        tps = [TopicPartition(p.topic, p.partition) for p in partitions]
        if not tps:
            return
        if not self.cancelled.is_set():
            try:
                self.commit(only=set(tps))
            except Exception:
                log.exception("%s: commit before revocation failed", self.id)
        if self.task is not None and not self.cancelled.is_set():
            self.call("close", lambda: self.task.close(tps))  # type: ignore[union-attr]
        for tp in tps:
            self.assigned.discard(tp)
            self.current.pop(tp, None)
            self.committed.pop(tp, None)

    def _on_lost(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        tps = [TopicPartition(p.topic, p.partition) for p in partitions]
        if self.task is not None and tps and not self.cancelled.is_set():
            self.call("close", lambda: self.task.close(tps))  # type: ignore[union-attr]
        for tp in tps:
            self.assigned.discard(tp)
            self.current.pop(tp, None)

    def cancel(self) -> None:
        """Abandon a hung task: its consumer leaves the group (from a thread of its own, so the
        herder never waits), so its partitions go to the next runner instead of waiting for
        `max.poll.interval.ms`; nothing of the abandoned task is committed."""
        super().cancel()
        consumer = self.consumer
        if consumer is not None:
            threading.Thread(
                target=_close_quietly, args=(consumer, self.id), daemon=True, name=f"close-{self.id}"
            ).start()

    def consumer_pause(self, partitions: Sequence[TopicPartition]) -> None:
        if self.consumer is not None:
            self.consumer.pause([KafkaTopicPartition(t, p) for t, p in partitions])

    def consumer_resume(self, partitions: Sequence[TopicPartition]) -> None:
        if self.consumer is not None:
            self.consumer.resume([KafkaTopicPartition(t, p) for t, p in partitions])

    # -- main loop -------------------------------------------------------------------------------

    def execute(self) -> None:
        assert self.consumer is not None
        last_commit = time.monotonic()
        paused_all = False
        while not self.stopping.is_set():
            if self.paused.is_set() != paused_all:
                paused_all = self.paused.is_set()
                (self.consumer_pause if paused_all else self.consumer_resume)(sorted(self.assigned))
            self._apply_rewinds()
            messages = self.consumer.consume(MAX_BATCH, 0.1 if paused_all else 0.5)
            if self.cancelled.is_set():
                return
            self.batch_offsets = {}
            records = self._convert(messages)
            if records and not self._deliver(records):
                return  # stopped before put() took the batch: its offsets stay uncommitted
            # only now is every record of the batch handled (delivered, or skipped by the error
            # policy): a failure before this line leaves the offsets where they were
            self.current.update({tp: off for tp, off in self.batch_offsets.items() if tp in self.assigned})
            now = time.monotonic()
            if self.commit_requested or (now - last_commit) * 1000 >= self.setup.offset_flush_interval_ms:
                self.commit_requested = False
                self.commit()
                last_commit = now
        if not self.cancelled.is_set():
            self.commit()

    def _apply_rewinds(self) -> None:
        if not self.rewinds or self.consumer is None:
            return
        rewinds, self.rewinds = self.rewinds, {}
        for tp, offset in rewinds.items():
            if tp in self.assigned:
                self.consumer.seek(KafkaTopicPartition(tp.topic, tp.partition, offset))
                self.current[tp] = offset

    def _convert(self, messages: list[Message]) -> Sequence[SinkRecord]:
        self.consumed_by_record.clear()
        if self.batch_path and messages:
            batch = self._convert_batch(messages)
            if batch is not None:
                return batch
        records: list[SinkRecord] = []
        batch_offsets = self.batch_offsets
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    log.warning("%s: consume error %s", self.id, error)
                    if error.fatal():
                        raise ConnectException(f"Fatal consumer error: {error}")
                continue
            topic, partition, offset = message.topic() or "", message.partition() or 0, message.offset() or 0
            batch_offsets[TopicPartition(topic, partition)] = offset + 1
            if topic not in self.topics_seen:
                self.topics_seen.add(topic)
                self.setup.on_topic(topic)
            raw = message.headers()
            raw_headers: list[tuple[str, bytes | None]] = (
                [
                    (name, value.encode() if isinstance(value, str) else value)
                    for name, value in (raw.items() if isinstance(raw, dict) else raw)
                ]
                if raw
                else []
            )
            consumed = ConsumedRecord(
                topic, partition, offset, message.key(), message.value(), raw_headers, message.timestamp()[1]
            )
            record = self._convert_fast(consumed, message)
            if record is None:
                record = self._convert_one(consumed, message)
            if record is None:
                continue
            self.consumed_by_record[id(record)] = consumed
            records.append(record)
        return records

    def _convert_batch(self, messages: list[Message]) -> SinkBatch | None:
        """The fast path: one topic, no headers, no transforms, no errors: columns of keys and
        values converted in one call each, a few C calls per record, and `SinkRecord`s made only
        if the task looks at them. None sends the batch down the per-record path (which runs
        each stage under the error policy)."""
        if any(map(Message.error, messages)) or any(map(Message.headers, messages)):
            return None
        topics = set(map(Message.topic, messages))
        if len(topics) != 1:
            return None
        topic = topics.pop() or ""
        raw_keys = list(map(Message.key, messages))
        raw_values = list(map(Message.value, messages))
        c = self.converters
        try:
            keys = c.key.to_connect_batch(topic, raw_keys)
            values = c.value.to_connect_batch(topic, raw_values)
        except Exception:
            return None
        partitions = list(map(Message.partition, messages))
        offsets = list(map(Message.offset, messages))
        batch_offsets = self.batch_offsets
        for partition, offset in dict(zip(partitions, offsets, strict=True)).items():  # the last one wins
            batch_offsets[TopicPartition(topic, partition or 0)] = (offset or 0) + 1
        if topic not in self.topics_seen:
            self.topics_seen.add(topic)
            self.setup.on_topic(topic)

        def records() -> list[SinkRecord]:
            out: list[SinkRecord] = []
            for i, message in enumerate(messages):
                ts_type, ts = message.timestamp()
                partition, offset = partitions[i] or 0, offsets[i] or 0
                record = SinkRecord(
                    topic,
                    partition,
                    keys.schema_at(i),
                    keys.values[i],
                    values.schema_at(i),
                    values.values[i],
                    ts if ts_type else None,
                    Headers(),
                    kafka_offset=offset,
                    timestamp_type=_TIMESTAMP_TYPES.get(ts_type, TimestampType.NO_TIMESTAMP_TYPE),
                )
                self.consumed_by_record[id(record)] = ConsumedRecord(
                    topic, partition, offset, raw_keys[i], raw_values[i], [], ts
                )
                out.append(record)
            return out

        return SinkBatch(records, values.schema if values.schemas is None else None, values.values)

    def _sink_record(
        self,
        consumed: ConsumedRecord,
        message: Message,
        key: SchemaAndValue,
        value: SchemaAndValue,
        headers: Headers,
    ) -> SinkRecord:
        ts_type, ts = message.timestamp()
        return SinkRecord(
            consumed.topic,
            consumed.partition,
            key.schema,
            key.value,
            value.schema,
            value.value,
            ts if ts_type else None,
            headers,
            kafka_offset=consumed.offset,
            timestamp_type=_TIMESTAMP_TYPES.get(ts_type, TimestampType.NO_TIMESTAMP_TYPE),
        )

    def _convert_fast(self, consumed: ConsumedRecord, message: Message) -> SinkRecord | None:
        """The common case in one go; any exception (or a dropped record) falls back to
        `_convert_one`, which runs each stage under the error policy."""
        c = self.converters
        topic = consumed.topic
        try:
            key = c.key.to_connect_data(topic, consumed.key)
            value = c.value.to_connect_data(topic, consumed.value)
            headers = (
                Headers(
                    _header(name, c.header.to_connect_header(topic, name, raw))
                    for name, raw in consumed.headers
                )
                if consumed.headers
                else Headers()
            )
            record = self._sink_record(consumed, message, key, value, headers)
            transformed = self.chain.apply(record) if self.chain.stages else record
        except Exception:
            return None
        return transformed  # type: ignore[return-value]

    def _convert_one(self, consumed: ConsumedRecord, message: Message) -> SinkRecord | None:
        c = self.converters
        op = self.operator
        names = self.converter_names
        topic = consumed.topic
        ok, key = op.execute(
            lambda: c.key.to_connect_data(topic, consumed.key),
            Stage.KEY_CONVERTER,
            names[0],
            consumed=consumed,
        )
        if not ok:
            return None
        ok, value = op.execute(
            lambda: c.value.to_connect_data(topic, consumed.value),
            Stage.VALUE_CONVERTER,
            names[1],
            consumed=consumed,
        )
        if not ok:
            return None
        ok, headers = op.execute(
            lambda: Headers(
                _header(name, c.header.to_connect_header(topic, name, raw)) for name, raw in consumed.headers
            ),
            Stage.HEADER_CONVERTER,
            names[2],
            consumed=consumed,
        )
        if not ok or key is None or value is None or headers is None:
            return None
        record = self._sink_record(consumed, message, key, value, headers)
        return self.chain.apply(record, op, consumed)  # type: ignore[return-value]

    def _deliver(self, records: Sequence[SinkRecord]) -> bool:
        """put() the batch; False when the task was stopped before it was taken."""
        assert self.task is not None
        task = self.task
        while not self.stopping.is_set():
            try:
                self.call("put", lambda: task.put(records))
                self.records_put += len(records)
                return True
            except RetriableException as exc:
                delay = self.retry_timeout_ms if self.retry_timeout_ms >= 0 else 1000
                log.info("%s: put() asked to retry (%s); again in %d ms", self.id, exc, delay)
                self.stopping.wait(delay / 1000)
                if self.cancelled.is_set():
                    return False
            except Exception as exc:
                if not self.policy.tolerance_all:
                    raise
                log.warning(
                    "%s: put() of %d records failed (%s); retrying one by one", self.id, len(records), exc
                )
                for record in records:
                    self.operator.execute(
                        lambda r=record: self.call("put", lambda: task.put([r])),  # type: ignore[misc]
                        Stage.TASK_PUT,
                        self.task_class_name,
                        consumed=self.consumed_by_record.get(id(record)),
                    )
                return True
        return False

    def commit(self, only: set[TopicPartition] | None = None) -> None:
        """pre_commit, then commit what it returned (after the DLQ is flushed)."""
        assert self.task is not None and self.consumer is not None
        current = {tp: off for tp, off in self.current.items() if only is None or tp in only}
        if not current:
            return
        task = self.task
        ok, offsets = self.operator.execute(
            lambda: self.call("pre_commit", lambda: task.pre_commit(current)),
            Stage.TASK_COMMIT,
            self.task_class_name,
        )
        if not ok or not offsets:
            return
        if self.dlq is not None:
            self.dlq.flush(self.setup.offset_flush_timeout_ms / 1000)
        to_commit = [
            KafkaTopicPartition(tp.topic, tp.partition, off)
            for tp, off in offsets.items()
            if tp in self.assigned and self.committed.get(tp) != off
        ]
        if not to_commit:
            return
        try:
            self.consumer.commit(offsets=to_commit, asynchronous=False)
        except KafkaException as exc:
            log.warning("%s: offset commit failed: %s", self.id, exc)
            return
        for tp in to_commit:
            self.committed[TopicPartition(tp.topic, tp.partition)] = tp.offset

    def close(self) -> None:
        if self.consumer is not None:
            try:
                if not self.cancelled.is_set():
                    self.consumer.close()
            except Exception:
                log.exception("closing consumer of %s failed", self.id)
        if self.task is not None:
            try:
                self.call("stop", self.task.stop)
            except Exception:
                log.exception("stopping task %s failed", self.id)
        if self.dlq is not None:
            self.dlq.close()
        if hasattr(self, "converters"):
            self.converters.close()
        if hasattr(self, "chain"):
            self.chain.close()


def _close_quietly(consumer: Consumer, task_id: ConnectorTaskId) -> None:
    try:
        consumer.close()
    except Exception as exc:  # the abandoned thread may be using it: nothing more to do
        log.info("%s: closing the abandoned consumer: %s", task_id, exc)


def _header(name: str, converted: Any) -> Any:
    from odradek.connect.api.headers import Header

    return Header(name, converted.schema, converted.value)
