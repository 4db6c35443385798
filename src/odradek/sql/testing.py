"""`SqlTestDriver`: run SQL statements on `odradek.streams`' TopologyTestDriver, with no broker.

    with SqlTestDriver() as sql:
        sql.execute("CREATE STREAM orders (id INT KEY, amount DOUBLE) WITH (kafka_topic='orders', partitions=1);")
        sql.execute("CREATE STREAM big AS SELECT id, amount FROM orders WHERE amount > 10;")
        sql.produce("orders", {"ID": 1}, {"AMOUNT": 20.0}, timestamp=1000)
        assert sql.read("big") == [({"ID": 1}, {"AMOUNT": 20.0})]

Every persistent query runs in its own driver (one topology per query, as on a server); a record
written to a topic is handed to every query reading it, so queries chain (a CSAS reading another
CSAS's sink) in one call. Keys and values are given and returned as dicts of columns, through the
source's real serdes (JSON, KAFKA, DELIMITED; AVRO, PROTOBUF, JSON_SR with `registry=`), so the bytes are exactly what a broker would hold.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from odradek.sql.compiler.registry_serdes import SchemaRegistry
from odradek.sql.compiler.serdes import source_serdes
from odradek.sql.compiler.topology import QueryCompiler
from odradek.sql.engine.engine import Engine, NoKafka, Session
from odradek.sql.functions import FunctionRegistry, builtin_registry
from odradek.sql.metastore import DataSource
from odradek.sql.schema import Column
from odradek.streams.testing import TopologyTestDriver
from odradek.streams.windows import Windowed


class _RegistryView(NoKafka):
    """Topics known to nobody, schemas from the registry (CREATE without columns infers them)."""

    def __init__(self, registry: SchemaRegistry) -> None:
        super().__init__()
        self.registry = registry

    def infer_schema(
        self, topic: str, value_format: str, key: bool, schema_id: int | None
    ) -> list[Column] | None:
        try:
            return self.registry.infer(topic, value_format, key, schema_id)
        except Exception:
            return None


@dataclass
class _Running:
    query_id: str
    driver: TopologyTestDriver
    inputs: set[str]
    output: str
    store: str | None


@dataclass
class TopicLog:
    records: list[tuple[bytes | None, bytes | None, int]] = field(default_factory=list)


class SqlTestDriver:
    def __init__(
        self,
        functions: FunctionRegistry | None = None,
        config: dict[str, str] | None = None,
        registry: SchemaRegistry | None = None,
    ) -> None:
        self.registry = registry  # AVRO, PROTOBUF, JSON_SR (e.g. SchemaRegistry("mock://test"))
        if registry is not None:
            config = {"ksql.schema.registry.url": registry.url or "mock://", **(config or {})}
        self.engine = Engine(functions or builtin_registry(), config)
        self.session = Session()
        self.kafka = NoKafka() if registry is None else _RegistryView(registry)
        self.topics: dict[str, TopicLog] = defaultdict(TopicLog)
        self.read_positions: dict[str, int] = defaultdict(int)
        self.queries: dict[str, _Running] = {}
        self.wall_clock_ms = 0

    # -- statements ----------------------------------------------------------------------------------------

    def execute(self, text: str) -> list[Any]:
        results: list[Any] = []
        for stmt in self.engine.parse(text, self.session):
            out = self.engine.execute(stmt, self.session, self.kafka)
            if out.command is not None:
                message, _query_id, effects = self.engine.apply(out.command, 0)
                for spec in effects.create_topics:
                    self.kafka.known[spec.name] = spec.partitions
                for qid in effects.stop_queries:
                    self._stop(qid)
                for qid in effects.start_queries:
                    self._start(qid)
                results.append(message)
            elif out.insert is not None:
                target, keys, values, rowtime = out.insert
                self.produce(target.name, keys, values, timestamp=rowtime or self.wall_clock_ms)
                results.append(None)
            else:
                results.append(out.entity)
        return results

    def _start(self, query_id: str) -> None:
        plan = self.engine.plans[query_id]
        compiled = QueryCompiler(query_id, self.registry).compile_persistent(plan.planned, plan.sink)
        driver = TopologyTestDriver(
            compiled.topology,
            {
                "application.id": f"_confluent-ksql-default_query_{query_id}",
                "processing.guarantee": "exactly_once_v2",
                # as the server: a record a query cannot process is logged and skipped
                "processing.exception.handler": self.engine.config.get(
                    "processing.exception.handler", "log_and_continue"
                ),
                "deserialization.exception.handler": "log_and_continue",
            },
            initial_wall_clock_ms=self.wall_clock_ms,
        )
        inputs = {s.topic for s in plan.planned.sources}
        self.queries[query_id] = _Running(query_id, driver, inputs, plan.sink.topic, compiled.store)
        # a query starts from the beginning of its input topics (auto.offset.reset=earliest)
        for topic in inputs:
            for key, value, ts in list(self.topics[topic].records):
                self._feed(self.queries[query_id], topic, key, value, ts)

    def _stop(self, query_id: str) -> None:
        running = self.queries.pop(query_id, None)
        if running is not None:
            running.driver.close()

    def close(self) -> None:
        for qid in list(self.queries):
            self._stop(qid)

    def __enter__(self) -> SqlTestDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- records -------------------------------------------------------------------------------------------

    def source(self, name: str) -> DataSource:
        source = self.engine.metastore.source(name.upper()) or self.engine.metastore.source(name)
        if source is None:
            raise KeyError(name)
        return source

    def produce(
        self, source_name: str, key: dict[str, Any] | None, value: dict[str, Any] | None, timestamp: int = 0
    ) -> None:
        """Write one record to a source's topic (key/value as {column: value}; None value = tombstone)."""
        source = self.source(source_name)
        k_serde, v_serde = source_serdes(source, self.registry)
        key_tuple = tuple((key or {}).get(c.name) for c in source.schema.key) if source.schema.key else ()
        kb = k_serde.serialize(source.topic, key_tuple if source.schema.key else None)
        vb = None if value is None else v_serde.serialize(source.topic, value)
        self._write(source.topic, kb, vb, timestamp)

    def produce_raw(self, topic: str, key: bytes | None, value: bytes | None, timestamp: int = 0) -> None:
        """Write one record of bytes to a topic (as another client would)."""
        self._write(topic, key, value, timestamp)

    def raw(self, topic: str) -> list[tuple[bytes | None, bytes | None, int]]:
        """Every record written to a topic so far, as bytes (key, value, timestamp)."""
        return list(self.topics[topic].records)

    def _write(self, topic: str, key: bytes | None, value: bytes | None, ts: int) -> None:
        pending: deque[tuple[str, bytes | None, bytes | None, int]] = deque([(topic, key, value, ts)])
        while pending:
            t, k, v, stamp = pending.popleft()
            self.topics[t].records.append((k, v, stamp))
            for running in list(self.queries.values()):
                if t in running.inputs:
                    running.driver.pipe(t, k, v, stamp)
                    pending.extend((running.output, *out) for out in self._drain(running))

    def _feed(self, running: _Running, topic: str, key: bytes | None, value: bytes | None, ts: int) -> None:
        running.driver.pipe(topic, key, value, ts)
        for out in self._drain(running):
            self._write(running.output, *out)

    def _drain(self, running: _Running) -> list[tuple[bytes | None, bytes | None, int]]:
        out: list[tuple[bytes | None, bytes | None, int]] = []
        while True:
            raw = running.driver.read_raw(running.output)
            if raw is None:
                return out
            out.append((raw.key, raw.value, raw.timestamp))

    def advance_time(self, ms: int) -> None:
        """Move every query's wall clock (punctuators fire; idle windows close)."""
        self.wall_clock_ms += ms
        for running in list(self.queries.values()):
            running.driver.advance_wall_clock_time(ms)
            for out in self._drain(running):
                self._write(running.output, *out)

    def read(self, source_name: str, *, with_timestamps: bool = False) -> list[Any]:
        """The records written to a source's topic since the last read, as (key dict, value dict)."""
        source = self.source(source_name)
        k_serde, v_serde = source_serdes(source, self.registry)
        log = self.topics[source.topic].records
        start = self.read_positions[source.topic]
        self.read_positions[source.topic] = len(log)
        out: list[Any] = []
        for kb, vb, ts in log[start:]:
            key = k_serde.deserialize(source.topic, kb)
            key_dict: Any
            if isinstance(key, Windowed):
                key_dict = (
                    dict(zip([c.name for c in source.schema.key], key.key, strict=True)),
                    key.window.start,
                    key.window.end,
                )
            elif source.schema.key:
                key_dict = (
                    dict(zip([c.name for c in source.schema.key], key, strict=True))
                    if key is not None
                    else None
                )
            else:
                key_dict = None
            value = None if vb is None else v_serde.deserialize(source.topic, vb)
            out.append((key_dict, value, ts) if with_timestamps else (key_dict, value))
        return out

    def store(self, query_id: str) -> Any:
        running = self.queries[query_id]
        assert running.store is not None
        return running.driver.get_state_store(running.store)
