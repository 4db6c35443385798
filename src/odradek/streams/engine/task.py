"""A `Task` runs one sub-topology (or, in the test driver, the whole topology) over records.

It owns the processor instances, their contexts, the task's state stores and punctuation queues, and
the task's stream time (the largest timestamp it has processed). It does no I/O: records come in as
raw bytes through `process`, leave through a `RecordCollector`, and commits are two calls
(`prepare_commit` sends changelog records, `complete_commit` writes stores) the caller puts around
its own offset commit or transaction.

Bad input: a source serde failure goes to the deserialization handler; a negative timestamp is
skipped and counted (`dropped_records`); a processor's exception goes to the processing handler.
A FAIL from any handler raises `StreamsException` out of `process`, and nothing from that record on is
committed (the caller stops before committing).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from odradek.streams.config import StreamsConfig
from odradek.streams.engine import fused
from odradek.streams.engine.collector import RecordCollector
from odradek.streams.engine.context import FailedProcessingException, NodeContext
from odradek.streams.engine.punctuation import PunctuationQueue, Schedule
from odradek.streams.engine.sink import SinkProcessor
from odradek.streams.errors import (
    InvalidStateStoreException,
    ProcessorStateException,
    StreamsException,
    TaskCorruptedException,
)
from odradek.streams.handlers import ErrorHandlerContext, HandlerAction, HandlerResult, make_handler
from odradek.streams.processor import Processor, PunctuationType
from odradek.streams.record import Headers, Record, RecordMetadata
from odradek.streams.state.buffered import BufferedStore
from odradek.streams.topology import ProcessorNode, SinkNode, SourceNode, Topology

log = logging.getLogger("odradek.streams")

_FATAL = (
    ProcessorStateException,
    TaskCorruptedException,
    InvalidStateStoreException,
    FailedProcessingException,
)


_Input = tuple[str, Any, Any, Any, Any, Any, bool, Any, Any, Any]
"""A source topic's entry: source node, its forward, key and value deserialize, timestamp extractor,
the fused stage of its children (None: general path), key bytes as they are, value fast decoder,
key fast decoder, the stage's own value-bytes function (see `fused`; None: decode, then the stage)."""


class _SourceProcessor(Processor):
    def process(self, record: Record[Any, Any]) -> None:  # pragma: no cover - sources only forward
        raise AssertionError


class Task:
    def __init__(
        self,
        task_id: str,
        topology: Topology,
        node_names: Iterable[str],
        stores: Mapping[str, BufferedStore],
        collector: RecordCollector,
        config: StreamsConfig,
        wall_clock: Callable[[], int],
        physical_topic: Callable[[str], str],
    ) -> None:
        self.task_id = task_id
        self.application_id = config.application_id
        self.config = config
        self.topology = topology
        self.stores = dict(stores)
        self.collector = collector
        self.wall_clock_ms = wall_clock
        self.physical_topic = physical_topic
        self.default_key_serde = config.serde("default.key.serde")
        self.default_value_serde = config.serde("default.value.serde")
        self.default_extractor = config["default.timestamp.extractor"]
        dlq = config["errors.dead.letter.queue.topic.name"]
        self.deserialization_handler = make_handler(
            "deserialization", config["deserialization.exception.handler"], dlq
        )
        self.processing_handler = make_handler("processing", config["processing.exception.handler"], dlq)
        self.production_handler = make_handler("production", config["production.exception.handler"], dlq)
        self.idle_timeout_ms = int(config["stream.time.idle.timeout.ms"])

        self.stream_time = -1
        self.partition_time: dict[tuple[str, int], int] = {}
        self._meta: tuple[str, int, int] | None = None
        self.record_headers: Headers | None = None
        self._raw: tuple[bytes | None, bytes | None] = (None, None)
        self.commit_requested = False
        self.processed = 0
        self.dropped_records = 0
        self.last_input_wall_ms = -1
        self._stream_time_at_input = -1
        self.stream_punctuation = PunctuationQueue()
        self.wall_punctuation = PunctuationQueue()

        self._key_serdes: dict[str, Any] = {}
        self._value_serdes: dict[str, Any] = {}
        self.contexts: dict[str, NodeContext] = {}
        self.processors: dict[str, Processor] = {}
        self._sources: dict[str, tuple[SourceNode, NodeContext]] = {}
        self._pattern_sources: list[tuple[SourceNode, NodeContext]] = []
        names = list(node_names)
        for name in names:
            node = topology.nodes[name]
            processor: Processor
            if isinstance(node, SourceNode):
                processor = _SourceProcessor()
                stores_of: list[str] = []
            elif isinstance(node, SinkNode):
                processor = SinkProcessor(node, self)
                stores_of = []
            else:
                processor = node.supplier()
                stores_of = list(node.stores)
            self.processors[name] = processor
            ctx = NodeContext(self, name, processor, stores_of)
            self.contexts[name] = ctx
            if isinstance(node, SourceNode):
                if node.pattern is not None:
                    self._pattern_sources.append((node, ctx))
                for topic in node.topics:
                    physical = physical_topic(topic)
                    self._sources[physical] = (node, ctx)
                    self._key_serdes[physical] = self.resolve_serde(node.key_serde, True)
                    self._value_serdes[physical] = self.resolve_serde(node.value_serde, False)
        for name in names:
            node = topology.nodes[name]
            if isinstance(node, ProcessorNode | SinkNode):
                for parent in node.parents:
                    if parent in self.contexts:
                        self.contexts[parent].add_child(self.contexts[name])
        # children before parents: a node's `forward` calls its children's `process` directly, and a
        # processor may replace its `process` with a specialized closure in `init`
        self._time_listeners: list[Callable[[int], None]] = []
        for name in reversed(names):
            self.contexts[name].finalize()
            node = topology.nodes[name]
            if isinstance(node, ProcessorNode):
                self.processors[name].init(self.contexts[name])
                listener = getattr(self.processors[name], "on_stream_time_advanced", None)
                if listener is not None:
                    self._time_listeners.append(listener)
        counting = str(config.get("metrics.recording.level", "INFO")).upper() == "DEBUG"
        self._stages = fused.StageBuilder(self) if fused.FUSE_STATELESS and not counting else None
        self._inputs: dict[str, _Input] = {}
        for topic in self._sources:
            self._add_input(topic)
        self._order = [self.processors[n] for n in names if isinstance(topology.nodes[n], ProcessorNode)]

    def _add_input(self, topic: str) -> _Input:
        node, ctx = self._sources[topic]
        key_serde, value_serde = self._key_serdes[topic], self._value_serdes[topic]
        extractor = node.timestamp_extractor or self.default_extractor
        stage = None if self._stages is None else self._stages.children_of(node.name)
        build = getattr(stage, "from_bytes", None)
        from_bytes = build(value_serde, self) if build is not None and extractor is None else None
        entry = self._inputs[topic] = (
            node.name,
            ctx.forward,
            key_serde.deserialize,
            value_serde.deserialize,
            extractor,
            stage,
            getattr(key_serde, "raw_bytes", False),
            getattr(value_serde, "fast_decode", None),
            getattr(key_serde, "fast_decode", None),
            from_bytes,
        )
        return entry

    def reads(self, topic: str) -> bool:
        """Whether a record of `topic` goes to a source of this task (by name or by pattern)."""
        return topic in self._sources or self._pattern_source_of(topic) is not None

    def _pattern_source_of(self, topic: str) -> tuple[SourceNode, NodeContext] | None:
        if topic.startswith("__"):
            return None
        for node, ctx in self._pattern_sources:
            if node.pattern is not None and node.pattern.fullmatch(topic):
                return node, ctx
        return None

    def _new_topic(self, topic: str) -> _Input:
        """A topic first seen in this task: a pattern source matched it (new topics of a pattern
        subscription appear while the application runs)."""
        found = self._pattern_source_of(topic)
        if found is None:
            raise StreamsException(f"task {self.task_id} has no source for topic {topic!r}")
        node, _ = found
        self._sources[topic] = found
        self._key_serdes[topic] = self.resolve_serde(node.key_serde, True)
        self._value_serdes[topic] = self.resolve_serde(node.value_serde, False)
        return self._add_input(topic)

    def resolve_serde(self, serde: Any, is_key: bool) -> Any:
        chosen = serde or (self.default_key_serde if is_key else self.default_value_serde)
        return chosen.with_defaults(self.default_key_serde, self.default_value_serde)

    # -- state ----------------------------------------------------------------------------------------

    def store(self, name: str) -> Any:
        store = self.stores.get(name)
        if store is None:
            raise InvalidStateStoreException(f"state store {name!r} is not open in task {self.task_id}")
        return store

    @property
    def record_metadata(self) -> RecordMetadata | None:
        return None if self._meta is None else RecordMetadata(*self._meta)

    def source_topics(self) -> list[str]:
        return list(self._sources)

    # -- processing -----------------------------------------------------------------------------------

    def process(
        self,
        topic: str,
        partition: int,
        offset: int,
        timestamp: int,
        key: bytes | None,
        value: bytes | None,
        headers: Headers | None = None,
    ) -> bool:
        """Process one input record; False when it was skipped (bad input a handler let through)."""
        entry = self._inputs.get(topic)
        if entry is None:
            entry = self._new_topic(topic)
        (
            name,
            forward,
            key_deserialize,
            value_deserialize,
            extractor,
            stage,
            key_raw,
            decode,
            key_decode,
            raw,
        ) = entry
        self._meta = (topic, partition, offset)
        self._raw = (key, value)
        self.record_headers = headers
        try:
            if key_raw:
                k = key
            elif key_decode is not None and key is not None:
                try:
                    k = key_decode(key)
                except Exception:
                    k = key_deserialize(topic, key, headers)
            else:
                k = key_deserialize(topic, key, headers)
        except Exception as exc:
            return self._undecodable(name, timestamp, exc)
        if raw is not None and value is not None and timestamp >= 0 and raw(k, value, timestamp, headers):
            # the stage decoded the value and did the rest itself (False: it did nothing)
            self.processed += 1
            if (
                self.stream_punctuation._heap
                and self.stream_punctuation._heap[0].next_time <= self.stream_time
            ):
                self.punctuate(PunctuationType.STREAM_TIME, self.stream_time)
            return True
        try:
            if decode is not None and value is not None:
                try:
                    v = decode(value)
                except Exception:
                    v = value_deserialize(topic, value, headers)
            else:
                v = value_deserialize(topic, value, headers)
        except Exception as exc:
            return self._undecodable(name, timestamp, exc)
        if extractor is not None:
            tp = (topic, partition)
            timestamp = extractor(k, v, timestamp, self.partition_time.get(tp, -1))
            if timestamp > self.partition_time.get(tp, -1):
                self.partition_time[tp] = timestamp
        if timestamp < 0:
            log.warning("skipping a record with negative timestamp %s at %s-%s@%s", timestamp, *self._meta)
            self.dropped_records += 1
            return False
        if timestamp > self.stream_time:  # noqa: PLR1730 - an if is cheaper than max() per record
            self.stream_time = timestamp
        if stage is not None:
            stage(k, v, timestamp, headers)
        else:
            forward(Record(k, v, timestamp, headers))
        self.processed += 1
        if self.stream_punctuation._heap and self.stream_punctuation._heap[0].next_time <= self.stream_time:
            self.punctuate(PunctuationType.STREAM_TIME, self.stream_time)
        return True

    def _undecodable(self, name: str, timestamp: int, exc: Exception) -> bool:
        self._handle(
            self.deserialization_handler.handle(self._error_context(name, timestamp), exc),
            "deserialization",
            exc,
        )
        self.dropped_records += 1
        return False

    def process_record(
        self, topic: str, record: Record[Any, Any], partition: int = 0, offset: int = -1
    ) -> None:
        """Process an already deserialized record as if it came from `topic` (benchmarks, embedding:
        the SQL engine's inserts). Its timestamp is taken as is."""
        entry = self._inputs.get(topic) or self._new_topic(topic)
        self._meta = (topic, partition, offset)
        self.record_headers = record.headers
        if record.timestamp > self.stream_time:  # noqa: PLR1730 - an if is cheaper than max() per record
            self.stream_time = record.timestamp
        stage = entry[5]
        if stage is not None:
            stage(record.key, record.value, record.timestamp, record.headers)
        else:
            entry[1](record)
        self.processed += 1
        if self.stream_punctuation._heap and self.stream_punctuation._heap[0].next_time <= self.stream_time:
            self.punctuate(PunctuationType.STREAM_TIME, self.stream_time)

    def note_input_wall_time(self, now_ms: int) -> None:
        """The runtime/driver tells when input last arrived (for the idle timeout)."""
        self.last_input_wall_ms = now_ms
        self._stream_time_at_input = self.stream_time

    def _error_context(self, node: str | None, timestamp: int) -> ErrorHandlerContext:
        topic, partition, offset = self._meta if self._meta is not None else (None, None, None)
        return ErrorHandlerContext(
            topic, partition, offset, self.record_headers, node, self.task_id, timestamp, *self._raw
        )

    def _handle(self, result: HandlerResult, what: str, exc: Exception) -> None:
        for dead in result.dead_letter_records:
            self.collector.send(dead.topic, dead.key, dead.value, dead.timestamp, dead.headers, None)
        if result.action is HandlerAction.FAIL:
            raise FailedProcessingException(
                f"{what} error in task {self.task_id}, the {what} exception handler said FAIL: {exc}"
            ) from exc

    def handles(self, exc: StreamsException) -> bool:
        return not isinstance(exc, _FATAL)

    def processing_failed(self, node: str, record: Record[Any, Any], exc: Exception) -> None:
        ctx = self._error_context(node, record.timestamp)
        self._handle(self.processing_handler.handle(ctx, record, exc), "processing", exc)

    def production_failed(self, node: str, record: Any, exc: Exception) -> None:
        ctx = self._error_context(node, getattr(record, "timestamp", self.stream_time))
        self._handle(self.production_handler.handle(ctx, record, exc), "production", exc)

    # -- punctuation and time -------------------------------------------------------------------------

    def schedule(
        self, node: str, interval_ms: int, kind: PunctuationType, callback: Callable[[int], None]
    ) -> Schedule:
        if kind is PunctuationType.STREAM_TIME:
            return self.stream_punctuation.schedule(max(self.stream_time, 0), interval_ms, callback, node)
        return self.wall_punctuation.schedule(self.wall_clock_ms(), interval_ms, callback, node)

    def punctuate(self, kind: PunctuationType, now: int) -> int:
        queue = self.stream_punctuation if kind is PunctuationType.STREAM_TIME else self.wall_punctuation
        fired = queue.due(now)
        saved = (self._meta, self.record_headers, self._raw)
        self._meta, self.record_headers, self._raw = None, None, (None, None)
        try:
            for entry in fired:
                try:
                    entry.callback(now)
                except FailedProcessingException:
                    raise
                except Exception as exc:
                    self.processing_failed(entry.node, Record(None, None, now), exc)
        finally:
            self._meta, self.record_headers, self._raw = saved
        return len(fired)

    def on_wall_clock(self, now_ms: int) -> None:
        """Fire wall-clock punctuators, and advance an idle task's stream time (idle timeout)."""
        self.punctuate(PunctuationType.WALL_CLOCK_TIME, now_ms)
        if self.idle_timeout_ms < 0 or self.last_input_wall_ms < 0 or self._stream_time_at_input < 0:
            return
        idle = now_ms - self.last_input_wall_ms
        if idle >= self.idle_timeout_ms:
            advanced = self._stream_time_at_input + idle
            if advanced > self.stream_time:
                self.stream_time = advanced
                for listener in self._time_listeners:
                    listener(advanced)
                self.punctuate(PunctuationType.STREAM_TIME, advanced)

    # -- commit ---------------------------------------------------------------------------------------

    def prepare_commit(self) -> None:
        """Forward what processors held back, then send the stores' changelog records."""
        for processor in self._order:
            processor.flush()
        for store in self.stores.values():
            store.stream_time = self.stream_time
            store.prepare_commit()
        self.commit_requested = False

    def complete_commit(self) -> None:
        for store in self.stores.values():
            store.complete_commit()

    def commit(self) -> None:
        self.prepare_commit()
        self.complete_commit()

    def abort(self) -> None:
        for store in self.stores.values():
            store.abort()

    def dirty_entries(self) -> int:
        return sum(store.dirty_count() for store in self.stores.values())

    def close(self) -> None:
        for processor in self._order:
            try:
                processor.close()
            except Exception:
                log.exception("closing a processor of task %s", self.task_id)
        for store in self.stores.values():
            store.close()

    def dropped_records_total(self) -> int:
        """Every record this task dropped, as Kafka Streams' `dropped-records` task metric: bad
        input a handler skipped or a negative timestamp (`dropped_records`), plus what processors
        dropped - late records of windows and joins (older than the window's grace or retention),
        `None` keys where one is needed, table updates older than a versioned table's history."""
        total = self.dropped_records
        for processor in self._order:
            total += getattr(processor, "late_records", 0) + getattr(processor, "skipped", 0)
            total += getattr(processor, "expired", 0)
        return total

    def node_counts(self) -> dict[str, tuple[int, int]]:
        """node -> (records in, records out); a node's input is what its parents forwarded to all
        their children, plus what was forwarded to it by name."""
        received = {name: ctx.named_in for name, ctx in self.contexts.items()}
        for ctx in self.contexts.values():
            for _, child in ctx.children:
                received[child.name] += ctx.forwarded
        out = {}
        for name, ctx in self.contexts.items():
            named = {child.name: child.named_in for _, child in ctx._by_name.values()}
            out[name] = (received[name], ctx.forwarded * len(ctx.children) + sum(named.values()))
        return out
