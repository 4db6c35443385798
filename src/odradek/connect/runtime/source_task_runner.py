"""Running a source task: poll → transform → convert → produce, and storing source offsets.

At least once (default): records are produced by an idempotent producer; every
`offset.flush.interval.ms` the producer is flushed, then the offsets of everything polled are
written to the offset store and `task.commit()` is called. A record is never counted as done
before its write was acknowledged, so a crash re-delivers, never skips.

Exactly once (`exactly.once.source.support=enabled`, KIP-618): the task's producer is
transactional with `transactional.id = <group.id>-<connector>-<task>`; `init_transactions` fences
any zombie with the same id. Records and their source offsets (written to the offsets topic by
the same producer) commit in one transaction, at the boundary `transaction.boundary` names: after
each poll() (`poll`), every `transaction.boundary.interval.ms` (`interval`), or when the task asks
through its `TransactionContext` (`connector`; a transaction still open when the task stops is
aborted). Any failure aborts the open transaction and fails the task; after a restart the task resumes from the last committed offsets: no duplicate, no gap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer

from odradek.connect.api.batches import SourceBatch
from odradek.connect.api.connector import SourceTask
from odradek.connect.api.context import OffsetStorageReader, SourceTaskContext, TransactionContext
from odradek.connect.api.errors import ConfigException, ConnectException
from odradek.connect.api.records import RecordMetadata, SourceRecord
from odradek.connect.runtime.errors import Stage, ToleranceExceeded
from odradek.connect.runtime.offset_keys import canonical_json, offset_key, offset_value
from odradek.connect.runtime.plugins import class_name
from odradek.connect.runtime.task_runner import ConnectorTaskId, StateListener, StopTask, TaskRunner
from odradek.connect.runtime.task_setup import DeadLetterQueue, TaskSetup, build_operator
from odradek.connect.runtime.topic_creation import TopicCreator, parse_groups, uses_topic_creation

log = logging.getLogger("odradek.connect.source")
METADATA_WAIT_S = 30.0


class _Context(SourceTaskContext):
    def __init__(self, runner: SourceTaskRunner) -> None:
        self.runner = runner

    def configs(self) -> Mapping[str, str]:
        return self.runner.setup.task_config

    def offset_storage_reader(self) -> OffsetStorageReader:
        store = self.runner.setup.offset_store
        if store is None:
            raise ConnectException("No offset store")
        return store.reader(self.runner.setup.connector)

    def transaction_context(self) -> TransactionContext | None:
        return self.runner.transaction_context


class _TransactionContext(TransactionContext):
    def __init__(self) -> None:
        self.commit_requested = False
        self.abort_requested = False
        self.commit_after: SourceRecord | None = None
        self.abort_after: SourceRecord | None = None

    def commit_transaction(self, record: SourceRecord | None = None) -> None:
        if record is None:
            self.commit_requested = True
        else:
            self.commit_after = record

    def abort_transaction(self, record: SourceRecord | None = None) -> None:
        if record is None:
            self.abort_requested = True
        else:
            self.abort_after = record


class SourceTaskRunner(TaskRunner):
    def __init__(self, task_id: ConnectorTaskId, setup: TaskSetup, listener: StateListener) -> None:
        super().__init__(task_id, listener)
        self.setup = setup
        self.task: SourceTask | None = None
        self.producer: Producer | None = None
        self.dlq: DeadLetterQueue | None = None
        self.staged: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {}
        self.delivery_errors: list[tuple[SourceRecord | None, Any]] = []
        self.eos = setup.exactly_once
        self.boundary = (setup.connector_config.get("transaction.boundary") or "poll").lower()
        interval = setup.connector_config.get("transaction.boundary.interval.ms")
        self.boundary_interval_ms = int(interval) if interval else setup.offset_flush_interval_ms
        self.transaction_context = (
            _TransactionContext() if self.eos and self.boundary == "connector" else None
        )
        self.in_transaction = False
        self.records_sent = 0
        self.topics_seen: set[str] = set()
        self.topics_produced: set[str] = set()
        self.topics_ready: set[str] = set()
        self._last_partition: dict[str, Any] | None = None
        self._last_partition_key = ""

    # -- setup -----------------------------------------------------------------------------------

    def initialize(self) -> None:
        setup = self.setup
        self.converters = setup.converters()
        self.chain = setup.chain()
        self.policy = setup.policy()
        task_cls = setup.task_class()
        self.wants_metadata = getattr(task_cls, "commit_record", None) is not SourceTask.commit_record
        config: dict[str, Any] = {
            "linger.ms": 5,
            "partitioner": "murmur2_random",
            **setup.producer_config,
            "enable.idempotence": True,
            "acks": "all",
            # one callback for the producer, called only for failures unless the task wants each
            # record's metadata (then each record brings its own)
            "on_delivery": self._on_delivery,
            "delivery.report.only.error": not self.wants_metadata,
        }
        if self.eos:
            if not setup.transactional_id:
                raise ConnectException("exactly-once source task without a transactional id")
            config["transactional.id"] = setup.transactional_id
            config.setdefault("transaction.timeout.ms", 60_000)
        self.producer = Producer(config)
        if self.eos:
            self.call("init_transactions", lambda: self.producer.init_transactions(30))  # type: ignore[union-attr]
        if self.policy.dlq_topic:
            self.dlq = DeadLetterQueue(self.policy, self.producer, setup.admin_config, owns_producer=False)
        self.operator = build_operator(setup, self.id.task, self.policy, self.dlq, self.stopping.is_set)
        self.task_class_name = class_name(task_cls)
        self.topic_creator = self._topic_creator()
        self.batch_path = (
            not self.chain.stages and not self.wants_metadata and self.transaction_context is None
        )
        self.converter_names = tuple(
            class_name(type(c)) for c in (self.converters.key, self.converters.value, self.converters.header)
        )
        self.task = task_cls()  # type: ignore[assignment]
        if not isinstance(self.task, SourceTask):
            raise ConnectException(f"{self.task_class_name} is not a SourceTask")
        self.task.initialize(_Context(self))
        self.call("start", lambda: self.task.start(setup.task_config))  # type: ignore[union-attr]

    def _topic_creator(self) -> TopicCreator | None:
        config = self.setup.connector_config
        if not uses_topic_creation(config):
            return None
        if not self.setup.topic_creation_enabled:
            log.warning(
                "%s: topic.creation.* settings are ignored: the worker has topic.creation.enable=false",
                self.id,
            )
            return None
        groups, errors = parse_groups(config)
        if errors:
            key, found = next(iter(errors.items()))
            raise ConfigException(key, config.get(key), "; ".join(found))
        return TopicCreator(groups, self.setup.admin_config)

    def _topic_ready(self, topic: str) -> None:
        """Before the first record to a topic: KIP-158 creation, when the connector asks for it."""
        creator = self.topic_creator
        if creator is not None:
            self.call("topic creation", lambda: creator.ensure(topic))
        self.topics_ready.add(topic)

    # -- main loop -------------------------------------------------------------------------------

    def execute(self) -> None:
        assert self.task is not None and self.producer is not None
        last_commit = time.monotonic()
        while not self.stopping.is_set():
            if self.paused.is_set():
                self.commit_offsets()
                if not self.wait_while_paused():
                    break
            ok, batch = self.operator.execute(
                lambda: self.call("poll", self.task.poll),  # type: ignore[union-attr]
                Stage.TASK_POLL,
                self.task_class_name,
            )
            if self.cancelled.is_set():
                return
            if ok and batch:
                self.send(batch)
            self.producer.poll(0)
            self._check_delivery_errors()
            now = time.monotonic()
            if self.eos:
                if self._transaction_boundary_reached(bool(batch), now - last_commit):
                    self.commit_transaction()
                    last_commit = now
            elif (now - last_commit) * 1000 >= self.setup.offset_flush_interval_ms:
                self.commit_offsets()
                last_commit = now
        if not self.cancelled.is_set():
            if self.eos and self.boundary == "connector":
                self.abort_transaction()  # only the connector decides where a transaction ends
            elif self.eos:
                self.commit_transaction()
            else:
                self.commit_offsets()

    def _transaction_boundary_reached(self, polled: bool, elapsed_s: float) -> bool:
        if not self.in_transaction:
            return False
        if self.boundary == "poll":
            return polled
        if self.boundary == "interval":
            return elapsed_s * 1000 >= self.boundary_interval_ms
        context = self.transaction_context
        assert context is not None
        if context.abort_requested:
            context.abort_requested = False
            self.abort_transaction()
            return False
        if context.commit_requested:
            context.commit_requested = False
            return True
        return False

    def send(self, batch: Sequence[SourceRecord]) -> None:
        if self.batch_path and isinstance(batch, SourceBatch) and self._send_batch(batch):
            return
        producer = self.producer
        assert producer is not None
        context = self.transaction_context
        for record in batch:
            if self.cancelled.is_set():
                raise StopTask()
            self._stage_offset(record)
            produced = self._convert_fast(record)
            if produced is None:
                produced = self._convert(record)
            if produced is None:
                self.call("commit_record", lambda r=record: self.task.commit_record(r, None))  # type: ignore[misc,union-attr]
                continue
            if self.eos and not self.in_transaction:
                producer.begin_transaction()
                self.in_transaction = True
            topic, kwargs = produced
            if topic not in self.topics_ready:
                self._topic_ready(topic)
            self.topics_produced.add(topic)
            if self.wants_metadata:  # a closure per record only when the task wants its metadata
                kwargs["on_delivery"] = self._delivered(record)
            deadline = 0.0
            while True:
                try:
                    producer.produce(topic, **kwargs)
                    break
                except BufferError:
                    producer.poll(0.05)
                except KafkaException as exc:
                    if self._wait_for_metadata(exc, deadline):
                        deadline = deadline or time.monotonic() + METADATA_WAIT_S
                        continue
                    self._produce_failed(record, exc)
                    break
            self.records_sent += 1
            if context is not None:
                # the transaction ends right after this record: the rest of the batch opens the next
                if context.abort_after is record:
                    context.abort_after = None
                    self.abort_transaction()
                elif context.commit_after is record:
                    context.commit_after = None
                    self.commit_transaction()

    def _send_batch(self, batch: SourceBatch) -> bool:
        """The fast path: a column converted in one call, a positional produce() per record and
        nothing else. False (nothing sent) when a converter refused the column: the per-record path
        then runs each stage under the error policy."""
        count = len(batch.values)
        if not count:
            return True
        c = self.converters
        topic = batch.topic
        try:
            values = c.value.from_connect_batch(topic, batch.value_schema, batch.values, batch.text_values)
            if batch.keys is None:  # converters are pure: a column of nulls is one call
                keys = [c.key.from_connect_data(topic, batch.key_schema, None)] * count
            else:
                keys = c.key.from_connect_batch(topic, batch.key_schema, batch.keys)
        except Exception:
            return False
        producer = self.producer
        assert producer is not None
        if batch.source_partition is not None and batch.source_offsets:
            self._stage(batch.source_partition, batch.last_source_offset)
        if topic not in self.topics_ready:
            self._topic_ready(topic)
        if self.eos and not self.in_transaction:
            producer.begin_transaction()
            self.in_transaction = True
        self.topics_produced.add(topic)
        produce = producer.produce
        partition = -1 if batch.kafka_partition is None else batch.kafka_partition
        stamps = batch.timestamps
        index = 0
        deadline = 0.0
        while index < count:
            try:
                if stamps is None:
                    while index < count:
                        produce(topic, values[index], keys[index], partition)
                        index += 1
                else:
                    while index < count:
                        stamp = stamps[index]
                        produce(topic, values[index], keys[index], partition, timestamp=stamp or 0)
                        index += 1
            except BufferError:
                producer.poll(0.05)
            except KafkaException as exc:
                if self._wait_for_metadata(exc, deadline):
                    deadline = deadline or time.monotonic() + METADATA_WAIT_S
                    continue
                self._produce_failed(batch[index], exc)
                index += 1
            if self.cancelled.is_set():
                raise StopTask()
        self.records_sent += count
        return True

    def _wait_for_metadata(self, exc: KafkaException, deadline: float) -> bool:
        """A topic just created (or grown) may not be in the client's metadata yet: wait a little."""
        code = exc.args[0].code() if exc.args else None
        if code not in (KafkaError._UNKNOWN_PARTITION, KafkaError._UNKNOWN_TOPIC) or self.stopping.is_set():
            return False
        if deadline and time.monotonic() >= deadline:
            return False
        assert self.producer is not None
        self.producer.poll(0.1)
        return True

    def _stage(self, partition: dict[str, Any], offset: dict[str, Any] | None) -> None:
        # tasks usually reuse one partition dict: its JSON key is computed once
        if partition is self._last_partition:
            key = self._last_partition_key
        else:
            key = canonical_json(partition)
            self._last_partition, self._last_partition_key = partition, key
        self.staged[key] = (partition, offset)

    def _stage_offset(self, record: SourceRecord) -> None:
        partition = record.source_partition
        if partition is None or record.source_offset is None:
            return
        self._stage(partition, record.source_offset)

    def _convert_fast(self, record: SourceRecord) -> tuple[str, dict[str, Any]] | None:
        """The common case in one go: no error, so no per-stage bookkeeping. Any exception (or a
        dropped record) falls back to `_convert`, which runs the stages one by one under the error
        policy (converters and transforms are pure, so running them again is harmless)."""
        try:
            transformed = self.chain.apply(record) if self.chain.stages else record
            if transformed is None:
                return None
            c = self.converters
            topic = transformed.topic
            headers = transformed.headers
            kwargs: dict[str, Any] = {
                "key": c.key.from_connect_data(topic, transformed.key_schema, transformed.key, headers),
                "value": c.value.from_connect_data(
                    topic, transformed.value_schema, transformed.value, headers
                ),
            }
            if len(headers):
                kwargs["headers"] = [
                    (h.key, c.header.from_connect_header(topic, h.key, h.schema, h.value)) for h in headers
                ]
        except Exception:
            return None
        if transformed.kafka_partition is not None:
            kwargs["partition"] = transformed.kafka_partition
        if transformed.timestamp is not None and transformed.timestamp >= 0:
            kwargs["timestamp"] = transformed.timestamp
        return topic, kwargs

    def _convert(self, record: SourceRecord) -> tuple[str, dict[str, Any]] | None:
        transformed = self.chain.apply(record, self.operator)
        if transformed is None:
            return None
        op = self.operator
        c = self.converters
        names = self.converter_names
        ok, key = op.execute(
            lambda: c.key.from_connect_data(
                transformed.topic, transformed.key_schema, transformed.key, transformed.headers
            ),
            Stage.KEY_CONVERTER,
            names[0],
            source_record=transformed,
        )
        if not ok:
            return None
        ok, value = op.execute(
            lambda: c.value.from_connect_data(
                transformed.topic, transformed.value_schema, transformed.value, transformed.headers
            ),
            Stage.VALUE_CONVERTER,
            names[1],
            source_record=transformed,
        )
        if not ok:
            return None
        ok, headers = op.execute(
            lambda: [
                (h.key, c.header.from_connect_header(transformed.topic, h.key, h.schema, h.value))
                for h in transformed.headers
            ],
            Stage.HEADER_CONVERTER,
            names[2],
            source_record=transformed,
        )
        if not ok:
            return None
        kwargs: dict[str, Any] = {"key": key, "value": value}
        if headers:
            kwargs["headers"] = headers
        if transformed.kafka_partition is not None:
            kwargs["partition"] = transformed.kafka_partition
        if transformed.timestamp is not None and transformed.timestamp >= 0:
            kwargs["timestamp"] = transformed.timestamp
        return transformed.topic, kwargs

    def _on_delivery(self, err: Any, msg: Any) -> None:
        """The producer's callback: failures only (unless the task wants each record's metadata)."""
        if err is not None:
            self.delivery_errors.append((None, err))

    def _note_topics(self) -> None:
        """KIP-558: topics become active once records written to them were acknowledged."""
        for topic in self.topics_produced - self.topics_seen:
            self.topics_seen.add(topic)
            self.setup.on_topic(topic)
        self.topics_produced.clear()

    def _delivered(self, record: SourceRecord) -> Any:
        def callback(err: Any, msg: Any) -> None:
            if err is not None:
                self.delivery_errors.append((record, err))
                return
            if self.task is not None and not self.cancelled.is_set():
                metadata = RecordMetadata(msg.topic(), msg.partition(), msg.offset(), msg.timestamp()[1])
                try:
                    self.task.commit_record(record, metadata)
                except Exception:
                    log.exception("commit_record failed in %s", self.id)

        return callback

    def _produce_failed(self, record: SourceRecord | None, error: Any) -> None:
        where = record.topic if record is not None else "its topic"

        def fail() -> None:
            raise ConnectException(f"Failed to produce record to {where}: {error}")

        if self.eos:
            self.abort_transaction()
            fail()
        self.operator.execute(fail, Stage.KAFKA_PRODUCE, "confluent_kafka.Producer", source_record=record)

    def _check_delivery_errors(self) -> None:
        while self.delivery_errors:
            record, error = self.delivery_errors.pop(0)
            self._produce_failed(record, error)

    # -- offsets ---------------------------------------------------------------------------------

    def commit_offsets(self) -> None:
        """At least once: flush, then store the offsets of everything polled so far."""
        assert self.producer is not None and self.task is not None
        remaining = self.producer.flush(self.setup.offset_flush_timeout_ms / 1000)
        if remaining:
            log.warning(
                "%s: %d records still unacknowledged after offset.flush.timeout.ms; offsets not committed",
                self.id,
                remaining,
            )
            return
        self._check_delivery_errors()
        self._note_topics()
        if self.staged and self.setup.offset_store is not None:
            staged, self.staged = self.staged, {}
            ok, _ = self.operator.execute(
                lambda: self.setup.offset_store.write(self.setup.connector, staged),  # type: ignore[union-attr]
                Stage.TASK_COMMIT,
                "OffsetStorageWriter",
            )
            if not ok:
                self.staged = {**staged, **self.staged}
        task = self.task
        self.operator.execute(
            lambda: self.call("commit", task.commit), Stage.TASK_COMMIT, self.task_class_name
        )

    def commit_transaction(self) -> None:
        """Exactly once: the offsets go into the open transaction, then it commits."""
        assert self.producer is not None and self.task is not None
        if not self.in_transaction:
            if not self.staged:
                return
            self.producer.begin_transaction()
            self.in_transaction = True
        try:
            for partition, offset in self.staged.values():
                self.producer.produce(
                    self.setup.offsets_topic or "",
                    key=offset_key(self.setup.connector, partition),
                    value=offset_value(offset),
                )
            self.call("commit_transaction", lambda: self.producer.commit_transaction(60))  # type: ignore[union-attr]
        except (KafkaException, ToleranceExceeded, ConnectException) as exc:
            self.abort_transaction()
            raise ConnectException(f"Failed to commit the transaction of {self.id}: {exc}") from exc
        self.in_transaction = False
        self._check_delivery_errors()
        self._note_topics()
        committed, self.staged = self.staged, {}
        own_topic = self.setup.offsets_topic != self.setup.worker_props.get("offset.storage.topic")
        if own_topic and self.setup.offset_store is not None:  # KIP-618: a copy in the worker's topic
            try:
                self.setup.offset_store.mirror(self.setup.connector, committed)
            except Exception as exc:  # a best-effort copy: the connector's own topic has them
                log.warning("%s: copying offsets to the worker's offsets topic failed: %s", self.id, exc)
        task = self.task
        self.operator.execute(
            lambda: self.call("commit", task.commit), Stage.TASK_COMMIT, self.task_class_name
        )

    def abort_transaction(self) -> None:
        if self.producer is None or not self.in_transaction:
            return
        try:
            self.producer.abort_transaction(30)
        except KafkaException as exc:
            log.warning("%s: abort_transaction failed: %s", self.id, exc)
        self.in_transaction = False
        self.staged = {}

    def close(self) -> None:
        if self.task is not None:
            try:
                self.call("stop", self.task.stop)
            except Exception:
                log.exception("stopping task %s failed", self.id)
        if self.producer is not None:
            if self.in_transaction:
                self.abort_transaction()
            self.producer.flush(5)
        self.chain.close() if hasattr(self, "chain") else None
        if hasattr(self, "converters"):
            self.converters.close()
